/**
 * Status machines of tasks, pipelines and jobs. Every change of status goes through
 * `transition*`, which throws `InternalError` on a move the table does not allow.
 *
 * Task:     queued → running → done | failed | cancelled | needs_review | in_review
 *           needs_review → running (unblock/retry); blocked ↔ queued/running (waits on others)
 * Pipeline: pending → running → completed | failed | cancelled | blocked
 *           blocked → running (retry/unblock) | failed | cancelled; failed → running (retry)
 * Job:      pending → starting → running → checking → succeeded | failed
 *           running → succeeded (nothing to check: no gates, nothing to commit)
 *           pending → skipped | cancelled; starting | running | checking → failed | cancelled
 *           starting → pending (a claim given up before anything was spawned)
 */
import { InternalError } from "./errors.js";

export const TASK_STATUSES = [
  "queued",
  "running",
  "blocked",
  "needs_review",
  "in_review",
  "done",
  "failed",
  "cancelled",
] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const PIPELINE_STATUSES = [
  "pending",
  "running",
  "blocked",
  "completed",
  "failed",
  "cancelled",
] as const;
export type PipelineStatus = (typeof PIPELINE_STATUSES)[number];

export const JOB_STATUSES = [
  "pending",
  "starting",
  "running",
  "checking",
  "succeeded",
  "failed",
  "skipped",
  "cancelled",
] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Why a job failed. The adapter classes come from agent output; the rest from Baton. */
export const ERROR_CLASSES = [
  "exit",
  "gate",
  "timeout",
  "stall",
  "lost",
  "spawn",
  "rate_limit",
  "auth",
  "transient",
  "permanent",
  "budget",
  "cancelled",
  "internal",
] as const;
export type ErrorClass = (typeof ERROR_CLASSES)[number];

export const OPEN_PIPELINE_STATUSES: readonly PipelineStatus[] = ["pending", "running", "blocked"];
export const ACTIVE_JOB_STATUSES: readonly JobStatus[] = ["starting", "running", "checking"];
/** Jobs not finished yet: waiting to start, or active. */
export const OPEN_JOB_STATUSES: readonly JobStatus[] = ["pending", ...ACTIVE_JOB_STATUSES];
export const TERMINAL_JOB_STATUSES: readonly JobStatus[] = [
  "succeeded",
  "failed",
  "skipped",
  "cancelled",
];

export function isTerminalJob(status: JobStatus): boolean {
  return TERMINAL_JOB_STATUSES.includes(status);
}

/** Whether a job is not finished yet. Asked of every job on every pass: no list to search. */
export function isOpenJob(status: JobStatus): boolean {
  return (
    status === "pending" || status === "starting" || status === "running" || status === "checking"
  );
}

export function isActiveJob(status: JobStatus): boolean {
  return ACTIVE_JOB_STATUSES.includes(status);
}

export function isOpenPipeline(status: PipelineStatus): boolean {
  return OPEN_PIPELINE_STATUSES.includes(status);
}

const TASK_MOVES: Record<TaskStatus, readonly TaskStatus[]> = {
  queued: ["running", "blocked", "cancelled", "failed", "needs_review"],
  running: ["done", "failed", "cancelled", "needs_review", "in_review", "blocked", "queued"],
  blocked: ["queued", "running", "cancelled", "failed"],
  needs_review: ["running", "queued", "cancelled", "failed", "done"],
  in_review: ["done", "running", "queued", "cancelled", "failed"],
  done: ["queued"],
  failed: ["queued", "running", "cancelled"],
  cancelled: ["queued"],
};

const PIPELINE_MOVES: Record<PipelineStatus, readonly PipelineStatus[]> = {
  pending: ["running", "cancelled", "failed"],
  running: ["completed", "failed", "cancelled", "blocked"],
  blocked: ["running", "failed", "cancelled"],
  completed: [],
  failed: ["running", "cancelled"],
  cancelled: [],
};

const JOB_MOVES: Record<JobStatus, readonly JobStatus[]> = {
  pending: ["starting", "skipped", "cancelled", "failed"],
  starting: ["running", "pending", "failed", "cancelled"],
  running: ["checking", "succeeded", "failed", "cancelled"],
  checking: ["succeeded", "failed", "cancelled"],
  succeeded: [],
  failed: [],
  skipped: [],
  cancelled: [],
};

function move<S extends string>(kind: string, table: Record<S, readonly S[]>, from: S, to: S): S {
  if (from === to || table[from].includes(to)) {
    return to;
  }
  throw new InternalError(`illegal ${kind} transition ${from} → ${to}`);
}

export function transitionTask(from: TaskStatus, to: TaskStatus): TaskStatus {
  return move("task", TASK_MOVES, from, to);
}

export function transitionPipeline(from: PipelineStatus, to: PipelineStatus): PipelineStatus {
  return move("pipeline", PIPELINE_MOVES, from, to);
}

export function transitionJob(from: JobStatus, to: JobStatus): JobStatus {
  return move("job", JOB_MOVES, from, to);
}

/** The statuses a job may be in just before moving to `to`; used to build guarded updates. */
export function jobStatusesBefore(to: JobStatus): JobStatus[] {
  return JOB_STATUSES.filter((from) => JOB_MOVES[from].includes(to));
}

/** The statuses a pipeline may be in just before moving to `to`. */
export function pipelineStatusesBefore(to: PipelineStatus): PipelineStatus[] {
  return PIPELINE_STATUSES.filter((from) => PIPELINE_MOVES[from].includes(to));
}

/** The task status that follows from its pipeline's status. */
export function taskStatusForPipeline(status: PipelineStatus): TaskStatus {
  switch (status) {
    case "pending":
      return "queued";
    case "running":
      return "running";
    case "blocked":
      return "needs_review";
    case "completed":
      return "done";
    case "failed":
      return "failed";
    case "cancelled":
      return "cancelled";
  }
}
