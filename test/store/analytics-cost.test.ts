/**
 * `costByGroup` (behind `baton analytics cost`) on every dialect: jobs with usage are written
 * through the jobs repository, then grouped by agent, model, stage and UTC day.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { NewJob } from "../../src/core/job.js";
import { snapshotOf } from "../../src/core/scheduler.test-utils.js";
import { costByGroup, sumCostRows } from "../../src/store/analytics.repository.js";
import type { Db } from "../../src/store/db.js";
import { insertJob, settleJob } from "../../src/store/jobs.repository.js";
import { insertPipeline } from "../../src/store/pipelines.repository.js";
import { insertProject, takeTaskNumber } from "../../src/store/projects.repository.js";
import { insertTask } from "../../src/store/tasks.repository.js";
import { DIALECTS, openTestStore, type TestStore } from "../helpers/store.js";

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
/** 2027-01-15T00:00:00Z and the day after. */
const DAY1 = Date.UTC(2027, 0, 15);
const DAY2 = DAY1 + DAY;

interface Usage {
  tokensIn: number;
  tokensOut: number;
  cacheRead: number;
  cacheWrite: number;
  costUsd: number;
}

const NO_USAGE: Usage = { tokensIn: 0, tokensOut: 0, cacheRead: 0, cacheWrite: 0, costUsd: 0 };

function newJob(stageId: string, agent: string | null, model: string | null): NewJob {
  return {
    stageId,
    role: "head",
    kind: agent === null ? "command" : "agent",
    parentJobId: null,
    member: null,
    trigger: "initial",
    attempt: 1,
    fixRound: 0,
    agent,
    model,
    notBefore: null,
    routedFrom: null,
    context: {},
    deps: [],
  };
}

async function addPipeline(db: Db, projectId: string, pipelineId: string): Promise<void> {
  await insertProject(db, { id: projectId, name: projectId, rootPath: `/${projectId}`, now: DAY1 });
  const number = await takeTaskNumber(db, projectId);
  const taskId = `tsk_${projectId}`;
  await insertTask(db, {
    id: taskId,
    projectId,
    number,
    title: "Spend tokens",
    body: "",
    labels: [],
    source: "local",
    sourceRef: null,
    status: "running",
    pipelineName: null,
    agent: null,
    now: DAY1,
  });
  await insertPipeline(db, {
    id: pipelineId,
    projectId,
    taskId,
    taskNumber: number,
    run: 1,
    name: "default",
    snapshot: snapshotOf([]),
    now: DAY1,
  });
}

let seq = 0;

/** A job that started at `startedAt` and succeeded an hour later having spent `usage`. */
async function addJob(
  db: Db,
  pipelineId: string,
  job: { stage: string; agent: string | null; model: string | null; startedAt: number },
  usage: Usage,
): Promise<void> {
  seq += 1;
  const id = `job_${seq}`;
  await insertJob(db, {
    id,
    pipelineId,
    seq,
    job: newJob(job.stage, job.agent, job.model),
    parentJobId: null,
    status: "starting",
    tokenHash: "h",
    lease: null,
    now: job.startedAt,
  });
  const settled = await settleJob(db, id, ["starting"], {
    status: "succeeded",
    finished_at: job.startedAt + HOUR,
    tokens_in: usage.tokensIn,
    tokens_out: usage.tokensOut,
    cache_read_tokens: usage.cacheRead,
    cache_write_tokens: usage.cacheWrite,
    cost_usd: usage.costUsd,
  });
  expect(settled).toBe(true);
}

for (const dialect of DIALECTS) {
  describe(`analytics cost on ${dialect}`, () => {
    let t: TestStore;

    beforeEach(async () => {
      t = await openTestStore(dialect);
      const { db } = t.store;
      await addPipeline(db, "prj_1", "pl_1");
      await addPipeline(db, "prj_2", "pl_2");
      // 0.1 + 0.2 is 0.30000000000000004 in floating point; the sums come back rounded.
      await addJob(
        db,
        "pl_1",
        { stage: "build", agent: "claude", model: "opus", startedAt: DAY1 + HOUR },
        { tokensIn: 1000, tokensOut: 200, cacheRead: 5000, cacheWrite: 300, costUsd: 0.1 },
      );
      await addJob(
        db,
        "pl_1",
        { stage: "build", agent: "claude", model: "sonnet", startedAt: DAY1 + 2 * HOUR },
        { tokensIn: 400, tokensOut: 100, cacheRead: 0, cacheWrite: 0, costUsd: 0.2 },
      );
      await addJob(
        db,
        "pl_1",
        { stage: "review", agent: "codex", model: null, startedAt: DAY2 + HOUR },
        { tokensIn: 2000, tokensOut: 500, cacheRead: 1000, cacheWrite: 0, costUsd: 0.125 },
      );
      // A command stage: no agent, no model, no usage; the last millisecond of day 2.
      await addJob(
        db,
        "pl_1",
        { stage: "check", agent: null, model: null, startedAt: DAY2 + DAY - 1 },
        NO_USAGE,
      );
      // Never started: left out everywhere.
      seq += 1;
      await insertJob(db, {
        id: `job_${seq}`,
        pipelineId: "pl_1",
        seq,
        job: newJob("review", "codex", null),
        parentJobId: null,
        status: "pending",
        tokenHash: "h",
        lease: null,
        now: DAY2,
      });
      // Another project's job.
      await addJob(
        db,
        "pl_2",
        { stage: "build", agent: "claude", model: "opus", startedAt: DAY2 },
        { tokensIn: 7, tokensOut: 3, cacheRead: 0, cacheWrite: 0, costUsd: 1 },
      );
    });

    afterEach(async () => {
      await t.cleanup();
    });

    it("groups by agent, '-' for jobs without one, most expensive first", async () => {
      const rows = await costByGroup(t.store.db, {
        projectId: "prj_1",
        by: ["agent"],
        since: null,
      });
      expect(rows).toEqual([
        {
          agent: "claude",
          jobs: 2,
          tokens_in: 1400,
          tokens_out: 300,
          cache_read_tokens: 5000,
          cache_write_tokens: 300,
          cost_usd: 0.3,
        },
        {
          agent: "codex",
          jobs: 1,
          tokens_in: 2000,
          tokens_out: 500,
          cache_read_tokens: 1000,
          cache_write_tokens: 0,
          cost_usd: 0.125,
        },
        {
          agent: "-",
          jobs: 1,
          tokens_in: 0,
          tokens_out: 0,
          cache_read_tokens: 0,
          cache_write_tokens: 0,
          cost_usd: 0,
        },
      ]);
      expect(sumCostRows(rows)).toEqual({
        jobs: 4,
        tokens_in: 3400,
        tokens_out: 800,
        cache_read_tokens: 6000,
        cache_write_tokens: 300,
        cost_usd: 0.425,
      });
    });

    it("counts every project's jobs when no project is given", async () => {
      const rows = await costByGroup(t.store.db, { projectId: null, by: ["agent"], since: null });
      expect(rows.map((r) => [r.agent, r.jobs, r.tokens_in, r.tokens_out, r.cost_usd])).toEqual([
        ["claude", 3, 1407, 303, 1.3],
        ["codex", 1, 2000, 500, 0.125],
        ["-", 1, 0, 0, 0],
      ]);
    });

    it("groups by model, stage and day", async () => {
      const db = t.store.db;
      const byModel = await costByGroup(db, { projectId: "prj_1", by: ["model"], since: null });
      expect(byModel.map((r) => [r.model, r.jobs, r.tokens_in, r.cost_usd])).toEqual([
        ["sonnet", 1, 400, 0.2],
        ["-", 2, 2000, 0.125],
        ["opus", 1, 1000, 0.1],
      ]);
      const byStage = await costByGroup(db, { projectId: "prj_1", by: ["stage"], since: null });
      expect(byStage.map((r) => [r.stage, r.jobs, r.cache_read_tokens, r.cost_usd])).toEqual([
        ["build", 2, 5000, 0.3],
        ["review", 1, 1000, 0.125],
        ["check", 1, 0, 0],
      ]);
      const byDay = await costByGroup(db, { projectId: "prj_1", by: ["day"], since: null });
      expect(byDay.map((r) => [r.day, r.jobs, r.tokens_out, r.cost_usd])).toEqual([
        ["2027-01-15", 2, 300, 0.3],
        ["2027-01-16", 2, 500, 0.125],
      ]);
    });

    it("combines keys in the order given, days first in time", async () => {
      const rows = await costByGroup(t.store.db, {
        projectId: "prj_1",
        by: ["day", "agent", "day"],
        since: null,
      });
      expect(rows.map((r) => Object.keys(r).slice(0, 3))).toEqual(
        rows.map(() => ["day", "agent", "jobs"]),
      );
      expect(rows.map((r) => [r.day, r.agent, r.jobs, r.cost_usd])).toEqual([
        ["2027-01-15", "claude", 2, 0.3],
        ["2027-01-16", "codex", 1, 0.125],
        ["2027-01-16", "-", 1, 0],
      ]);
    });

    it("counts only jobs that started from --since on", async () => {
      const db = t.store.db;
      const rows = await costByGroup(db, { projectId: "prj_1", by: ["agent"], since: DAY2 });
      expect(rows.map((r) => [r.agent, r.jobs, r.cost_usd])).toEqual([
        ["codex", 1, 0.125],
        ["-", 1, 0],
      ]);
      expect(
        await costByGroup(db, { projectId: "prj_1", by: ["agent"], since: DAY2 + DAY }),
      ).toEqual([]);
    });
  });
}
