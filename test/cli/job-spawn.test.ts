import { beforeAll, describe, expect, it } from "vitest";
import { assertBuilt } from "../helpers/cli.js";
import { agentProject, pipelineStatus, stageOf, worktreeFile } from "./kit.js";

beforeAll(assertBuilt);

/**
 * build spawns a job of stage helper (a stage that otherwise runs only when build fails);
 * report needs build. Every job logs its start and end in .agent/order.log.
 */
const STAGES = [
  "      - id: build",
  "        prompt: prompts/p.md",
  "      - id: helper",
  "        needs: [{ stage: build, when: failure }]",
  "        prompt: prompts/p.md",
  "      - id: report",
  "        needs: [build]",
  "        prompt: prompts/p.md",
  "",
].join("\n");

const AGENT = `echo "$BATON_STAGE start" >> .agent/order.log
case "$BATON_STAGE" in
  build)
    BATON_JOB_TOKEN=forged baton job spawn --stage helper --context "forged" > .agent/forged.out 2>&1
    echo "exit=$?" >> .agent/forged.out
    baton job spawn --stage helper --context "CTX-42: write the helper" > .agent/spawn.out 2>&1
    echo "exit=$?" >> .agent/spawn.out
    ;;
  helper)
    sleep 1
    ;;
esac
echo "$BATON_STAGE end" >> .agent/order.log`;

describe("baton job spawn", () => {
  it("from inside a session adds a job whose prompt has the context; dependents wait for it", async () => {
    const p = await agentProject(STAGES, AGENT);
    const run = await p.run(["run", "Spawn a helper"]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain("spawned by a running job: CTX-42: write the helper");

    const view = await pipelineStatus(p, 1);
    expect(view.status).toBe("completed");
    expect(stageOf(view, "report").status).toBe("succeeded");

    const spawn = worktreeFile(view, ".agent/spawn.out");
    expect(spawn).toMatch(/Spawned job job_\S+ \(stage helper\) in task #1's pipeline/);
    expect(spawn).toContain("exit=0");
    // The same command with a wrong token is refused, and adds nothing.
    const forged = worktreeFile(view, ".agent/forged.out");
    expect(forged).toContain("BATON_JOB_TOKEN does not match the job");
    expect(forged).toContain("exit=2");

    const runs = worktreeFile(view, ".agent/runs.log").trim().split("\n");
    expect(runs.map((line) => line.split(" ")[0])).toEqual(["build", "helper", "report"]);
    expect(runs[0]).toMatch(/^build .* job=job_/);
    expect(worktreeFile(view, ".agent/prompt-helper-a1-f0.md")).toContain(
      "CTX-42: write the helper",
    );
    // report, which needs build, started only after build and the job it spawned had ended.
    // (The spawned job itself may start while build still runs.)
    const order = worktreeFile(view, ".agent/order.log").trim().split("\n");
    expect([...order].sort()).toEqual([
      "build end",
      "build start",
      "helper end",
      "helper start",
      "report end",
      "report start",
    ]);
    expect(order.indexOf("report start")).toBeGreaterThan(order.indexOf("helper end"));
    expect(order.indexOf("report start")).toBeGreaterThan(order.indexOf("build end"));

    // Outside a session there is no job to spawn from.
    const outside = await p.run(["job", "spawn", "--stage", "helper", "--context", "x"]);
    expect(outside.code).toBe(2);
    expect(outside.stderr).toContain("BATON_JOB_ID");
    expect(outside.stderr).toContain("not set");

    // A real job id with a wrong token is refused.
    const buildJob = /job=(\S+)/.exec(runs[0] ?? "")?.[1] ?? "";
    expect(buildJob).toMatch(/^job_/);
    const wrong = await p.run(["job", "spawn", "--stage", "helper", "--context", "x"], {
      env: { BATON_JOB_ID: buildJob, BATON_JOB_TOKEN: "not-the-token" },
    });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain("BATON_JOB_TOKEN does not match the job");
    expect((await pipelineStatus(p, 1)).stages).toEqual(view.stages);
  });
});
