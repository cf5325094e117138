import { existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { assertBuilt, BATON_ROOT, type CliResult } from "../helpers/cli.js";
import { git } from "../helpers/git-repo.js";
import { agentProject, pipelineStatus, pipelineView, stageOf, worktreeFile } from "./kit.js";

beforeAll(assertBuilt);

/** Paths in `dir` (with `recursive`, below it too) whose file name starts with `prefix`. */
function findNamed(dir: string, prefix: string, recursive: boolean): string[] {
  if (!existsSync(dir)) {
    return [];
  }
  return readdirSync(dir, { recursive, encoding: "utf8" }).filter((path) =>
    (path.split("/").at(-1) ?? "").startsWith(prefix),
  );
}

/** The summary `baton run` ends with: from the "Pipeline ... for task #n" line on. */
function summaryOf(result: CliResult): string[] {
  const lines = result.stdout.trimEnd().split("\n");
  const start = lines.findIndex((l) => /^Pipeline \S+ for task #\d+ /.test(l));
  expect(start, result.stdout).toBeGreaterThanOrEqual(0);
  return lines.slice(start);
}

describe("baton run with a title made of shell syntax", () => {
  const TITLE =
    "$(touch pwned1) `touch pwned2` ; rm -rf ./victim && echo 'single' \"double\" | tee pwned3\nsecond line > pwned4";

  it("executes nothing, stores the title verbatim, hands it to the agent literally, and slugs the branch", async () => {
    const p = await agentProject("      - id: build\n        prompt: prompts/p.md\n", "", {
      files: { "victim/keep.txt": "still here\n" },
    });
    const result = await p.run(["run", TITLE]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);

    // The repository, BATON_HOME (worktrees, sessions), TMPDIR and HOME are all under these;
    // the test's own working directory and the system temp dir are checked at the top.
    for (const dir of [p.root, p.base]) {
      expect(findNamed(dir, "pwned", true), dir).toEqual([]);
    }
    for (const dir of [process.cwd(), BATON_ROOT, tmpdir()]) {
      expect(findNamed(dir, "pwned", false), dir).toEqual([]);
    }
    const view = await pipelineStatus(p, 1);
    expect(view.worktree).not.toBeNull();
    expect(existsSync(join(p.root, "victim", "keep.txt"))).toBe(true);
    expect(existsSync(join(view.worktree ?? "", "victim", "keep.txt"))).toBe(true);

    const shown = z
      .object({ title: z.string() })
      .parse(await p.json(["task", "show", "1", "--json"]));
    expect(shown.title).toBe(TITLE);
    expect(view.title).toBe(TITLE);

    // The prompt template is "Task #{{task.number}}: {{task.title}}": the title arrives as is.
    expect(worktreeFile(view, ".agent/prompt-build-a1-f0.md")).toContain(`Task #1: ${TITLE}\n`);

    expect(view.branch).toMatch(/^baton\/1-[a-z0-9-]+$/);
    // Runs of anything else become one dash, cut at 40 characters.
    expect(view.branch).toBe("baton/1-touch-pwned1-touch-pwned2-rm-rf-victim-e");
    expect(await git(p.root, ["branch", "--list", "baton/*"])).toContain(view.branch ?? "?");
    expect(view.worktree?.endsWith(view.branch ?? "?")).toBe(true);
  });
});

describe("baton run: exit codes and the closing summary", () => {
  it("exits 0 when the pipeline completes, ending with the branch and worktree", async () => {
    const p = await agentProject(
      [
        "      - id: build",
        "        prompt: prompts/p.md",
        "      - id: check",
        "        needs: [build]",
        "        run: test -f built.txt",
        "",
      ].join("\n"),
      "echo built > built.txt",
    );
    const result = await p.run(["run", "Build the thing"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Task #1: Build the thing$/m);
    expect(result.stdout).toMatch(/^Pipeline default: build → check$/m);
    const summary = summaryOf(result);
    expect(summary[0]).toBe("Pipeline default for task #1 completed");
    expect(summary.join("\n")).toMatch(/^build\s+succeeded\s+1\s+0\s/m);
    expect(summary.join("\n")).toMatch(/^check\s+succeeded\s+1\s+0\s/m);
    const view = await pipelineStatus(p, 1);
    expect(summary.slice(-2)).toEqual([
      `Branch:   ${view.branch ?? "?"}`,
      `Worktree: ${view.worktree ?? "?"}`,
    ]);
    expect(existsSync(view.worktree ?? "")).toBe(true);
    // The agent's work is committed on the task's branch.
    expect(await git(p.root, ["show", `${view.branch ?? "?"}:built.txt`])).toBe("built\n");
  });

  it("exits 1 when a stage fails with on_fail: fail", async () => {
    const p = await agentProject(
      "      - id: build\n        prompt: prompts/p.md\n        on_fail: fail\n",
      'echo "cannot build" >&2; exit 3',
    );
    const result = await p.run(["run", "Break the build"]);
    expect(result.code).toBe(1);
    const summary = summaryOf(result);
    expect(summary[0]).toMatch(/^Pipeline default for task #1 failed/);
    expect(summary.join("\n")).toMatch(/^build\s+failed\s/m);
    expect(summary.join("\n")).toMatch(/^Branch: {3}baton\/1-break-the-build$/m);
    expect(summary.join("\n")).toMatch(/^Worktree: \//m);
    const view = await pipelineStatus(p, 1);
    expect(view.status).toBe("failed");
    expect(stageOf(view, "build").status).toBe("failed");
    expect(stageOf(view, "build").error).toContain("exited with code 3");
  });

  it("exits 1 when a stage escalates, leaving the pipeline blocked", async () => {
    const p = await agentProject(
      "      - id: build\n        prompt: prompts/p.md\n        on_fail: escalate\n",
      "exit 1",
    );
    const result = await p.run(["run", "Needs a human"]);
    expect(result.code).toBe(1);
    const summary = summaryOf(result);
    expect(summary[0]).toMatch(/^Pipeline default for task #1 blocked/);
    expect(summary.join("\n")).toMatch(/^Branch: {3}baton\/1-needs-a-human$/m);
    expect(summary.join("\n")).toMatch(/^Worktree: \//m);
    expect(summary.join("\n")).toContain("baton task unblock 1");
    const view = await pipelineStatus(p, 1);
    expect(view.status).toBe("blocked");
    expect(stageOf(view, "build").status).toBe("blocked");
    const task = z
      .object({ status: z.string() })
      .parse(await p.json(["task", "show", "1", "--json"]));
    expect(task.status).toBe("needs_review");
  });
});

describe("baton pipeline status --format=json", () => {
  it("has the task, its status, and per stage: status, attempts, fix rounds, times, tokens, cost", async () => {
    const p = await agentProject(
      [
        "      - id: build",
        "        prompt: prompts/p.md",
        "      - id: check",
        "        needs: [build]",
        "        run: 'true'",
        "",
      ].join("\n"),
      "",
    );
    expect((await p.run(["run", "Report on me"])).code).toBe(0);
    const raw = await p.json(["pipeline", "status", "1", "--format=json"]);
    const view = z
      .object({
        task: z.literal(1),
        status: z.literal("completed"),
        stages: z.array(
          z.object({
            id: z.string(),
            status: z.string(),
            attempts: z.number().int(),
            fix_rounds: z.number().int(),
            started_at: z.string().nullable(),
            finished_at: z.string().nullable(),
            tokens: z.number(),
            cost_usd: z.number(),
          }),
        ),
      })
      .parse(raw);
    expect(view.stages.map((s) => [s.id, s.status, s.attempts, s.fix_rounds])).toEqual([
      ["build", "succeeded", 1, 0],
      ["check", "succeeded", 1, 0],
    ]);
    for (const stage of view.stages) {
      const started = Date.parse(stage.started_at ?? "");
      const finished = Date.parse(stage.finished_at ?? "");
      expect(started).toBeGreaterThan(Date.now() - 60_000);
      expect(finished).toBeGreaterThanOrEqual(started);
      expect(stage.tokens).toBe(0);
      expect(stage.cost_usd).toBe(0);
    }
    expect(await p.json(["pipeline", "status", "1", "--json"])).toEqual(raw);
    const table = await p.run(["pipeline", "status", "1"]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^STAGE\s+STATUS\s+ATTEMPTS\s+FIX ROUNDS/m);
    expect(table.stdout).toMatch(/^build\s+succeeded\s+1\s+0\s/m);
  });
});

describe("a stage skipped because its need failed", () => {
  it("counts no attempts, and the pipeline ends at once, not at the engine's next tick", async () => {
    const p = await agentProject(
      [
        "      - id: build",
        "        prompt: prompts/p.md",
        "        on_fail: fail",
        "      - id: after",
        "        needs: [build]",
        "        run: 'true'",
        "",
      ].join("\n"),
      "exit 3",
    );
    expect((await p.run(["run", "Skip one"])).code).toBe(1);
    const view = z
      .object({ finished_at: z.string() })
      .and(pipelineView)
      .parse(await p.json(["pipeline", "status", "1", "--json"]));
    expect(view.status).toBe("failed");
    const after = stageOf(view, "after");
    expect(after).toMatchObject({ status: "skipped", fix_rounds: 0, started_at: null });
    // The skip is decided right after build fails; nothing is left to wait for, so the
    // pipeline ends then. (The engine's periodic tick is 10 s; it only catches timeouts.)
    // Two separate defects, so both are reported when both are there.
    const lastStage = Math.max(...view.stages.map((s) => Date.parse(s.finished_at ?? "")));
    expect
      .soft(Date.parse(view.finished_at) - lastStage, "pipeline end after last stage (ms)")
      .toBeLessThan(5_000);
    expect.soft(after.attempts, "attempts of the skipped stage").toBe(0);
  });
});

describe("a gate that fails once, then passes after a fix round", () => {
  it("completes, counts one fix round, and gives the fix round the gate's output", async () => {
    const p = await agentProject(
      [
        "      - id: build",
        "        prompt: prompts/p.md",
        "        gates:",
        "          - name: has-fix",
        `            run: "test -f fixed.txt || { echo 'GATE-SAYS: fixed.txt is missing'; exit 1; }"`,
        "        fix: { max_rounds: 2 }",
        "        on_fail: fail",
        "",
      ].join("\n"),
      'if [ "$BATON_FIX_ROUND" = 1 ]; then echo fixed > fixed.txt; fi',
    );
    const result = await p.run(["run", "Needs one fix"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/build: gate has-fix failed/);
    expect(result.stdout).toMatch(/build: gate has-fix passed/);
    const view = await pipelineStatus(p, 1);
    expect(view.status).toBe("completed");
    expect(stageOf(view, "build")).toMatchObject({
      status: "succeeded",
      attempts: 1,
      fix_rounds: 1,
    });
    expect(worktreeFile(view, ".agent/runs.log")).toMatch(
      /^build attempt=1 fix=0 .*\nbuild attempt=1 fix=1 /,
    );
    const first = worktreeFile(view, ".agent/prompt-build-a1-f0.md");
    const fix = worktreeFile(view, ".agent/prompt-build-a1-f1.md");
    expect(first).not.toContain("GATE-SAYS");
    expect(fix).toContain("has-fix");
    expect(fix).toContain("GATE-SAYS: fixed.txt is missing");
  });
});
