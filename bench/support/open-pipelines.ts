/**
 * The check-in benchmark's state: running pipelines (work → check → finish) whose first stage
 * has one `running` job, no lease, and a session record pointing at one shared live process,
 * built directly in the store with the repositories.
 */
import { join } from "node:path";
import { snapshotPipeline } from "../../src/config/snapshot.js";
import type { NewJob } from "../../src/core/job.js";
import { hashToken } from "../../src/engine/job-start.js";
import { makeId, makeSecret } from "../../src/lib/ids.js";
import type { SessionHandle } from "../../src/sessions/runtime.js";
import { insertJob, updateLeasedJob } from "../../src/store/jobs.repository.js";
import { insertPipeline, setPipelineStatus } from "../../src/store/pipelines.repository.js";
import { takeTaskNumber } from "../../src/store/projects.repository.js";
import { insertSession } from "../../src/store/sessions.repository.js";
import { insertTask, setTaskStatus } from "../../src/store/tasks.repository.js";
import type { EngineEnv } from "../../test/helpers/engine-env.js";

const PER_TRANSACTION = 2_000;

export const OPEN_PIPELINES_CONFIG = `version: 1
defaults:
  runtime: process
  commit: false
  timeout: 45m
  stall_timeout: 30m
pipelines:
  default:
    stages:
      - { id: work, run: "sleep 600" }
      - { id: check, run: "true", needs: [work] }
      - { id: finish, run: "true", needs: [check] }
`;

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

/** The one live process every session record points at. */
export async function startSharedSession(env: EngineEnv): Promise<SessionHandle> {
  const runtime = env.ctx.runtimes.process;
  if (runtime === undefined) {
    throw new Error("the engine context has no process runtime");
  }
  return runtime.start({
    name: "baton-bench-shared",
    dir: join(env.ctx.paths.sessions, "baton-bench-shared"),
    argv: ["sleep", "600"],
    cwd: env.root,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    stdin: { kind: "null" },
  });
}

/**
 * Inserts `count` running pipelines, each with a running job on `session`, in transactions of
 * `PER_TRANSACTION`, with the store's repositories.
 */
export async function insertOpenPipelines(
  env: EngineEnv,
  session: SessionHandle,
  count: number,
): Promise<void> {
  const { ctx, project } = env;
  const snapshot = snapshotPipeline(env.config, "default");
  const now = ctx.clock();
  for (let first = 0; first < count; first += PER_TRANSACTION) {
    await ctx.store.transaction(async (trx) => {
      for (let i = first; i < Math.min(count, first + PER_TRANSACTION); i += 1) {
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
          snapshot,
          now,
        });
        await setPipelineStatus(trx, pipeline.id, {
          from: ["pending"],
          to: "running",
          reason: null,
          now,
        });
        await setTaskStatus(trx, task.id, "running", now);
        const jobId = makeId("job");
        const token = makeSecret();
        await insertJob(trx, {
          id: jobId,
          pipelineId: pipeline.id,
          seq: 1,
          job: WORK_JOB,
          parentJobId: null,
          status: "running",
          tokenHash: hashToken(makeSecret()),
          lease: { token, holder: "bench-setup", expiresAt: now },
          now,
        });
        const sessionId = makeId("ses");
        await insertSession(trx, {
          id: sessionId,
          job_id: jobId,
          pipeline_id: pipeline.id,
          name: `baton-bench-${number}-work-1`,
          runtime: "process",
          host: ctx.hostname,
          dir: session.dir,
          log_path: session.logPath,
          pid: session.pid,
          pid_start_time: session.pidStartTime,
          state: "started",
          started_at: now,
          last_output_at: null,
          steered_at: null,
          wrapup_at: null,
          exited_at: null,
          exit_code: null,
          signal: null,
          human_ms: 0,
          human_since: null,
          agent_idle_at: null,
          agent_active_at: null,
          agent_session_id: null,
        });
        // As a check-in leaves it: the session recorded, the lease given up.
        await updateLeasedJob(trx, jobId, token, {
          session_id: sessionId,
          started_at: now,
          lease_token: null,
          lease_holder: null,
          lease_expires_at: null,
        });
      }
    });
  }
}
