import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { assertBuilt, type CliProject } from "../helpers/cli.js";
import {
  agentProject,
  checkInOutput,
  pipelineStatus,
  sessionList,
  type CheckInOutput,
} from "./kit.js";

beforeAll(assertBuilt);

const STAGES = [
  "      - id: build",
  "        prompt: prompts/p.md",
  "      - id: check",
  "        needs: [build]",
  "        run: test -f built.txt",
  "",
].join("\n");

/** The agent takes a moment, so its session is still running at the end of a check-in. */
const SLOW_AGENT = "sleep 0.5\necho built > built.txt";

/** The agent waits (20 s at most) for the test to create `go` in the worktree. */
const WAITING_AGENT = [
  "i=0",
  'while [ ! -f go ] && [ "$i" -lt 200 ]; do sleep 0.1; i=$((i + 1)); done',
  "echo built > built.txt",
].join("\n");

type Action = CheckInOutput["actions"][number];

/** One check-in, by either name of the command; its stdout must be exactly the JSON shape. */
async function checkIn(p: CliProject, alias: boolean): Promise<Action[]> {
  const args = alias
    ? ["orchestrator", "check-in", "--format=json"]
    : ["check-in", "--format=json"];
  const result = await p.run(args);
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  return checkInOutput.parse(JSON.parse(result.stdout)).actions;
}

/** Check-ins, a little apart, until task `issue` gets a `completed` action; returns them all. */
async function checkInUntilCompleted(p: CliProject, issue: number): Promise<Action[][]> {
  const ticks: Action[][] = [];
  for (let tick = 0; tick < 30; tick += 1) {
    const actions = await checkIn(p, tick % 2 === 1);
    ticks.push(actions);
    if (actions.some((a) => a.issue === issue && a.action === "completed")) {
      return ticks;
    }
    await delay(200);
  }
  throw new Error(`task #${issue} did not complete in 30 check-ins:\n${JSON.stringify(ticks)}`);
}

describe("baton check-in --format=json", () => {
  it("drives a pipeline added with task add to completed, one tick at a time", async () => {
    const p = await agentProject(STAGES, WAITING_AGENT);
    expect((await p.run(["task", "add", "Tick by tick"])).code).toBe(0);

    const first = await checkIn(p, false);
    expect(first).toEqual([
      { issue: 1, action: "advanced", stage: "build", message: expect.any(String) as string },
    ]);
    // The session runs between ticks: a check-in while it works leaves it alone.
    const second = await checkIn(p, true);
    expect(second).toEqual([
      { issue: 1, action: "skip", stage: "build", message: expect.any(String) as string },
    ]);
    const running = await pipelineStatus(p, 1);
    expect(running.status).toBe("running");
    expect(running.stages[0]?.status).toBe("running");
    await writeFile(join(running.worktree ?? "", "go"), "");

    const ticks = await checkInUntilCompleted(p, 1);
    const mine = [...first, ...second, ...ticks.flat()].filter((a) => a.issue === 1);
    expect(mine.at(-1)?.action).toBe("completed");
    expect(mine.some((a) => a.action === "advanced" && a.stage === "check")).toBe(true);

    const view = await pipelineStatus(p, 1);
    expect(view.status).toBe("completed");
    expect(view.stages.map((s) => s.status)).toEqual(["succeeded", "succeeded"]);

    // Nothing is open any more: both names of the command print the same empty list.
    const plain = await p.run(["check-in", "--format=json"]);
    const alias = await p.run(["orchestrator", "check-in", "--json"]);
    expect(checkInOutput.parse(JSON.parse(plain.stdout))).toEqual({ actions: [] });
    expect(alias.stdout).toBe(plain.stdout);
  });

  it("prints a table without --format", async () => {
    const p = await agentProject(STAGES, SLOW_AGENT);
    expect((await p.run(["task", "add", "Table"])).code).toBe(0);
    const result = await p.run(["check-in"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^TASK\s+ACTION\s+STAGE\s+MESSAGE$/m);
    expect(result.stdout).toMatch(/^#1\s+advanced\s+build\s/m);
    expect((await p.run(["pipeline", "abort", "1"])).code).toBe(0);
  });
});

describe("baton queue pause and resume", () => {
  it("a paused queue starts nothing at check-in; after resume, check-in starts it", async () => {
    const p = await agentProject(STAGES, SLOW_AGENT);
    const pause = await p.run(["queue", "pause"]);
    expect(pause.code).toBe(0);
    expect(pause.stdout).toContain("Queue paused");
    expect(
      z.object({ paused: z.boolean() }).parse(await p.json(["queue", "status", "--json"])).paused,
    ).toBe(true);
    expect((await p.run(["task", "add", "Wait for the queue"])).code).toBe(0);

    for (const alias of [false, true]) {
      const actions = await checkIn(p, alias);
      expect(actions).toHaveLength(1);
      expect(actions[0]).toMatchObject({ issue: 1, action: "skip" });
      expect(actions[0]?.message).toContain("queue paused");
    }
    expect(sessionList.parse(await p.json(["session", "list", "--json"])).sessions).toEqual([]);
    const paused = await pipelineStatus(p, 1);
    expect(paused.status).toBe("pending");
    expect(paused.branch).toBeNull();

    expect((await p.run(["queue", "resume"])).code).toBe(0);
    const ticks = await checkInUntilCompleted(p, 1);
    expect(ticks[0]).toContainEqual(
      expect.objectContaining({ issue: 1, action: "advanced", stage: "build" }),
    );
    expect((await pipelineStatus(p, 1)).status).toBe("completed");
  });
});
