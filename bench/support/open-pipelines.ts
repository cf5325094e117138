/**
 * The check-in benchmark's states, built directly in the store with the repositories. Every
 * pipeline runs `default` (three stages in a chain: work → check → finish) and has nothing to
 * do at the time of the check-in:
 *
 * - `live`: running; its `work` job runs in a live session, well within its timeouts, and
 *   nobody holds its lease (as a check-in leaves it).
 * - `backoff`: running; its first `work` job failed and its retry waits out a one-hour backoff.
 * - `blocked`: its `work` job failed and escalated; a person must act.
 * - `pending`: queued, waiting for a pipeline slot; no jobs yet.
 */
import { join } from "node:path";
import { snapshotPipeline } from "../../src/config/snapshot.js";
import type { NewJob } from "../../src/core/job.js";
import type { PipelineStatus, TaskStatus } from "../../src/core/status.js";
import { hashToken } from "../../src/engine/job-start.js";
import { makeId, makeSecret } from "../../src/lib/ids.js";
import type { SessionHandle } from "../../src/sessions/runtime.js";
import type { Db } from "../../src/store/db.js";
import { insertJob, updateLeasedJob, type JobPatch } from "../../src/store/jobs.repository.js";
import { insertPipeline, setPipelineStatus } from "../../src/store/pipelines.repository.js";
import { takeTaskNumber } from "../../src/store/projects.repository.js";
import { insertSession } from "../../src/store/sessions.repository.js";
import { insertTask, setTaskStatus } from "../../src/store/tasks.repository.js";
import type { EngineEnv } from "../../test/helpers/engine-env.js";

const PER_TRANSACTION = 2_000;
const HOUR = 3_600_000;

/** `max_running_pipelines` / `max_running_jobs` is given by each benchmark. */
export function openPipelinesConfig(limits: { pipelines: number; jobs: number }): string {
  return `version: 1
defaults:
  runtime: process
  commit: false
  timeout: 45m
  stall_timeout: 30m
limits:
  max_running_pipelines: ${limits.pipelines}
  max_running_jobs: ${limits.jobs}
pipelines:
  default:
    stages:
      - { id: work, run: "sleep 600", on_fail: { retry: 3 } }
      - { id: check, run: "true", needs: [work] }
      - { id: finish, run: "true", needs: [check] }
`;
}

export type OpenPipelineShape =
  | { kind: "live"; session: SessionHandle }
  | { kind: "backoff" }
  | { kind: "blocked" }
  | { kind: "pending" };

const WORK_JOB: NewJob = {
  stageId: "work",
  role: "head",
  kind: "command",
  parentJobId: null,
  member: null,
  trigger: "initial",
  attempt: 1,
  fixRound: 0,
  agent: null,
  model: null,
  notBefore: null,
  routedFrom: null,
  context: {},
  deps: [],
};

/** Starts a live process (`sleep 600`) with the process runtime, as a job's session. */
export async function startLiveSession(env: EngineEnv, name: string): Promise<SessionHandle> {
  const runtime = env.ctx.runtimes.process;
  if (runtime === undefined) {
    throw new Error("the engine context has no process runtime");
  }
  return runtime.start({
    name,
    dir: join(env.ctx.paths.sessions, name),
    argv: ["sleep", "600"],
    cwd: env.root,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    stdin: { kind: "null" },
  });
}

const PIPELINE_STATUS: Record<OpenPipelineShape["kind"], PipelineStatus> = {
  live: "running",
  backoff: "running",
  blocked: "blocked",
  pending: "pending",
};

const TASK_STATUS: Record<OpenPipelineShape["kind"], TaskStatus> = {
  live: "running",
  backoff: "running",
  blocked: "needs_review",
  pending: "queued",
};

/**
 * Inserts one pipeline per shape, in order, in transactions of `PER_TRANSACTION`, with the
 * store's repositories.
 */
export async function insertOpenPipelines(
  env: EngineEnv,
  shapes: readonly OpenPipelineShape[],
): Promise<void> {
  for (let first = 0; first < shapes.length; first += PER_TRANSACTION) {
    await env.ctx.store.transaction(async (trx) => {
      for (const shape of shapes.slice(first, first + PER_TRANSACTION)) {
        await insertOne(env, trx, shape);
      }
    });
  }
}

async function insertOne(env: EngineEnv, trx: Db, shape: OpenPipelineShape): Promise<void> {
  const { ctx, project } = env;
  const now = ctx.clock();
  const number = await takeTaskNumber(trx, project.id);
  const task = await insertTask(trx, {
    id: makeId("tsk"),
    projectId: project.id,
    number,
    title: `Open pipeline ${number}`,
    body: "",
    labels: [],
    source: "local",
    sourceRef: null,
    status: "queued",
    pipelineName: "default",
    agent: null,
    now,
  });
  const pipeline = await insertPipeline(trx, {
    id: makeId("pl"),
    projectId: project.id,
    taskId: task.id,
    taskNumber: number,
    run: 1,
    name: "default",
    snapshot: snapshotPipeline(env.config, "default"),
    now,
  });
  if (shape.kind === "pending") {
    return;
  }
  await setPipelineStatus(trx, pipeline.id, {
    from: ["pending"],
    to: PIPELINE_STATUS[shape.kind],
    reason: shape.kind === "blocked" ? "stage work failed: escalated" : null,
    now,
  });
  await setTaskStatus(trx, task.id, TASK_STATUS[shape.kind], now);
  const addJob = async (seq: number, job: NewJob, patch: JobPatch): Promise<string> => {
    const id = makeId("job");
    const token = makeSecret();
    await insertJob(trx, {
      id,
      pipelineId: pipeline.id,
      seq,
      job,
      parentJobId: null,
      status: "running",
      tokenHash: hashToken(makeSecret()),
      lease: { token, holder: "bench-setup", expiresAt: now },
      now,
    });
    // As an engine leaves it: its lease given up.
    await updateLeasedJob(trx, id, token, {
      ...patch,
      lease_token: null,
      lease_holder: null,
      lease_expires_at: null,
    });
    return id;
  };
  const failed: JobPatch = {
    status: "failed",
    exit_code: 1,
    error_class: "permanent",
    error: "exit code 1",
    started_at: now - HOUR,
    finished_at: now - HOUR / 2,
  };
  switch (shape.kind) {
    case "backoff": {
      await addJob(1, WORK_JOB, failed);
      await addJob(
        2,
        { ...WORK_JOB, trigger: "retry", attempt: 2, notBefore: now + HOUR },
        { status: "pending" },
      );
      return;
    }
    case "blocked":
      await addJob(1, WORK_JOB, failed);
      return;
    case "live": {
      const sessionId = makeId("ses");
      const jobId = await addJob(1, WORK_JOB, { started_at: now, session_id: sessionId });
      await insertSession(trx, {
        id: sessionId,
        job_id: jobId,
        pipeline_id: pipeline.id,
        name: `baton-bench-${number}-work-1`,
        runtime: "process",
        host: ctx.hostname,
        dir: shape.session.dir,
        log_path: shape.session.logPath,
        pid: shape.session.pid,
        pid_start_time: shape.session.pidStartTime,
        started_at: now,
      });
      return;
    }
  }
}
