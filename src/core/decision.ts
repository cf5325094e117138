/**
 * What the scheduler asks the engine to do. `decide()` returns these; `src/engine/` applies
 * them. Each names its pipeline so a decision can be checked against the pipeline's version
 * before it is applied.
 */
import type { NewJob } from "./job.js";

export type Decision =
  /** A pending pipeline gets a slot and starts. */
  | { kind: "start-pipeline"; pipelineId: string }
  /** Ask the llm router which agent and model run the task, before any job is made. */
  | { kind: "route-pipeline"; pipelineId: string }
  /**
   * Create a job (and, for a fan-out stage, its members). `start` lists what to start at once:
   * `"job"` for the job itself, or member agent names.
   */
  | {
      kind: "create-job";
      pipelineId: string;
      job: NewJob;
      members: NewJob[];
      start: boolean;
      startMembers: string[];
      /** For reports: why this job exists. */
      reason: string;
      /** Set when the job runs on a fallback agent (its own is rate limited). */
      fallback?: Fallback;
    }
  /** Record a stage as skipped: its needs are done and their conditions cannot hold. */
  | { kind: "skip-stage"; pipelineId: string; job: NewJob; reason: string }
  /**
   * Claim a pending job and start it; with `fallback`, on that agent instead of its own, which
   * is paused by a rate limit.
   */
  | {
      kind: "start-job";
      pipelineId: string;
      jobId: string;
      stageId: string;
      fallback?: Fallback;
    }
  /**
   * An active job nobody holds: claim it and carry on from where its status says (spawn or adopt
   * a `starting` job, run the gates of a `checking` one).
   */
  | { kind: "resume-job"; pipelineId: string; jobId: string; stageId: string }
  /**
   * Its session ended, or went idle (its agent finished its turn and waits: the session is
   * ended by Baton): record the exit, run gates, settle the job.
   */
  | {
      kind: "finalize-job";
      pipelineId: string;
      jobId: string;
      stageId: string;
      reason: string;
      idle: boolean;
    }
  /** Its session is gone without an exit record: the job fails as `lost`. */
  | { kind: "lose-job"; pipelineId: string; jobId: string; stageId: string; reason: string }
  /** Send a wrap-up message to a session past its limit. */
  | { kind: "steer"; pipelineId: string; jobId: string; stageId: string; reason: string }
  /**
   * Kill a session past its limit and the grace period, or past a budget; the job fails with
   * `errorClass`.
   */
  | {
      kind: "kill-job";
      pipelineId: string;
      jobId: string;
      stageId: string;
      errorClass: "timeout" | "stall" | "budget";
      reason: string;
    }
  /** Stop a job whose work no longer counts (routed around, or a fan-out already decided). */
  | { kind: "cancel-job"; pipelineId: string; jobId: string; stageId: string; reason: string }
  /** Block the pipeline for a human: the task needs review. */
  | { kind: "escalate"; pipelineId: string; stageId: string; jobId: string; reason: string }
  /** Every stage is settled. */
  | {
      kind: "finish-pipeline";
      pipelineId: string;
      status: "completed" | "failed";
      reason: string;
    };

export type DecisionKind = Decision["kind"];

/** Work moved off a rate-limited agent. */
export interface Fallback {
  from: string;
  agent: string;
  model: string | null;
  /** When the paused agent's limit resets. */
  until: number;
}

/** Why nothing happened to a pipeline in one pass; the check-in's `skip` messages. */
export interface SkipReport {
  pipelineId: string;
  stageId: string | null;
  reason: string;
}
