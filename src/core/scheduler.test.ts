import { describe, expect, it } from "vitest";
import type { Decision } from "./decision.js";
import { decide } from "./scheduler.js";
import { agentStage, job, needs, pipeline, state, T0 } from "./scheduler.test-utils.js";
import type { SessionFacts } from "./session-policy.js";

function kinds(decisions: Decision[]): string[] {
  return decisions.map((d) => {
    switch (d.kind) {
      case "create-job":
        return `create ${d.job.stageId}${d.job.trigger === "initial" ? "" : ` (${d.job.trigger})`}${d.start ? " +start" : ""}`;
      case "skip-stage":
        return `skip-stage ${d.job.stageId}`;
      case "finish-pipeline":
        return `finish ${d.status}`;
      case "start-pipeline":
        return "start-pipeline";
      case "route-pipeline":
        return "route-pipeline";
      default:
        return `${d.kind} ${d.stageId}`;
    }
  });
}

const running: SessionFacts = {
  state: "active",
  orphaned: false,
  human: "absent",
  startedAt: T0,
  lastOutputAt: T0,
  steeredAt: null,
  wrapUpAt: null,
  humanMs: 0,
};

const plan = agentStage("plan");
const implement = agentStage("implement", { needs: needs("plan") });
const review = agentStage("review", { needs: needs("implement") });

describe("decide: pipelines", () => {
  it("starts a pending pipeline when a slot is free, and creates its first stage at once", () => {
    const s = state([pipeline([plan, implement], [], { status: "pending" })]);
    expect(kinds(decide(s, T0).decisions)).toEqual(["start-pipeline", "create plan +start"]);
  });

  it("keeps a pending pipeline waiting without a pipeline slot", () => {
    const s = state([pipeline([plan], [], { status: "pending" })], {
      running: { jobs: 0, pipelines: 3, perAgent: {} },
    });
    const schedule = decide(s, T0);
    expect(schedule.decisions).toEqual([]);
    expect(schedule.skips[0]?.reason).toBe("waiting for a pipeline slot (3 of 3 running)");
  });

  it("skips a blocked pipeline: a human must act", () => {
    const s = state([
      pipeline([plan], [job({ stageId: "plan", seq: 1, status: "failed" })], { status: "blocked" }),
    ]);
    const schedule = decide(s, T0);
    expect(schedule.decisions).toEqual([]);
    expect(schedule.skips).toEqual([
      { pipelineId: "pl_1", stageId: null, reason: "blocked: a human must act" },
    ]);
  });

  it("starts nothing while the queue is paused", () => {
    const s = state(
      [pipeline([plan], [], { status: "pending" }), pipeline([plan], [], { id: "pl_2" })],
      {
        queue: { paused: true },
      },
    );
    const schedule = decide(s, T0);
    expect(kinds(schedule.decisions)).toEqual([]);
    expect(schedule.skips.map((k) => k.reason)).toContain("queue paused");
  });

  it("finishes a pipeline whose stages all succeeded", () => {
    const s = state([
      pipeline(
        [plan, implement],
        [job({ stageId: "plan", seq: 1 }), job({ stageId: "implement", seq: 2 })],
      ),
    ]);
    expect(kinds(decide(s, T0).decisions)).toEqual(["finish completed"]);
  });
});

describe("decide: needs and conditions", () => {
  it("creates a dependent once its need succeeded, consuming that job", () => {
    const planJob = job({ stageId: "plan", seq: 1 });
    const [decision] = decide(state([pipeline([plan, implement], [planJob])]), T0).decisions;
    expect(decision).toMatchObject({
      kind: "create-job",
      start: true,
      job: { stageId: "implement", deps: [{ jobId: planJob.id, when: "success" }] },
    });
  });

  it("runs independent branches in parallel", () => {
    const a = agentStage("a");
    const b = agentStage("b", { needs: needs("a") });
    const c = agentStage("c", { needs: needs("a") });
    expect(
      kinds(decide(state([pipeline([a, b, c], [job({ stageId: "a", seq: 1 })])]), T0).decisions),
    ).toEqual(["create b +start", "create c +start"]);
  });

  it("after a final failure runs `when: failure` and `always` stages and skips `success` ones", () => {
    const a = agentStage("a");
    const onSuccess = agentStage("next", { needs: needs("a") });
    const onFailure = agentStage("cleanup", { needs: [{ stage: "a", when: "failure" }] });
    const always = agentStage("report", { needs: [{ stage: "a", when: "always" }] });
    const jobs = [
      job({ stageId: "a", seq: 1, status: "failed", errorClass: "exit", error: "exit code 1" }),
    ];
    expect(
      kinds(decide(state([pipeline([a, onSuccess, onFailure, always], jobs)]), T0).decisions),
    ).toEqual(["skip-stage next", "create cleanup +start", "create report +start"]);
  });

  it("skips a `success` dependent of a skipped stage but runs an `always` one", () => {
    const a = agentStage("a");
    const b = agentStage("b", { needs: needs("a") });
    const c = agentStage("c", { needs: needs("b") });
    const d = agentStage("d", { needs: [{ stage: "b", when: "always" }] });
    const jobs = [
      job({ stageId: "a", seq: 1, status: "failed", errorClass: "exit" }),
      job({ stageId: "b", seq: 2, status: "skipped" }),
    ];
    expect(kinds(decide(state([pipeline([a, b, c, d], jobs)]), T0).decisions)).toEqual([
      "skip-stage c",
      "create d +start",
    ]);
  });

  it("fails the pipeline when every stage is settled and one failed", () => {
    const a = agentStage("a");
    const b = agentStage("b", { needs: needs("a") });
    const jobs = [
      job({ stageId: "a", seq: 1, status: "failed", errorClass: "exit" }),
      job({ stageId: "b", seq: 2, status: "skipped" }),
    ];
    const [decision] = decide(state([pipeline([a, b], jobs)]), T0).decisions;
    expect(decision).toEqual({
      kind: "finish-pipeline",
      pipelineId: "pl_1",
      status: "failed",
      reason: "stage a failed",
    });
  });
});

describe("decide: gates, fix rounds and on_fail", () => {
  const gated = agentStage("implement", { fix: { maxRounds: 2, agent: null, prompt: null } });
  const failures = [{ gate: "test", output: "1 failing" }];

  it("starts a fix round with the failing gates' output when rounds are left", () => {
    const failed = job({
      stageId: "implement",
      seq: 1,
      status: "failed",
      errorClass: "gate",
      fingerprints: ["test:1"],
      failures,
    });
    const [decision] = decide(state([pipeline([gated], [failed])]), T0).decisions;
    expect(decision).toMatchObject({
      kind: "create-job",
      start: true,
      job: {
        stageId: "implement",
        trigger: "fix",
        attempt: 1,
        fixRound: 1,
        agent: "claude",
        context: { failures },
      },
      reason: "gate test failed; fix round 1 of 2",
    });
  });

  it("stops fixing when the same failure comes back after a fix round", () => {
    const jobs = [
      job({
        stageId: "implement",
        seq: 1,
        status: "failed",
        errorClass: "gate",
        fingerprints: ["test:1"],
        failures,
      }),
      job({
        stageId: "implement",
        seq: 2,
        trigger: "fix",
        fixRound: 1,
        status: "failed",
        errorClass: "gate",
        error: "gate test failed",
        fingerprints: ["test:1"],
        failures,
      }),
    ];
    const [decision] = decide(state([pipeline([gated], jobs)]), T0).decisions;
    expect(decision).toMatchObject({ kind: "finish-pipeline", status: "failed" });
  });

  it("keeps fixing while the failure changes", () => {
    const jobs = [
      job({
        stageId: "implement",
        seq: 1,
        status: "failed",
        errorClass: "gate",
        fingerprints: ["test:1"],
        failures,
      }),
      job({
        stageId: "implement",
        seq: 2,
        trigger: "fix",
        fixRound: 1,
        status: "failed",
        errorClass: "gate",
        fingerprints: ["test:2"],
        failures,
      }),
    ];
    expect(kinds(decide(state([pipeline([gated], jobs)]), T0).decisions)).toEqual([
      "create implement (fix) +start",
    ]);
  });

  it("escalates when the fix rounds are used up and on_fail is escalate", () => {
    const stage = agentStage("implement", {
      fix: { maxRounds: 1, agent: null, prompt: null },
      onFail: { kind: "escalate" },
    });
    const jobs = [
      job({
        stageId: "implement",
        seq: 1,
        status: "failed",
        errorClass: "gate",
        fingerprints: ["a"],
        failures,
      }),
      job({
        stageId: "implement",
        seq: 2,
        trigger: "fix",
        fixRound: 1,
        status: "failed",
        errorClass: "gate",
        error: "gate test failed",
        fingerprints: ["b"],
        failures,
      }),
    ];
    const [decision] = decide(state([pipeline([stage], jobs)]), T0).decisions;
    expect(decision).toMatchObject({ kind: "escalate", stageId: "implement", jobId: jobs[1]?.id });
    expect((decision as { reason: string }).reason).toBe(
      "implement: gate test failed; fix rounds used up (1)",
    );
  });

  it("retries with backoff and jitter, without spending a fix round", () => {
    const stage = agentStage("build", {
      onFail: {
        kind: "retry",
        max: 2,
        backoff: { baseMs: 10_000, factor: 2, maxMs: 60_000, jitter: false },
        then: "fail",
      },
    });
    const failed = job({
      stageId: "build",
      seq: 1,
      status: "failed",
      errorClass: "exit",
      error: "exit code 1",
      finishedAt: T0,
    });
    const schedule = decide(state([pipeline([stage], [failed])]), T0);
    expect(schedule.decisions[0]).toMatchObject({
      kind: "create-job",
      start: false,
      job: { trigger: "retry", attempt: 2, notBefore: T0 + 10_000 },
    });
    expect(schedule.wakeAt).toBe(T0 + 10_000);
  });

  it("starts a waiting retry once its time has come, and not before", () => {
    const stage = agentStage("build");
    const jobs = [
      job({ stageId: "build", seq: 1, status: "failed", errorClass: "exit" }),
      job({
        stageId: "build",
        seq: 2,
        status: "pending",
        trigger: "retry",
        attempt: 2,
        notBefore: T0 + 5_000,
      }),
    ];
    const early = decide(state([pipeline([stage], jobs)]), T0);
    expect(early.decisions).toEqual([]);
    expect(early.wakeAt).toBe(T0 + 5_000);
    expect(kinds(decide(state([pipeline([stage], jobs)]), T0 + 5_000).decisions)).toEqual([
      "start-job build",
    ]);
  });

  it("takes `then` when the retries are used up", () => {
    const stage = agentStage("build", {
      onFail: {
        kind: "retry",
        max: 1,
        backoff: { baseMs: 1, factor: 2, maxMs: 1, jitter: true },
        then: "escalate",
      },
    });
    const jobs = [
      job({ stageId: "build", seq: 1, status: "failed", errorClass: "exit" }),
      job({
        stageId: "build",
        seq: 2,
        status: "failed",
        trigger: "retry",
        attempt: 2,
        errorClass: "exit",
        error: "exit code 1",
      }),
    ];
    const [decision] = decide(state([pipeline([stage], jobs)]), T0).decisions;
    expect(decision).toMatchObject({
      kind: "escalate",
      reason: "build: exit code 1; retries used up (1)",
    });
  });

  it("routes work back to an earlier stage with the failure as context", () => {
    const routing = agentStage("review", {
      needs: needs("implement"),
      onFail: { kind: "route", to: "implement", max: 2, then: "escalate" },
    });
    const jobs = [
      job({ stageId: "plan", seq: 1 }),
      job({ stageId: "implement", seq: 2 }),
      job({
        stageId: "review",
        seq: 3,
        status: "failed",
        errorClass: "exit",
        error: "changes requested",
      }),
    ];
    const [decision] = decide(state([pipeline([plan, implement, routing], jobs)]), T0).decisions;
    expect(decision).toMatchObject({
      kind: "create-job",
      start: true,
      job: {
        stageId: "implement",
        trigger: "route",
        routedFrom: "review",
        context: { route: { from: "review", reason: "changes requested" } },
      },
    });
  });

  it("reruns the later stages after a routed job finished", () => {
    const routing = agentStage("review", {
      needs: needs("implement"),
      onFail: { kind: "route", to: "implement", max: 2, then: "escalate" },
    });
    const jobs = [
      job({ stageId: "plan", seq: 1 }),
      job({ stageId: "implement", seq: 2 }),
      job({ stageId: "review", seq: 3, status: "failed", errorClass: "exit" }),
      job({ stageId: "implement", seq: 4, trigger: "route", routedFrom: "review" }),
    ];
    expect(
      kinds(decide(state([pipeline([plan, implement, routing], jobs)]), T0).decisions),
    ).toEqual(["create review (rerun) +start"]);
  });

  it("escalates once a stage has routed back `max` times", () => {
    const routing = agentStage("review", {
      needs: needs("implement"),
      onFail: { kind: "route", to: "implement", max: 1, then: "escalate" },
    });
    const jobs = [
      job({ stageId: "plan", seq: 1 }),
      job({ stageId: "implement", seq: 2 }),
      job({ stageId: "review", seq: 3, status: "failed", errorClass: "exit" }),
      job({ stageId: "implement", seq: 4, trigger: "route", routedFrom: "review" }),
      job({
        stageId: "review",
        seq: 5,
        trigger: "rerun",
        status: "failed",
        errorClass: "exit",
        error: "still wrong",
      }),
    ];
    const [decision] = decide(state([pipeline([plan, implement, routing], jobs)]), T0).decisions;
    expect(decision).toMatchObject({
      kind: "escalate",
      reason: "review: still wrong; routed back 1 times already (max 1)",
    });
  });

  it("cancels a parallel branch whose upstream work is being redone", () => {
    const a = agentStage("a");
    const b = agentStage("b", {
      needs: needs("a"),
      onFail: { kind: "route", to: "a", max: 2, then: "fail" },
    });
    const c = agentStage("c", { needs: needs("a") });
    const jobs = [
      job({ stageId: "a", seq: 1 }),
      job({ stageId: "b", seq: 2, status: "failed", errorClass: "exit" }),
      job({ stageId: "c", seq: 3, status: "running", session: running }),
      job({
        stageId: "a",
        seq: 4,
        trigger: "route",
        routedFrom: "b",
        status: "running",
        session: running,
      }),
    ];
    expect(kinds(decide(state([pipeline([a, b, c], jobs)]), T0 + 1000).decisions)).toEqual([
      "cancel-job c",
    ]);
  });
});

describe("decide: live sessions (the check-in tree)", () => {
  const one = [agentStage("work")];
  const at = T0 + 1000;

  it.each([
    {
      name: "exited → finalize",
      session: { ...running, state: "exited" as const },
      lease: "none" as const,
      expected: ["finalize-job work"],
    },
    {
      name: "working within timeout → nothing",
      session: running,
      lease: "none" as const,
      expected: [],
    },
    {
      name: "orphaned → lose",
      session: { ...running, orphaned: true },
      lease: "none" as const,
      expected: ["lose-job work"],
    },
    {
      name: "held by another engine → nothing",
      session: { ...running, state: "exited" as const },
      lease: "other" as const,
      expected: [],
    },
  ])("$name", ({ session, lease, expected }) => {
    const jobs = [job({ stageId: "work", seq: 1, status: "running", session, lease })];
    expect(kinds(decide(state([pipeline(one, jobs)]), at).decisions)).toEqual(expected);
  });

  it("steers past the timeout, then kills after the grace period", () => {
    const jobs = [
      job({
        stageId: "work",
        seq: 1,
        status: "running",
        session: { ...running, lastOutputAt: T0 + 29 * 60_000 },
      }),
    ];
    expect(kinds(decide(state([pipeline(one, jobs)]), T0 + 30 * 60_000).decisions)).toEqual([
      "steer work",
    ]);
    const steered = [
      job({
        stageId: "work",
        seq: 1,
        status: "running",
        session: {
          ...running,
          lastOutputAt: T0 + 30 * 60_000,
          steeredAt: T0 + 30 * 60_000,
          wrapUpAt: T0 + 30 * 60_000,
        },
      }),
    ];
    expect(kinds(decide(state([pipeline(one, steered)]), T0 + 31 * 60_000).decisions)).toEqual([]);
    const [kill] = decide(state([pipeline(one, steered)]), T0 + 32 * 60_000).decisions;
    expect(kill).toMatchObject({ kind: "kill-job", errorClass: "timeout" });
  });

  it("resumes a job left starting or checking by a dead engine", () => {
    for (const status of ["starting", "checking"] as const) {
      const jobs = [job({ stageId: "work", seq: 1, status })];
      expect(kinds(decide(state([pipeline(one, jobs)]), at).decisions)).toEqual([
        "resume-job work",
      ]);
    }
  });

  it("loses a running job without a session record", () => {
    const jobs = [job({ stageId: "work", seq: 1, status: "running", session: null })];
    expect(kinds(decide(state([pipeline(one, jobs)]), at).decisions)).toEqual(["lose-job work"]);
  });
});

describe("decide: limits", () => {
  const a = agentStage("a");
  const b = agentStage("b");

  it("hands out job slots up to max_running_jobs, oldest pipeline first", () => {
    const s = state([pipeline([a, b], [])], {
      limits: { maxRunningPipelines: 3, maxRunningJobs: 1, perAgent: {} },
    });
    const schedule = decide(s, T0);
    // b waits as a decision, not as a job row: it is created when a slot frees.
    expect(kinds(schedule.decisions)).toEqual(["create a +start"]);
    expect(schedule.skips.at(-1)?.reason).toBe("waiting for a job slot (1 of 1 running)");
  });

  it("respects per_agent", () => {
    const codex = agentStage("c", { agent: "codex" });
    const s = state([pipeline([a, b, codex], [])], {
      running: { jobs: 0, pipelines: 1, perAgent: { claude: 1 } },
      limits: { maxRunningPipelines: 3, maxRunningJobs: 6, perAgent: { claude: 2 } },
    });
    expect(kinds(decide(s, T0).decisions)).toEqual(["create a +start", "create c +start"]);
  });

  it("does not start an agent paused by a rate limit, and wakes at its reset", () => {
    const s = state([pipeline([a], [])], { agentPausedUntil: { claude: T0 + 60_000 } });
    const schedule = decide(s, T0);
    expect(kinds(schedule.decisions)).toEqual([]);
    expect(schedule.wakeAt).toBe(T0 + 60_000);
  });
});

describe("decide: fan-out and spawned jobs", () => {
  const fan = {
    ...agentStage("reviews"),
    kind: "fanout" as const,
    agents: ["claude", "codex"],
    aggregate: { kind: "first-success" as const },
  };

  it("creates the aggregate with one member per agent and starts the members", () => {
    const [decision] = decide(state([pipeline([fan], [])]), T0).decisions;
    expect(decision).toMatchObject({
      kind: "create-job",
      start: false,
      startMembers: ["claude", "codex"],
      job: { kind: "aggregate" },
    });
    expect((decision as { members: unknown[] }).members).toHaveLength(2);
  });

  it("on first-success cancels the other members and starts the aggregate", () => {
    const aggregate = job({
      stageId: "reviews",
      seq: 1,
      kind: "aggregate",
      status: "pending",
      agent: null,
    });
    const jobs = [
      aggregate,
      job({
        stageId: "reviews",
        seq: 2,
        role: "member",
        member: "claude",
        parentJobId: aggregate.id,
        status: "succeeded",
      }),
      job({
        stageId: "reviews",
        seq: 3,
        role: "member",
        member: "codex",
        agent: "codex",
        parentJobId: aggregate.id,
        status: "running",
        session: running,
      }),
    ];
    expect(kinds(decide(state([pipeline([fan], jobs)]), T0).decisions)).toEqual([
      "cancel-job reviews",
      "start-job reviews",
    ]);
  });

  it("holds a stage's dependents until the jobs it spawned are done", () => {
    const parent = job({ stageId: "implement", seq: 2 });
    const jobs = [
      job({ stageId: "plan", seq: 1 }),
      parent,
      job({
        stageId: "implement",
        seq: 3,
        role: "spawned",
        trigger: "spawn",
        parentJobId: parent.id,
        status: "pending",
      }),
    ];
    expect(kinds(decide(state([pipeline([plan, implement, review], jobs)]), T0).decisions)).toEqual(
      ["start-job implement"],
    );
    const done = jobs.map((j) => (j.seq === 3 ? { ...j, status: "succeeded" as const } : j));
    expect(kinds(decide(state([pipeline([plan, implement, review], done)]), T0).decisions)).toEqual(
      ["create review +start"],
    );
  });
});
