/**
 * Applies the decisions that change a pipeline's shape (new jobs, skipped stages, claims,
 * status changes) in one transaction that first compare-and-sets the pipeline's version. If
 * another engine changed the pipeline since the snapshot, nothing is written and the caller
 * decides again on fresh state.
 */
import { EVENTS } from "../core/events.js";
import type { Decision, Fallback } from "../core/decision.js";
import type { NewJob } from "../core/job.js";
import type { Job } from "../core/records.js";
import {
  pipelineStatusesBefore,
  taskStatusForPipeline,
  type PipelineStatus,
} from "../core/status.js";
import { makeId, makeSecret } from "../lib/ids.js";
import type { Db } from "../store/db.js";
import { appendEvents, type NewEvent } from "../store/events.repository.js";
import {
  claimJob,
  getJobById,
  insertJob,
  nextJobSeq,
  settleJob,
  updateLeasedJob,
  type Lease,
} from "../store/jobs.repository.js";
import { bumpPipelineVersion, setPipelineStatus } from "../store/pipelines.repository.js";
import { updateSession } from "../store/sessions.repository.js";
import { writeQueueSettings } from "../store/settings.repository.js";
import { setTaskStatus } from "../store/tasks.repository.js";
import type { EngineContext } from "./context.js";
import { hashToken } from "./job-start.js";
import type { LoadedPipeline } from "./snapshot.js";

export const STRUCTURAL_KINDS = new Set<Decision["kind"]>([
  "start-pipeline",
  "create-job",
  "skip-stage",
  "start-job",
  "lose-job",
  "escalate",
  "finish-pipeline",
]);

/** A job this engine claimed to start: its lease, and the token its session will be given. */
export interface ClaimedJob {
  job: Job;
  lease: Lease;
  /** The job's `BATON_JOB_TOKEN`; its hash was written with the claim. */
  jobToken: string;
}

export interface StructuralResult {
  applied: boolean;
  /** Jobs this engine claimed to start. */
  started: ClaimedJob[];
  /** The pipeline's status after the changes. */
  status: PipelineStatus;
}

/** Enough of a pipeline to move it and its task. */
export interface PipelineRef {
  pipeline: { id: string };
  project: { id: string };
  task: { id: string; number: number };
}

/** Moves a pipeline and its task together, with an event. */
export async function movePipeline(
  db: Db,
  lp: PipelineRef,
  to: PipelineStatus,
  reason: string | null,
  now: number,
  events: NewEvent[],
): Promise<boolean> {
  const moved = await setPipelineStatus(db, lp.pipeline.id, {
    from: pipelineStatusesBefore(to),
    to,
    reason,
    now,
  });
  if (moved) {
    const taskStatus = taskStatusForPipeline(to);
    await setTaskStatus(db, lp.task.id, taskStatus, now);
    const kind = {
      pending: EVENTS.pipelineCreated,
      running: EVENTS.pipelineStarted,
      blocked: EVENTS.pipelineBlocked,
      completed: EVENTS.pipelineCompleted,
      failed: EVENTS.pipelineFailed,
      cancelled: EVENTS.pipelineCancelled,
    }[to];
    events.push({
      kind,
      projectId: lp.project.id,
      taskNumber: lp.task.number,
      pipelineId: lp.pipeline.id,
      data: { reason },
    });
    events.push({
      kind: EVENTS.taskStatus,
      projectId: lp.project.id,
      taskNumber: lp.task.number,
      data: { to: taskStatus },
    });
  }
  return moved;
}

function fallbackEvent(
  ref: { projectId: string; taskNumber: number; pipelineId: string },
  jobId: string,
  stage: string,
  fallback: Fallback,
): NewEvent {
  return {
    kind: EVENTS.agentFallback,
    ...ref,
    jobId,
    data: { stage, from: fallback.from, to: fallback.agent, until: fallback.until },
  };
}

export async function applyStructural(
  ctx: EngineContext,
  lp: LoadedPipeline,
  decisions: readonly Decision[],
  makeLease: () => Lease,
  stopOnFailure: boolean,
): Promise<StructuralResult> {
  const now = ctx.clock();
  const ref = { projectId: lp.project.id, taskNumber: lp.task.number, pipelineId: lp.pipeline.id };
  return ctx.store.transaction(async (trx) => {
    let status = lp.pipeline.status;
    if (!(await bumpPipelineVersion(trx, lp.pipeline.id, lp.pipeline.version, now))) {
      return { applied: false, started: [], status };
    }
    const events: NewEvent[] = [];
    const started: ClaimedJob[] = [];
    let seq = await nextJobSeq(trx, lp.pipeline.id);

    const insert = async (
      job: NewJob,
      parentJobId: string | null,
      start: boolean,
      skipped: boolean,
    ): Promise<string> => {
      const id = makeId("job");
      const lease = start ? makeLease() : null;
      // A job that starts now gets the token its session will use; one that waits gets its
      // token when it is claimed.
      const jobToken = makeSecret();
      const created = await insertJob(trx, {
        id,
        pipelineId: lp.pipeline.id,
        seq,
        job,
        parentJobId,
        status: skipped ? "skipped" : start ? "starting" : "pending",
        tokenHash: hashToken(jobToken),
        lease,
        now,
      });
      seq += 1;
      if (lease !== null) {
        started.push({ job: created, lease, jobToken });
      }
      return id;
    };

    for (const decision of decisions) {
      switch (decision.kind) {
        case "start-pipeline":
          if (await movePipeline(trx, lp, "running", null, now, events)) {
            status = "running";
          }
          break;
        case "create-job": {
          const id = await insert(decision.job, decision.job.parentJobId, decision.start, false);
          events.push({
            kind: EVENTS.jobCreated,
            ...ref,
            jobId: id,
            data: {
              stage: decision.job.stageId,
              trigger: decision.job.trigger,
              attempt: decision.job.attempt,
              fixRound: decision.job.fixRound,
              agent: decision.job.agent,
              reason: decision.reason,
            },
          });
          for (const member of decision.members) {
            await insert(member, id, decision.startMembers.includes(member.member ?? ""), false);
          }
          if (decision.fallback !== undefined) {
            events.push(fallbackEvent(ref, id, decision.job.stageId, decision.fallback));
          }
          break;
        }
        case "skip-stage": {
          const id = await insert(decision.job, null, false, true);
          events.push({
            kind: EVENTS.jobSkipped,
            ...ref,
            jobId: id,
            data: { stage: decision.job.stageId, reason: decision.reason },
          });
          break;
        }
        case "start-job": {
          const lease = makeLease();
          const jobToken = makeSecret();
          if (
            await claimJob(trx, {
              id: decision.jobId,
              from: ["pending"],
              to: "starting",
              lease,
              tokenHash: hashToken(jobToken),
              now,
            })
          ) {
            if (decision.fallback !== undefined) {
              await updateLeasedJob(trx, decision.jobId, lease.token, {
                agent: decision.fallback.agent,
                model: decision.fallback.model,
              });
              events.push(fallbackEvent(ref, decision.jobId, decision.stageId, decision.fallback));
            }
            const job = await getJobById(trx, decision.jobId);
            if (job !== undefined) {
              started.push({ job, lease, jobToken });
            }
          }
          break;
        }
        case "lose-job": {
          const job = lp.jobs.find((j) => j.id === decision.jobId);
          const lost = await settleJob(trx, decision.jobId, ["running", "starting"], {
            status: "failed",
            error_class: "lost",
            error: decision.reason,
            finished_at: now,
          });
          if (lost && job?.sessionId !== undefined && job.sessionId !== null) {
            await updateSession(trx, job.sessionId, { state: "lost", exited_at: now });
            events.push({
              kind: EVENTS.sessionLost,
              ...ref,
              jobId: decision.jobId,
              data: { reason: decision.reason },
            });
          }
          if (lost) {
            events.push({
              kind: EVENTS.jobFailed,
              ...ref,
              jobId: decision.jobId,
              data: { stage: decision.stageId, errorClass: "lost", error: decision.reason },
            });
          }
          break;
        }
        case "escalate":
          if (await movePipeline(trx, lp, "blocked", decision.reason, now, events)) {
            status = "blocked";
          }
          break;
        case "finish-pipeline":
          if (await movePipeline(trx, lp, decision.status, decision.reason, now, events)) {
            status = decision.status;
            if (decision.status === "failed" && stopOnFailure) {
              await writeQueueSettings(trx, { paused: true }, now);
            }
          }
          break;
        default:
          break;
      }
    }
    await ctx.store.lockEvents(trx);
    await appendEvents(trx, events, now);
    return { applied: true, started, status };
  });
}
