/**
 * Planning with a memo must give exactly the plan planning without one gives. A seeded
 * simulation drives pipelines through routes, retries, fix rounds, skipped stages, fan-outs
 * and spawned jobs, handing the planner job snapshots the way the engine's loader does (a
 * finished job keeps its object, an open one is a new object each pass), and compares both
 * plans on every pass.
 */
import { describe, expect, it } from "vitest";
import type { Decision } from "./decision.js";
import type { JobSnap, NewJob } from "./job.js";
import type { StageDef } from "./pipeline-def.js";
import { planPipeline } from "./pipeline-resolver.js";
import { PlanMemo } from "./plan-memo.js";
import { decide } from "./scheduler.js";
import { agentStage, job, needs, pipeline, snapshotOf, state, T0 } from "./scheduler.test-utils.js";

const STEP_MS = 60_000;
const BACKOFF = { baseMs: 30_000, factor: 2, maxMs: 120_000, jitter: true };

const STAGES: StageDef[] = [
  agentStage("a"),
  agentStage("b", {
    needs: needs("a"),
    onFail: { kind: "retry", max: 2, backoff: BACKOFF, then: "fail" },
  }),
  agentStage("c", {
    needs: needs("a"),
    gates: [{ kind: "command", name: "test", run: "npm test", autofix: null, timeoutMs: 60_000 }],
    onFail: { kind: "route", to: "a", max: 2, then: "fail" },
  }),
  agentStage("d", { needs: needs("b", "c") }),
  agentStage("cleanup", { needs: [{ stage: "c", when: "failure" }] }),
  agentStage("report", { needs: [{ stage: "d", when: "always" }] }),
  {
    ...agentStage("fan", { needs: needs("a") }),
    kind: "fanout",
    agents: ["claude", "codex"],
    aggregate: { kind: "first-success" },
  },
  agentStage("e", {
    needs: needs("fan", "b"),
    onFail: { kind: "retry", max: 1, backoff: BACKOFF, then: "escalate" },
  }),
];

/**
 * The definition, one object for every pass as the engine's loader keeps it: the memo belongs
 * to one definition object and starts over for another.
 */
const SNAPSHOT = snapshotOf(STAGES);

/** A small deterministic PRNG (mulberry32), so a failing seed can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const OPEN = new Set(["pending", "starting", "running", "checking"]);

/** The jobs of one simulated pipeline, as a store would hold them. */
class Jobs {
  rows: JobSnap[] = [];
  /** Snapshots handed out on the last pass, by id: a finished job's is handed out again. */
  #last = new Map<string, JobSnap>();

  snapshot(): JobSnap[] {
    const snaps = this.rows.map((row) => {
      const last = this.#last.get(row.id);
      return last !== undefined && !OPEN.has(last.status) && last.status === row.status
        ? last
        : { ...row };
    });
    this.#last = new Map(snaps.map((s) => [s.id, s]));
    return snaps;
  }

  add(newJob: NewJob, status: JobSnap["status"], now: number, parentJobId?: string): JobSnap {
    const row = job({
      stageId: newJob.stageId,
      role: newJob.role,
      kind: newJob.kind,
      member: newJob.member,
      trigger: newJob.trigger,
      attempt: newJob.attempt,
      fixRound: newJob.fixRound,
      agent: newJob.agent,
      model: newJob.model,
      notBefore: newJob.notBefore,
      routedFrom: newJob.routedFrom,
      context: newJob.context,
      parentJobId: parentJobId ?? newJob.parentJobId,
      seq: this.rows.length + 1,
      status,
      createdAt: now,
      startedAt: status === "running" ? now : null,
      finishedAt: OPEN.has(status) ? null : now,
      lease: "mine",
    });
    this.rows.push(row);
    return row;
  }

  set(id: string, change: Partial<JobSnap>): void {
    this.rows = this.rows.map((row) => (row.id === id ? { ...row, ...change } : row));
  }
}

function apply(jobs: Jobs, decisions: readonly Decision[], now: number): "open" | "closed" {
  for (const d of decisions) {
    switch (d.kind) {
      case "create-job": {
        const head = jobs.add(d.job, d.start ? "running" : "pending", now);
        for (const member of d.members) {
          const started = d.startMembers.includes(member.member ?? "");
          jobs.add(member, started ? "running" : "pending", now, head.id);
        }
        break;
      }
      case "skip-stage":
        jobs.add(d.job, "skipped", now);
        break;
      case "start-job":
        jobs.set(d.jobId, { status: "running", startedAt: now });
        break;
      case "cancel-job":
        jobs.set(d.jobId, { status: "cancelled", errorClass: "cancelled", finishedAt: now });
        break;
      case "finish-pipeline":
      case "escalate":
        return "closed";
      default:
        break;
    }
  }
  return "open";
}

/** Ends one running job, as its session might: success, a failing gate, or another failure. */
function finishOne(jobs: Jobs, next: () => number, now: number): void {
  const running = jobs.rows.filter((j) => j.status === "running");
  const done = running[Math.floor(next() * running.length)];
  if (done === undefined) {
    return;
  }
  const roll = next();
  if (roll < 0.6) {
    jobs.set(done.id, { status: "succeeded", finishedAt: now });
    if (next() < 0.1 && done.role === "head") {
      const spawned: NewJob = {
        ...done,
        role: "spawned",
        trigger: "spawn",
        attempt: 1,
        fixRound: 0,
        notBefore: null,
        deps: [],
      };
      jobs.add(spawned, "pending", now, done.id);
    }
  } else if (roll < 0.8) {
    const fingerprint = next() < 0.5 ? "same" : `f${jobs.rows.length}`;
    jobs.set(done.id, {
      status: "failed",
      errorClass: "gate",
      error: "gate test failed",
      fingerprints: [fingerprint],
      failures: [{ gate: "test", output: "1 failing" }],
      finishedAt: now,
    });
  } else {
    jobs.set(done.id, {
      status: "failed",
      errorClass: "permanent",
      error: "exit 1",
      finishedAt: now,
    });
  }
}

function comparable(plan: ReturnType<typeof planPipeline>) {
  return { ...plan, stages: [...plan.stages] };
}

describe("planning with a memo", () => {
  it("plans exactly as planning from scratch, pass after pass", () => {
    let passes = 0;
    for (let seed = 1; seed <= 150; seed += 1) {
      const next = random(seed);
      const jobs = new Jobs();
      const memo = new PlanMemo();
      let now = T0;
      for (let pass = 0; pass < 120; pass += 1) {
        const snaps = jobs.snapshot();
        // A tight job limit keeps ready stages waiting for a slot over many passes.
        const limits = { maxRunningPipelines: 1, maxRunningJobs: 1 + (seed % 3), perAgent: {} };
        const running = snaps.filter((j) => j.status === "running").length;
        const counts = { jobs: running, pipelines: 1, perAgent: {} };
        const remembered = decide(
          state([pipeline(STAGES, snaps, { memo, snapshot: SNAPSHOT })], {
            limits,
            running: counts,
          }),
          now,
        );
        const fresh = decide(
          state([pipeline(STAGES, snaps, { snapshot: SNAPSHOT })], { limits, running: counts }),
          now,
        );
        expect(remembered, `seed ${seed}, pass ${pass}`).toEqual(fresh);
        expect(
          comparable(planPipeline(pipeline(STAGES, snaps, { memo, snapshot: SNAPSHOT }), now)),
          `seed ${seed}, pass ${pass}`,
        ).toEqual(comparable(planPipeline(pipeline(STAGES, snaps, { snapshot: SNAPSHOT }), now)));
        passes += 1;
        if (apply(jobs, fresh.decisions, now) === "closed") {
          break;
        }
        finishOne(jobs, next, now);
        now += STEP_MS;
      }
    }
    expect(passes).toBeGreaterThan(1000);
  });

  it("starts over when the pipeline's jobs change other than in place", () => {
    const memo = new PlanMemo();
    const stages = [agentStage("a"), agentStage("b", { needs: needs("a") })];
    const snapshot = snapshotOf(stages);
    const a = job({ stageId: "a", seq: 1 });
    const b = job({ stageId: "b", seq: 2 });
    planPipeline(pipeline(stages, [a, b], { memo, snapshot }), T0);
    // One job fewer (a store restored, a pipeline reset): planned afresh, as without a memo.
    const shorter = planPipeline(pipeline(stages, [a], { memo, snapshot }), T0);
    expect(comparable(shorter)).toEqual(comparable(planPipeline(pipeline(stages, [a]), T0)));
    expect(shorter.creates.map((c) => c.job.stageId)).toEqual(["b"]);
  });
});
