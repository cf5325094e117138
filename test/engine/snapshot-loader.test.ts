/**
 * The snapshot loader reads a new engine's first snapshot in a few joined queries and later
 * ones incrementally; both must see the same state. Effects get the whole pipeline, but keep
 * the status and version the scheduler decided on.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { NewJob } from "../../src/core/job.js";
import { SnapshotLoader, type EngineSnapshot } from "../../src/engine/snapshot.js";
import { insertJob, settleJob } from "../../src/store/jobs.repository.js";
import {
  bumpPipelineVersion,
  getPipelineById,
  setPipelineStatus,
  setPipelineWorktree,
} from "../../src/store/pipelines.repository.js";
import { makeEngineEnv, type EngineEnv } from "../helpers/engine-env.js";
import { DIALECTS } from "../helpers/store.js";

const CONFIG = `version: 1
defaults:
  runtime: process
pipelines:
  default:
    stages:
      - { id: build, run: "true" }
      - { id: test, run: "true", needs: [build] }
`;

function newJob(stageId: string, attempt = 1): NewJob {
  return {
    stageId,
    role: "head",
    kind: "command",
    parentJobId: null,
    member: null,
    trigger: attempt === 1 ? "initial" : "retry",
    attempt,
    fixRound: 0,
    agent: null,
    model: null,
    notBefore: null,
    routedFrom: null,
    context: {},
    deps: [],
  };
}

/** The scheduler's view, in a stable order and without the time-dependent session facts. */
function view(snap: EngineSnapshot) {
  return snap.state.pipelines
    .map((p) => ({
      id: p.id,
      status: p.status,
      jobs: p.jobs.map((j) => ({ id: j.id, seq: j.seq, stage: j.stageId, status: j.status })),
    }))
    .sort((a, b) => (a.id < b.id ? -1 : 1));
}

for (const dialect of DIALECTS) {
  describe(`the snapshot loader on ${dialect}`, () => {
    let env: EngineEnv | undefined;
    afterEach(async () => {
      await env?.cleanup();
      env = undefined;
    });

    it("sees after changes what a new loader sees, and forgets closed pipelines", async () => {
      env = await makeEngineEnv({ dialect, config: CONFIG });
      const { ctx } = env;
      const db = ctx.store.db;
      const now = ctx.clock();
      const [a, b, c] = await Promise.all([
        env.addTask("first"),
        env.addTask("second"),
        env.addTask("third"),
      ]);
      const start = async (pipelineId: string) => {
        await setPipelineStatus(db, pipelineId, {
          from: ["pending"],
          to: "running",
          reason: null,
          now,
        });
      };
      // As every change that adds or finishes a job does.
      const bump = async (pipelineId: string) => {
        const current = await getPipelineById(db, pipelineId);
        await bumpPipelineVersion(db, pipelineId, current?.version ?? 0, now);
      };
      /** A pending `build` job, as a pass that creates one writes it. */
      const addPendingJob = async (id: string, pipelineId: string, seq: number, attempt = 1) => {
        await insertJob(db, {
          id,
          pipelineId,
          seq,
          job: newJob("build", attempt),
          parentJobId: null,
          status: "pending",
          tokenHash: "x",
          lease: null,
          now,
        });
      };
      await start(a.pipeline.id);
      await start(c.pipeline.id);
      await addPendingJob("job_a1", a.pipeline.id, 1);
      await addPendingJob("job_c1", c.pipeline.id, 1);

      const kept = new SnapshotLoader(ctx);
      const first = await kept.load({}, "test", now);
      expect(view(first)).toEqual(view(await new SnapshotLoader(ctx).load({}, "test", now)));
      expect(view(first).find((p) => p.id === b.pipeline.id)?.jobs).toEqual([]);

      // Since: a's build failed and its retry was added; b started with a job; c was cancelled.
      await settleJob(db, "job_a1", ["pending"], { status: "failed", finished_at: now });
      await addPendingJob("job_a2", a.pipeline.id, 2, 2);
      await bump(a.pipeline.id);
      await start(b.pipeline.id);
      await addPendingJob("job_b1", b.pipeline.id, 1);
      await bump(b.pipeline.id);
      await setPipelineStatus(db, c.pipeline.id, {
        from: ["running"],
        to: "cancelled",
        reason: "test",
        now,
      });

      const again = view(await kept.load({}, "test", now));
      expect(again).toEqual(view(await new SnapshotLoader(ctx).load({}, "test", now)));
      expect(again.map((p) => p.id).sort()).toEqual([a.pipeline.id, b.pipeline.id].sort());
      expect(again.find((p) => p.id === a.pipeline.id)?.jobs).toEqual([
        { id: "job_a1", seq: 1, stage: "build", status: "failed" },
        { id: "job_a2", seq: 2, stage: "build", status: "pending" },
      ]);
      expect(again.find((p) => p.id === b.pipeline.id)?.jobs).toEqual([
        { id: "job_b1", seq: 1, stage: "build", status: "pending" },
      ]);
    });

    it("hydrates the whole pipeline with the status and version the scheduler saw", async () => {
      env = await makeEngineEnv({ dialect, config: CONFIG });
      const { ctx } = env;
      const db = ctx.store.db;
      const now = ctx.clock();
      const { pipeline, task } = await env.addTask("hydrated");
      const loader = new SnapshotLoader(ctx);
      const snap = await loader.load({}, "test", now);
      const entry = snap.entries.get(pipeline.id);
      expect(entry?.pipeline.status).toBe("pending");

      // Changed after the snapshot: its worktree recorded, then started by someone else.
      await setPipelineWorktree(db, pipeline.id, {
        branch: "baton/1-hydrated",
        path: "/tmp/worktree",
        baseCommit: "abc123",
        now,
      });
      await setPipelineStatus(db, pipeline.id, {
        from: ["pending"],
        to: "running",
        reason: null,
        now,
      });

      const loaded = await loader.hydrate(entry === undefined ? [] : [entry]);
      const lp = loaded.get(pipeline.id);
      expect(lp?.task.number).toBe(task.number);
      expect(lp?.project.id).toBe(env.project.id);
      expect(lp?.pipeline).toMatchObject({
        id: pipeline.id,
        name: "default",
        run: 1,
        branch: "baton/1-hydrated",
        worktreePath: "/tmp/worktree",
        status: "pending",
        version: entry?.pipeline.version,
      });
    });
  });
}
