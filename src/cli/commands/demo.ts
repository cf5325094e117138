import { execFile } from "node:child_process";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { formatDuration } from "../../core/duration.js";
import { demoRepoFiles } from "../../demo/demo-repo.js";
import { addTask } from "../../engine/operations.js";
import { readCliEnv } from "../env.js";
import { EXIT, ExitError } from "../exit-error.js";
import type { CommandInput } from "../main.js";
import { pipelineFor, withApp } from "./common.js";
import { drivePipeline, printSummary } from "./drive.js";

const run = promisify(execFile);

async function git(cwd: string, args: string[]): Promise<void> {
  await run("git", args, { cwd, env: { ...process.env, GIT_TERMINAL_PROMPT: "0" } });
}

/**
 * `baton demo`: a throwaway repository with a real bug and a failing test, and a pipeline
 * (plan → implement with a test gate → review) run on it by a scripted agent. Offline; its
 * state lives in the temp folder, not in your BATON_HOME.
 */
export function demoCommand() {
  return async (input: CommandInput): Promise<void> => {
    const { out } = input;
    const base = await mkdtemp(join(tmpdir(), "baton-demo-"));
    const repo = join(base, "stats-demo");
    const home = join(base, "baton-home");
    const agent = resolve(
      dirname(fileURLToPath(import.meta.url)),
      "..",
      "..",
      "demo",
      "scripted-agent.js",
    );
    out.line(out.paint("bold", "Baton demo"));
    out.line(`A small repository with a bug in median(): ${repo}`);
    out.line(
      out.paint(
        "dim",
        "The agent is scripted (no model, no network): it fixes the bug wrongly once, the test gate",
      ),
    );
    out.line(
      out.paint("dim", "fails, and a fix round gets the failing output and finishes the job."),
    );
    out.line();
    for (const [path, content] of Object.entries(demoRepoFiles(agent))) {
      await mkdir(dirname(join(repo, path)), { recursive: true });
      await writeFile(join(repo, path), content);
    }
    await git(repo, ["init", "-q", "-b", "main"]);
    await git(repo, ["add", "-A"]);
    await git(repo, [
      "-c",
      "user.name=Baton Demo",
      "-c",
      "user.email=demo@baton.invalid",
      "commit",
      "-q",
      "-m",
      "stats module with a median bug",
    ]);

    const env = readCliEnv({
      ...process.env,
      BATON_HOME: home,
      BATON_DATABASE_URL: undefined,
      BATON_RUNTIME: "process",
    });
    const previous = process.cwd();
    process.chdir(repo);
    let status = "failed";
    try {
      status = await withApp({ ...input, env }, async (app) => {
        const project = await app.project();
        const chosen = pipelineFor(project, undefined);
        const { task, pipeline } = await addTask(app.ctx, {
          project: project.project,
          title: "Fix median() for unsorted and even-length lists",
          body: "median([4, 1, 3, 2]) should be 2.5; the tests in test/stats.test.js show the bug.",
          labels: ["bug"],
          source: "local",
          agent: null,
          pipelineName: chosen.name,
          snapshot: chosen.snapshot,
        });
        out.line(`Task #${task.number}: ${task.title}`);
        const started = app.ctx.clock();
        const { view, interrupted } = await drivePipeline(
          app,
          { ...input, env },
          { pipeline, task },
        );
        printSummary(input, view, interrupted);
        const fixRounds = view.stages.reduce((n, s) => n + s.fix_rounds, 0);
        out.line(
          `Fix rounds: ${fixRounds}. Total time: ${formatDuration(app.ctx.clock() - started)}.`,
        );
        out.line(
          out.paint(
            "dim",
            `Inspect it with: cd ${repo} && BATON_HOME=${home} baton pipeline status ${task.number}`,
          ),
        );
        return view.status;
      });
    } finally {
      process.chdir(previous);
    }
    if (status !== "completed") {
      out.error(`The demo did not complete; its files are kept in ${base}.`);
      throw new ExitError(EXIT.failed);
    }
    out.line(
      out.paint("dim", `The demo's folder ${base} stays for you to look at; delete it any time.`),
    );
  };
}
