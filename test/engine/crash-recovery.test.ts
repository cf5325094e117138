/**
 * A `baton run` killed with SIGKILL in the middle of a running stage: the session outlives it,
 * the next engine (check-in, `pipeline advance --wait`, `serve`) adopts it, no stage runs twice
 * at the same time, and the pipeline finishes with nothing lost.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join, resolve } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { makeGitRepo, makeTempDir } from "../helpers/git-repo.js";
import { DIALECTS, openTestStore, type TestStore } from "../helpers/store.js";

const BIN = resolve("bin/baton.js");

const CONFIG = `version: 1
defaults:
  agent: slow
  runtime: process
agents:
  slow:
    # Each stage holds until the test drops ../release, so it is surely running when the engine dies.
    command: ["sh", "-c", "echo start >> ../runs-$BATON_STAGE; while [ ! -e ../release ]; do sleep 0.05; done; echo $BATON_STAGE > out-$BATON_STAGE.txt; echo end >> ../runs-$BATON_STAGE", "agent", "{prompt_file}"]
pipelines:
  default:
    stages:
      - { id: one, prompt: p.md, outputs: [out-one.txt] }
      - { id: two, needs: [one], prompt: p.md }
`;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function baton(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", fail);
    child.on("close", (code) => done({ code, stdout, stderr }));
  });
}

async function until(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat[stat.lastIndexOf(")") + 2] !== "Z";
  } catch {
    return false;
  }
}

beforeAll(() => {
  if (!existsSync(resolve("dist/cli/main.js"))) {
    throw new Error("dist/ is missing: run `npm run build` first (npm test does)");
  }
});

for (const dialect of DIALECTS) {
  describe(`a SIGKILLed baton run on ${dialect}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    let child: ChildProcess | undefined;
    afterEach(async () => {
      child?.kill("SIGKILL");
      for (const cleanup of cleanups.reverse()) {
        await cleanup();
      }
      cleanups.length = 0;
    });

    async function setup(): Promise<{
      root: string;
      env: NodeJS.ProcessEnv;
      runs: (stage: string) => string[];
    }> {
      const repo = await makeGitRepo({ files: { "baton.yaml": CONFIG, "p.md": "Go.\n" } });
      const home = await makeTempDir("baton-crash-");
      cleanups.push(
        () => repo.cleanup(),
        () => rm(home, { recursive: true, force: true }),
      );
      let store: TestStore | undefined;
      if (dialect === "postgres") {
        store = await openTestStore("postgres");
        const opened = store;
        cleanups.push(() => opened.cleanup());
      }
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        BATON_HOME: home,
        NO_COLOR: "1",
        ...(store === undefined
          ? {}
          : { BATON_DATABASE_URL: store.url, BATON_DATABASE_SCHEMA: store.schema }),
      };
      return { root: repo.root, env, runs: (stage) => runsIn(home, stage) };
    }

    /** Lets the stages finish. */
    function release(env: NodeJS.ProcessEnv): void {
      const base = join(env.BATON_HOME ?? "", "worktrees");
      for (const project of readdirSync(base)) {
        writeFileSync(join(base, project, "baton", "release"), "");
      }
    }

    /** What the agent logged for `stage`: one `start` and one `end` per run. */
    function runsIn(home: string, stage: string): string[] {
      const base = join(home, "worktrees");
      for (const project of existsSync(base) ? readdirSync(base) : []) {
        const file = join(base, project, "baton", `runs-${stage}`);
        if (existsSync(file)) {
          return readFileSync(file, "utf8").trim().split("\n");
        }
      }
      return [];
    }

    it.each(["check-in", "pipeline advance --wait", "serve"])(
      "finishes when the engine is driven again with %s, running each stage once",
      async (how) => {
        const { root, env, runs } = await setup();
        child = spawn(process.execPath, [BIN, "run", "crash me"], {
          cwd: root,
          env,
          stdio: "ignore",
        });
        await until(() => runs("one").length === 1, 15_000, "stage one to start");
        // Killed once the stage's session is on record: the middle of a running stage.
        await until(
          async () => {
            const listed = await baton(["session", "list", "--json"], root, env);
            return (JSON.parse(listed.stdout) as { sessions: unknown[] }).sessions.length === 1;
          },
          15_000,
          "the session to be recorded",
        );
        child.kill("SIGKILL");
        await new Promise((r) => child?.once("close", r));
        child = undefined;

        const listed = await baton(["session", "list", "--json"], root, env);
        const sessions = (
          JSON.parse(listed.stdout) as { sessions: { name: string; pid: number; state: string }[] }
        ).sessions;
        expect(sessions).toHaveLength(1);
        const pid = sessions[0]?.pid ?? 0;
        expect(running(pid)).toBe(true);
        if (how === "check-in") {
          // The first tick finds the session alive, held by no one: it leaves it running.
          const first = await baton(["check-in", "--json"], root, env);
          const { actions } = JSON.parse(first.stdout) as {
            actions: { action: string; message: string }[];
          };
          expect(actions.map((a) => a.action)).toEqual(["skip"]);
          expect(running(pid)).toBe(true);
        }
        release(env);

        if (how === "check-in") {
          const seen: string[] = [];
          await until(
            async () => {
              const tick = await baton(["check-in", "--json"], root, env);
              expect(tick.code).toBe(0);
              const { actions } = JSON.parse(tick.stdout) as { actions: { action: string }[] };
              seen.push(...actions.map((a) => a.action));
              return actions.some((a) => a.action === "completed");
            },
            30_000,
            "check-ins to complete the pipeline",
          );
        } else if (how === "serve") {
          const serve = spawn(process.execPath, [BIN, "serve", "--tick", "500"], {
            cwd: root,
            env,
            stdio: "ignore",
          });
          child = serve;
          await until(
            async () => {
              const status = await baton(["pipeline", "status", "1", "--json"], root, env);
              return (JSON.parse(status.stdout) as { status: string }).status === "completed";
            },
            30_000,
            "serve to complete the pipeline",
          );
          serve.kill("SIGTERM");
          const [code, signal] = await new Promise<[number | null, string | null]>((r) =>
            serve.once("close", (c, s) => r([c, s])),
          );
          child = undefined;
          // A graceful stop re-raises the signal: the process ends as SIGTERM asked.
          expect(code === 143 || signal === "SIGTERM").toBe(true);
        } else {
          const driven = await baton(["pipeline", "advance", "1", "--wait"], root, env);
          expect(driven.stderr).toBe("");
          expect(driven.code).toBe(0);
          expect(driven.stdout).toContain("adopted running session");
        }

        const status = await baton(["pipeline", "status", "1", "--json"], root, env);
        const view = JSON.parse(status.stdout) as {
          status: string;
          stages: { id: string; status: string; attempts: number }[];
        };
        expect(view.status).toBe("completed");
        expect(view.stages.map((s) => [s.id, s.status, s.attempts])).toEqual([
          ["one", "succeeded", 1],
          ["two", "succeeded", 1],
        ]);
        // Each stage ran once, start to end: the adopted session was never started again.
        expect(runs("one")).toEqual(["start", "end"]);
        expect(runs("two")).toEqual(["start", "end"]);
        const detail = await baton(["analytics", "issue-detail", "1", "--json"], root, env);
        const parsed = JSON.parse(detail.stdout) as {
          pipelines: { artifacts: { path: string }[] }[];
        };
        expect(parsed.pipelines[0]?.artifacts.map((a) => a.path)).toEqual(["out-one.txt"]);
      },
      60_000,
    );
  });
}
