/**
 * The engine on real projects: real git worktrees, real processes, a real store on each
 * dialect. Each test drives a pipeline and checks what happened through the store.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Engine } from "../../src/engine/engine.js";
import { retryPipeline } from "../../src/engine/operations.js";
import { listArtifacts, listConsumption } from "../../src/store/artifacts.repository.js";
import { listGateResults } from "../../src/store/gate-results.repository.js";
import { listJobs } from "../../src/store/jobs.repository.js";
import { listSessions } from "../../src/store/sessions.repository.js";
import { makeEngineEnv, type EngineEnv } from "../helpers/engine-env.js";
import { git } from "../helpers/git-repo.js";
import { DIALECTS } from "../helpers/store.js";

/** A command agent that runs an inline script with the prompt file as $1. */
function agent(script: string): string {
  return JSON.stringify(["sh", "-c", script, "agent", "{prompt_file}"]);
}

/** Alive and not a zombie: PID 1 in a container may never reap the processes we killed. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

const HEADER = `version: 1
defaults:
  agent: worker
  runtime: process
  timeout: 30s
  stall_timeout: 30s
  grace: 1s
`;

for (const dialect of DIALECTS) {
  describe(`engine on ${dialect}`, () => {
    let env: EngineEnv | undefined;
    afterEach(async () => {
      await env?.cleanup();
      env = undefined;
    });

    it("runs a linear pipeline, passes artifacts on and commits each stage's work", async () => {
      env = await makeEngineEnv({
        dialect,
        config: `${HEADER}agents:
  worker:
    command: ${agent('cp "$1" "prompt-$BATON_STAGE.txt"; if [ "$BATON_STAGE" = plan ]; then echo "step one" > PLAN.md; fi; echo done $BATON_STAGE')}
pipelines:
  default:
    stages:
      - { id: plan, prompt: prompts/plan.md, outputs: [PLAN.md] }
      - { id: implement, needs: [plan], prompt: prompts/implement.md }
`,
        files: {
          "prompts/plan.md": "Plan #{{task.number}}: {{task.title}}\n",
          "prompts/implement.md": "Follow the plan:\n{{artifacts.plan.PLAN.md}}\n",
        },
      });
      const { pipeline } = await env.addTask("Add a greeting");
      const done = await env.drive(pipeline);
      expect(done.status).toBe("completed");
      expect(done.branch).toBe("baton/1-add-a-greeting");
      const worktree = done.worktreePath ?? "";
      expect(readFileSync(join(worktree, "prompt-plan.txt"), "utf8")).toBe(
        "Plan #1: Add a greeting\n",
      );
      expect(readFileSync(join(worktree, "prompt-implement.txt"), "utf8")).toBe(
        "Follow the plan:\nstep one\n",
      );

      const artifacts = await listArtifacts(env.ctx.store.db, { pipelineId: pipeline.id });
      expect(artifacts).toHaveLength(1);
      expect(artifacts[0]).toMatchObject({
        stageId: "plan",
        path: "PLAN.md",
        size: 9,
        content: "step one\n",
        sha256: createHash("sha256").update("step one\n").digest("hex"),
      });
      const jobs = await listJobs(env.ctx.store.db, [pipeline.id]);
      expect(jobs.map((j) => [j.stageId, j.status])).toEqual([
        ["plan", "succeeded"],
        ["implement", "succeeded"],
      ]);
      expect(await listConsumption(env.ctx.store.db, jobs[1]?.id ?? "")).toEqual([
        artifacts[0]?.id,
      ]);
      const log = await git(worktree, ["log", "--format=%s"]);
      expect(log.split("\n").slice(0, 2)).toEqual([
        "baton: implement for #1 (attempt 1, succeeded)",
        "baton: plan for #1 (attempt 1, succeeded)",
      ]);
      // The user's own checkout is untouched.
      expect(existsSync(join(env.root, "PLAN.md"))).toBe(false);
    });

    it("runs a fix round with the failing gate's output, then passes", async () => {
      env = await makeEngineEnv({
        dialect,
        config: `${HEADER}agents:
  worker:
    command: ${agent('cp "$1" "prompt-$BATON_FIX_ROUND.txt"; if [ "$BATON_FIX_ROUND" -ge 1 ]; then echo ok > fixed; fi')}
pipelines:
  default:
    stages:
      - id: implement
        prompt: prompts/implement.md
        gates:
          - { name: check, run: "test -f fixed || { echo 'expected file fixed to exist'; exit 3; }" }
        fix: { max_rounds: 2 }
`,
        files: { "prompts/implement.md": "Make it pass.\n" },
      });
      const { pipeline } = await env.addTask("Fix it");
      const done = await env.drive(pipeline);
      expect(done.status).toBe("completed");
      const jobs = await listJobs(env.ctx.store.db, [pipeline.id]);
      expect(jobs.map((j) => [j.trigger, j.fixRound, j.status, j.errorClass])).toEqual([
        ["initial", 0, "failed", "gate"],
        ["fix", 1, "succeeded", null],
      ]);
      const fixPrompt = readFileSync(join(done.worktreePath ?? "", "prompt-1.txt"), "utf8");
      expect(fixPrompt).toContain("Make it pass.");
      expect(fixPrompt).toContain("### check");
      expect(fixPrompt).toContain("expected file fixed to exist");
      const gates = await listGateResults(env.ctx.store.db, { pipelineId: pipeline.id });
      expect(gates.map((g) => [g.gate, g.passed, g.exitCode])).toEqual([
        ["check", false, 3],
        ["check", true, 0],
      ]);
    });

    it("stops fixing when the same failure comes back, escalates, and resumes after a retry", async () => {
      env = await makeEngineEnv({
        dialect,
        config: `${HEADER}agents:
  worker:
    command: ${agent("echo working")}
pipelines:
  default:
    stages:
      - id: implement
        prompt: prompts/implement.md
        gates:
          - { name: check, run: "test -f $BATON_WORKTREE/../ok-$BATON_TASK || { echo 'still broken'; exit 1; }" }
        fix: { max_rounds: 5 }
        on_fail: escalate
`,
        files: { "prompts/implement.md": "Work.\n" },
      });
      const { pipeline, task } = await env.addTask("Stuck");
      const blocked = await env.drive(pipeline);
      expect(blocked.status).toBe("blocked");
      expect(blocked.reason).toContain("the same failure came back after fix round 1");
      const jobs = await listJobs(env.ctx.store.db, [pipeline.id]);
      // One run and one fix round: the repeated fingerprint stopped the loop long before 5.
      expect(jobs.map((j) => j.fixRound)).toEqual([0, 1]);

      // A person fixes the cause and retries: the stage runs again and the pipeline completes.
      const { writeFileSync } = await import("node:fs");
      writeFileSync(join(blocked.worktreePath ?? "", "..", `ok-${task.number}`), "");
      expect(await retryPipeline(env.ctx, blocked, "fixed the environment")).toEqual(["implement"]);
      const done = await env.drive(blocked);
      expect(done.status).toBe("completed");
      const after = await listJobs(env.ctx.store.db, [pipeline.id]);
      expect(after.at(-1)).toMatchObject({
        trigger: "manual",
        status: "succeeded",
        context: { manual: { reason: "fixed the environment" } },
      });
    });

    it("retries a failed job after its backoff without spending a fix round", async () => {
      env = await makeEngineEnv({
        dialect,
        config: `${HEADER}agents:
  worker:
    command: ${agent('[ "$BATON_ATTEMPT" -ge 2 ] || { echo "flaky failure"; exit 4; }')}
pipelines:
  default:
    stages:
      - id: build
        prompt: prompts/build.md
        on_fail: { retry: { max: 2, backoff: { base: 300ms, factor: 2, max: 1s, jitter: false } } }
`,
        files: { "prompts/build.md": "Build.\n" },
      });
      const { pipeline } = await env.addTask("Flaky");
      expect((await env.drive(pipeline)).status).toBe("completed");
      const [first, second] = await listJobs(env.ctx.store.db, [pipeline.id]);
      expect(first).toMatchObject({
        attempt: 1,
        status: "failed",
        errorClass: "permanent",
        exitCode: 4,
      });
      expect(first?.error).toContain("exited with code 4: flaky failure");
      expect(second).toMatchObject({
        attempt: 2,
        trigger: "retry",
        status: "succeeded",
        fixRound: 0,
      });
      expect((second?.startedAt ?? 0) - (first?.finishedAt ?? 0)).toBeGreaterThanOrEqual(300);
    });

    it("settles jobs with nothing to check at once, with their sessions' ends", async () => {
      env = await makeEngineEnv({
        dialect,
        config: `${HEADER}  commit: false
agents:
  worker:
    command: ${agent("true")}
pipelines:
  default:
    stages:
      - { id: ok, run: "echo fine" }
      - { id: bad, needs: [ok], run: "echo broken; exit 3" }
`,
      });
      const { pipeline } = await env.addTask("Nothing to check");
      expect((await env.drive(pipeline)).status).toBe("failed");
      const jobs = await listJobs(env.ctx.store.db, [pipeline.id]);
      expect(jobs.map((j) => [j.stageId, j.status, j.exitCode])).toEqual([
        ["ok", "succeeded", 0],
        ["bad", "failed", 3],
      ]);
      expect(jobs[1]?.error).toContain("exited with code 3: broken");
      const sessions = await listSessions(env.ctx.store.db, { pipelineIds: [pipeline.id] });
      for (const job of jobs) {
        const session = sessions.find((s) => s.jobId === job.id);
        expect(session).toMatchObject({ state: "exited", exitCode: job.exitCode });
        expect(session?.exitedAt).not.toBeNull();
      }
    });

    it("routes a failed review back to implement, then runs review again", async () => {
      env = await makeEngineEnv({
        dialect,
        config: `${HEADER}agents:
  worker:
    command: ${agent('n=$(cat ../runs-$BATON_STAGE 2>/dev/null || echo 0); echo $((n+1)) > ../runs-$BATON_STAGE; if [ "$BATON_STAGE" = review ] && [ "$n" = 0 ]; then echo "changes requested: add tests"; exit 1; fi; cp "$1" "prompt-$BATON_STAGE-$n.txt"')}
pipelines:
  default:
    stages:
      - { id: implement, prompt: prompts/implement.md }
      - { id: review, needs: [implement], prompt: prompts/review.md, on_fail: { route: implement, max: 2 } }
`,
        files: { "prompts/implement.md": "Implement.\n", "prompts/review.md": "Review.\n" },
      });
      const { pipeline } = await env.addTask("Routed");
      const done = await env.drive(pipeline);
      expect(done.status).toBe("completed");
      const jobs = await listJobs(env.ctx.store.db, [pipeline.id]);
      expect(jobs.map((j) => [j.stageId, j.trigger, j.status])).toEqual([
        ["implement", "initial", "succeeded"],
        ["review", "initial", "failed"],
        ["implement", "route", "succeeded"],
        ["review", "rerun", "succeeded"],
      ]);
      const routed = readFileSync(join(done.worktreePath ?? "", "prompt-implement-1.txt"), "utf8");
      expect(routed).toContain("Sent back by stage `review`");
      expect(routed).toContain("changes requested: add tests");
    });

    it("runs parallel branches side by side, within max_running_jobs", async () => {
      const config = (max: number) => `${HEADER}limits: { max_running_jobs: ${max} }
agents:
  worker:
    command: ${agent('date +%s%N > "../start-$BATON_STAGE"; sleep 0.4; date +%s%N > "../end-$BATON_STAGE"')}
pipelines:
  default:
    stages:
      - { id: a, prompt: p.md }
      - { id: b, needs: [a], prompt: p.md }
      - { id: c, needs: [a], prompt: p.md }
      - { id: d, needs: [b, c], prompt: p.md }
`;
      const overlap = async (max: number): Promise<boolean> => {
        env = await makeEngineEnv({ dialect, config: config(max), files: { "p.md": "Go.\n" } });
        const { pipeline } = await env.addTask(`Parallel ${max}`);
        const done = await env.drive(pipeline);
        expect(done.status).toBe("completed");
        const at = (name: string) =>
          Number(readFileSync(join(done.worktreePath ?? "", "..", name), "utf8"));
        const ends = [at("end-b"), at("end-c")];
        const starts = [at("start-b"), at("start-c")];
        expect(at("start-d")).toBeGreaterThan(Math.max(...ends));
        await env.cleanup();
        env = undefined;
        return Math.max(...starts) < Math.min(...ends);
      };
      expect(await overlap(2)).toBe(true);
      expect(await overlap(1)).toBe(false);
    });

    it("runs failure and always stages after a final failure and skips success ones", async () => {
      env = await makeEngineEnv({
        dialect,
        config: `${HEADER}agents:
  worker:
    command: ${agent('[ "$BATON_STAGE" != build ] || exit 1')}
pipelines:
  default:
    stages:
      - { id: build, prompt: p.md }
      - { id: ship, needs: [build], prompt: p.md }
      - { id: notify, needs: [{ stage: build, when: failure }], prompt: p.md }
      - { id: report, needs: [{ stage: ship, when: always }], prompt: p.md }
`,
        files: { "p.md": "Go.\n" },
      });
      const { pipeline } = await env.addTask("Conditions");
      const done = await env.drive(pipeline);
      expect(done.status).toBe("failed");
      const jobs = await listJobs(env.ctx.store.db, [pipeline.id]);
      expect(Object.fromEntries(jobs.map((j) => [j.stageId, j.status]))).toEqual({
        build: "failed",
        ship: "skipped",
        notify: "succeeded",
        report: "succeeded",
      });
    });

    it("steers a session past its timeout, then kills its whole process group", async () => {
      env = await makeEngineEnv({
        dialect,
        config: `${HEADER}agents:
  worker:
    command: ${agent("sleep 60 & echo $! > ../child.pid; wait")}
pipelines:
  default:
    stages:
      - { id: slow, prompt: p.md, timeout: 600ms, grace: 400ms }
`,
        files: { "p.md": "Go.\n" },
      });
      const { pipeline } = await env.addTask("Slow");
      const done = await env.drive(pipeline);
      expect(done.status).toBe("failed");
      const [job] = await listJobs(env.ctx.store.db, [pipeline.id]);
      expect(job).toMatchObject({ status: "failed", errorClass: "timeout" });
      const child = Number(readFileSync(join(done.worktreePath ?? "", "..", "child.pid"), "utf8"));
      expect(running(child)).toBe(false);
      const [session] = await listSessions(env.ctx.store.db, { pipelineIds: [pipeline.id] });
      expect(session?.steeredAt).not.toBeNull();
    });

    it("judges a stage's output with a judge gate, and fixes it when the score is too low", async () => {
      env = await makeEngineEnv({
        dialect,
        config: `${HEADER}agents:
  worker:
    command: ${agent('if [ "$BATON_FIX_ROUND" -ge 1 ]; then echo good spec > SPEC.md; else echo bad spec > SPEC.md; fi')}
  judge:
    command: ${agent('if grep -q "good spec" "$1"; then echo \'{"pass": true, "score": 0.9}\'; else echo \'{"pass": false, "score": 0.2, "reasons": ["too vague"]}\'; fi')}
pipelines:
  default:
    stages:
      - id: spec
        prompt: p.md
        outputs: [SPEC.md]
        gates:
          - { name: review, judge: { agent: judge, prompt: judge.md, pass_threshold: 0.7 } }
`,
        files: {
          "p.md": "Write SPEC.md.\n",
          "judge.md": "Judge this spec:\n{{artifacts.spec.SPEC.md}}\n",
        },
      });
      const { pipeline } = await env.addTask("Judged");
      const judged = await env.drive(pipeline);
      expect(judged.status).toBe("completed");
      const gates = await listGateResults(env.ctx.store.db, { pipelineId: pipeline.id });
      expect(gates.map((g) => g.passed)).toEqual([false, true]);
      expect(gates[0]?.outputTail).toContain("score 0.2 (needs 0.7): too vague");
      const jobs = await listJobs(env.ctx.store.db, [pipeline.id]);
      expect(jobs.map((j) => j.trigger)).toEqual(["initial", "fix"]);
    });

    it("fans out to several agents and concatenates their output", async () => {
      env = await makeEngineEnv({
        dialect,
        config: `${HEADER}agents:
  worker:
    command: ${agent("true")}
  alpha:
    command: ${agent("echo opinion from alpha")}
  beta:
    command: ${agent("echo opinion from beta")}
pipelines:
  default:
    stages:
      - { id: reviews, agents: [alpha, beta], prompt: p.md, aggregate: concat }
`,
        files: { "p.md": "Review.\n" },
      });
      const { pipeline } = await env.addTask("Fan out");
      expect((await env.drive(pipeline)).status).toBe("completed");
      const [aggregate] = await listArtifacts(env.ctx.store.db, { pipelineId: pipeline.id });
      expect(aggregate?.path).toBe("reviews.aggregate.md");
      expect(aggregate?.content).toContain("opinion from alpha");
      expect(aggregate?.content).toContain("opinion from beta");
    });

    it("completes a pipeline through repeated check-ins, leaving sessions running between them", async () => {
      env = await makeEngineEnv({
        dialect,
        config: `${HEADER}agents:
  worker:
    command: ${agent("sleep 0.3; echo ok")}
pipelines:
  default:
    stages:
      - { id: one, prompt: p.md }
      - { id: two, needs: [one], prompt: p.md }
`,
        files: { "p.md": "Go.\n" },
      });
      const { pipeline } = await env.addTask("Ticks");
      const seen: string[] = [];
      for (let tick = 0; tick < 100; tick += 1) {
        const engine = new Engine(env.ctx, { mode: "check-in" });
        const actions = await engine.checkIn();
        await engine.close();
        seen.push(...actions.map((a) => a.action));
        if ((await env.pipeline(pipeline.id)).status === "completed") {
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect((await env.pipeline(pipeline.id)).status).toBe("completed");
      expect(seen).toContain("skip");
      expect(seen.at(-1)).toBe("completed");
    });

    it("never runs a stage twice when two engines drive the same pipeline", async () => {
      env = await makeEngineEnv({
        dialect,
        config: `${HEADER}agents:
  worker:
    command: ${agent('echo "$BATON_STAGE" >> ../runs.txt; sleep 0.2')}
pipelines:
  default:
    stages:
      - { id: a, prompt: p.md }
      - { id: b, needs: [a], prompt: p.md }
      - { id: c, needs: [a], prompt: p.md }
      - { id: d, needs: [b, c], prompt: p.md }
`,
        files: { "p.md": "Go.\n" },
      });
      const { pipeline } = await env.addTask("Twice");
      await Promise.all([env.drive(pipeline), env.drive(pipeline)]);
      const done = await env.pipeline(pipeline.id);
      expect(done.status).toBe("completed");
      const runs = readFileSync(join(done.worktreePath ?? "", "..", "runs.txt"), "utf8")
        .trim()
        .split("\n")
        .sort();
      expect(runs).toEqual(["a", "b", "c", "d"]);
    });
  });
}
