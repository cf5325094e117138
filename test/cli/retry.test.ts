import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { assertBuilt } from "../helpers/cli.js";
import { agentProject, pipelineStatus, stageOf, worktreeFile } from "./kit.js";

beforeAll(assertBuilt);

const taskStatus = z.object({ status: z.string() });

describe("baton pipeline retry", () => {
  it("refuses to retry a completed pipeline, exits 2 and changes nothing", async () => {
    const p = await agentProject("      - id: build\n        prompt: prompts/p.md\n", "");
    expect((await p.run(["run", "All good"])).code).toBe(0);
    const before = await p.json(["pipeline", "status", "1", "--json"]);
    const taskBefore = await p.json(["task", "show", "1", "--json"]);

    const retry = await p.run(["pipeline", "retry", "1", "--reason", "again please"]);
    expect(retry.code).toBe(2);
    expect(retry.stdout).toBe("");
    expect(retry.stderr).toContain("cannot retry the pipeline of task #1");
    expect(retry.stderr).toContain("completed");

    expect(await p.json(["pipeline", "status", "1", "--json"])).toEqual(before);
    // Same stages, attempts and fix rounds: no job was added.
    expect(await p.json(["task", "show", "1", "--json"])).toEqual(taskBefore);
  });

  it("without --reason, exits 2 naming the missing option", async () => {
    const p = await agentProject("      - id: build\n        prompt: prompts/p.md\n", "");
    const result = await p.run(["pipeline", "retry", "1"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--reason");
  });

  it("a blocked pipeline completes after its cause is fixed, by pipeline retry or task unblock", async () => {
    // The agent fails (and the stage escalates) until allow.flag is in its worktree.
    const p = await agentProject(
      "      - id: build\n        prompt: prompts/p.md\n        on_fail: escalate\n",
      'if [ ! -f allow.flag ]; then echo "allow.flag is missing" >&2; exit 1; fi\necho ok > done.txt',
    );
    for (const task of [1, 2]) {
      const run = await p.run(["run", `Blocked ${task}`]);
      expect(run.code).toBe(1);
      const blocked = await pipelineStatus(p, task);
      expect(blocked.status).toBe("blocked");
      expect(taskStatus.parse(await p.json(["task", "show", String(task), "--json"])).status).toBe(
        "needs_review",
      );
      await writeFile(join(blocked.worktree ?? "", "allow.flag"), "");
    }

    const retry = await p.run(["pipeline", "retry", "1", "--reason", "the flag is there now"]);
    expect(retry.stderr).toBe("");
    expect(retry.code).toBe(0);
    expect(retry.stdout).toContain("Retrying build of task #1");
    const unblock = await p.run(["task", "unblock", "2", "--reason", "flag added"]);
    expect(unblock.stderr).toBe("");
    expect(unblock.code).toBe(0);
    expect(unblock.stdout).toContain("Unblocked #2");

    for (const [task, reason] of [
      [1, "the flag is there now"],
      [2, "flag added"],
    ] as const) {
      const advance = await p.run(["pipeline", "advance", String(task), "--wait"]);
      expect(advance.code, advance.stdout + advance.stderr).toBe(0);
      expect(advance.stdout).toContain(`Pipeline default for task #${task} completed`);
      const view = await pipelineStatus(p, task);
      expect(view.status).toBe("completed");
      expect(stageOf(view, "build").status).toBe("succeeded");
      expect(worktreeFile(view, "done.txt")).toBe("ok\n");
      // The person's reason reaches the agent of the retried job.
      expect(worktreeFile(view, ".agent/prompt-build-a1-f0.md")).toContain(reason);
      expect(worktreeFile(view, ".agent/runs.log").trim().split("\n")).toHaveLength(2);
      expect(
        taskStatus.parse(await p.json(["task", "show", String(task), "--json"])).status,
      ).not.toBe("needs_review");
    }

    // Neither is blocked any more.
    const again = await p.run(["task", "unblock", "1"]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("not blocked");
  });
});
