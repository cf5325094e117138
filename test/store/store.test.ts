import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { NewJob } from "../../src/core/job.js";
import { LABELS_ROUTER, type PipelineSnapshot } from "../../src/core/pipeline-def.js";
import { appendEvents, listEvents } from "../../src/store/events.repository.js";
import {
  claimJob,
  countActiveJobs,
  getJobById,
  heartbeatLeases,
  insertJob,
  listLeaseHolders,
  nextJobSeq,
  reapLeases,
  releaseLeases,
  updateLeasedJob,
} from "../../src/store/jobs.repository.js";
import {
  bumpPipelineVersion,
  getPipelineById,
  insertPipeline,
  setPipelineStatus,
} from "../../src/store/pipelines.repository.js";
import { insertProject, takeTaskNumber } from "../../src/store/projects.repository.js";
import { readQueueSettings, writeQueueSettings } from "../../src/store/settings.repository.js";
import { findTaskByNumber, insertTask } from "../../src/store/tasks.repository.js";
import { DIALECTS, openTestStore, type TestStore } from "../helpers/store.js";

const NOW = 1_800_000_000_000;

const snapshot: PipelineSnapshot = {
  pipeline: {
    name: "default",
    stages: [],
    budget: { tokens: null, costUsd: null, wallclockMs: null },
  },
  agents: {},
  defaults: {
    agent: "claude",
    runtime: "process",
    timeoutMs: 1000,
    stallTimeoutMs: 1000,
    graceMs: 1000,
    idleAfterMs: 1000,
    rateLimitPauseMs: 900_000,
    commit: true,
    pipeline: "default",
  },
  router: LABELS_ROUTER,
  modelMap: {},
};

function newJob(stageId: string): NewJob {
  return {
    stageId,
    role: "head",
    kind: "command",
    parentJobId: null,
    member: null,
    trigger: "initial",
    attempt: 1,
    fixRound: 0,
    agent: "claude",
    model: null,
    notBefore: null,
    routedFrom: null,
    context: {},
    deps: [],
  };
}

for (const dialect of DIALECTS) {
  describe(`store on ${dialect}`, () => {
    let t: TestStore;
    let pipelineId: string;

    beforeEach(async () => {
      t = await openTestStore(dialect);
      const { store } = t;
      await store.transaction(async (trx) => {
        await insertProject(trx, { id: "prj_1", name: "demo", rootPath: "/repo", now: NOW });
        const number = await takeTaskNumber(trx, "prj_1");
        await insertTask(trx, {
          id: "tsk_1",
          projectId: "prj_1",
          number,
          title: "Fix it",
          body: "",
          labels: ["bug"],
          source: "local",
          sourceRef: null,
          status: "queued",
          pipelineName: null,
          agent: null,
          now: NOW,
        });
        const pipeline = await insertPipeline(trx, {
          id: "pl_1",
          projectId: "prj_1",
          taskId: "tsk_1",
          taskNumber: number,
          run: 1,
          name: "default",
          snapshot,
          now: NOW,
        });
        pipelineId = pipeline.id;
      });
    });

    afterEach(async () => {
      await t.cleanup();
    });

    it("numbers tasks per project from 1", async () => {
      const { store } = t;
      const second = await store.transaction((trx) => takeTaskNumber(trx, "prj_1"));
      expect(second).toBe(2);
      const task = await findTaskByNumber(store.db, "prj_1", 1);
      expect(task?.title).toBe("Fix it");
      expect(task?.labels).toEqual(["bug"]);
    });

    it("round-trips a pipeline's definition and applies version compare-and-set", async () => {
      const { store } = t;
      const pipeline = await getPipelineById(store.db, pipelineId);
      expect(pipeline?.snapshot).toEqual(snapshot);
      expect(pipeline?.version).toBe(1);
      expect(await bumpPipelineVersion(store.db, pipelineId, 1, NOW)).toBe(true);
      expect(await bumpPipelineVersion(store.db, pipelineId, 1, NOW)).toBe(false);
      expect((await getPipelineById(store.db, pipelineId))?.version).toBe(2);
    });

    it("moves a pipeline only from the statuses given and stamps start and finish", async () => {
      const { store } = t;
      expect(
        await setPipelineStatus(store.db, pipelineId, {
          from: ["running"],
          to: "completed",
          reason: null,
          now: NOW,
        }),
      ).toBe(false);
      expect(
        await setPipelineStatus(store.db, pipelineId, {
          from: ["pending"],
          to: "running",
          reason: null,
          now: NOW + 1,
        }),
      ).toBe(true);
      expect(
        await setPipelineStatus(store.db, pipelineId, {
          from: ["running"],
          to: "failed",
          reason: "x",
          now: NOW + 2,
        }),
      ).toBe(true);
      const pipeline = await getPipelineById(store.db, pipelineId);
      expect(pipeline).toMatchObject({
        status: "failed",
        reason: "x",
        startedAt: NOW + 1,
        finishedAt: NOW + 2,
      });
    });

    it("hands out a lease once, and refuses writes with a stale token", async () => {
      const { store } = t;
      await store.transaction(async (trx) => {
        const seq = await nextJobSeq(trx, pipelineId);
        await insertJob(trx, {
          id: "job_1",
          pipelineId,
          seq,
          job: newJob("build"),
          parentJobId: null,
          status: "pending",
          tokenHash: "h",
          lease: null,
          now: NOW,
        });
      });
      const lease = { token: "tok-a", holder: "host:1:1", expiresAt: NOW + 60_000 };
      expect(
        await claimJob(store.db, {
          id: "job_1",
          from: ["pending"],
          to: "starting",
          lease,
          now: NOW,
        }),
      ).toBe(true);
      const other = { token: "tok-b", holder: "host:2:1", expiresAt: NOW + 60_000 };
      expect(
        await claimJob(store.db, {
          id: "job_1",
          from: ["starting"],
          to: "starting",
          lease: other,
          now: NOW,
        }),
      ).toBe(false);
      expect(await updateLeasedJob(store.db, "job_1", "tok-b", { status: "running" })).toBe(false);
      expect(
        await updateLeasedJob(store.db, "job_1", "tok-a", { status: "running" }, ["starting"]),
      ).toBe(true);
      expect((await getJobById(store.db, "job_1"))?.status).toBe("running");
      expect(await countActiveJobs(store.db)).toEqual({ total: 1, perAgent: { claude: 1 } });

      // An expired lease can be reaped and the job claimed by someone else.
      expect(await reapLeases(store.db, NOW + 30_000, [])).toBe(0);
      expect(await heartbeatLeases(store.db, "host:1:1", NOW + 120_000)).toBe(1);
      expect(await listLeaseHolders(store.db, NOW + 90_000)).toEqual(["host:1:1"]);
      expect(await reapLeases(store.db, NOW + 90_000, ["host:1:1"])).toBe(1);
      expect(
        await claimJob(store.db, {
          id: "job_1",
          from: ["running"],
          to: "running",
          lease: other,
          now: NOW + 90_000,
        }),
      ).toBe(true);
      expect(await updateLeasedJob(store.db, "job_1", "tok-a", { status: "failed" })).toBe(false);
      await releaseLeases(store.db, "host:2:1");
      expect((await getJobById(store.db, "job_1"))?.leaseToken).toBeNull();
    });

    it("appends events with ids that only grow", async () => {
      const { store } = t;
      for (let i = 0; i < 5; i += 1) {
        await store.transaction(async (trx) => {
          await store.lockEvents(trx);
          await appendEvents(
            trx,
            [
              { kind: "test.one", pipelineId, data: { i } },
              { kind: "test.two", data: { i } },
            ],
            NOW + i,
          );
        });
      }
      const events = await listEvents(store.db, {});
      expect(events).toHaveLength(10);
      const ids = events.map((e) => e.id);
      expect([...ids].sort((a, b) => a - b)).toEqual(ids);
      expect(new Set(ids).size).toBe(10);
      const after = await listEvents(store.db, { afterId: ids[3], pipelineId });
      expect(after.map((e) => e.data.i)).toEqual([2, 3, 4]);
    });

    it("keeps queue settings with defaults", async () => {
      const { store } = t;
      expect(await readQueueSettings(store.db)).toEqual({
        paused: false,
        maxConcurrent: null,
        stopOnFailure: false,
      });
      await writeQueueSettings(store.db, { paused: true, stopOnFailure: true }, NOW);
      await writeQueueSettings(store.db, { paused: false }, NOW);
      expect(await readQueueSettings(store.db)).toEqual({
        paused: false,
        maxConcurrent: null,
        stopOnFailure: true,
      });
    });
  });
}
