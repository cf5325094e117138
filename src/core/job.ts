/**
 * Jobs as the scheduler sees them. A job is one execution of a stage; jobs made by fix rounds,
 * retries, routing and spawning are new jobs, never rewrites of old ones.
 *
 * Roles:
 * - `head`: the stage's own chain (first run, fix rounds, retries, reruns after a route).
 * - `member`: one agent of a fan-out stage; its `parentJobId` is the stage's aggregate job.
 * - `spawned`: added by a running job through `baton job spawn`; its `parentJobId` is that job.
 *   The parent's stage is not done until its spawned jobs are.
 */
import type { NeedCondition } from "./pipeline-def.js";
import type { Job } from "./records.js";
import type { SessionFacts } from "./session-policy.js";

export const JOB_ROLES = ["head", "member", "spawned"] as const;
export type JobRole = (typeof JOB_ROLES)[number];

export const JOB_TRIGGERS = [
  "initial",
  "fix",
  "retry",
  "route",
  "rerun",
  "manual",
  "spawn",
  /** The same work again after its agent was rate limited; spends no retry. */
  "rate_limit",
] as const;
export type JobTrigger = (typeof JOB_TRIGGERS)[number];

/**
 * What runs: an agent session, a shell command session, a built-in (`uses`), or the fan-in
 * of a fan-out stage (a command session for `aggregate: {run}`, otherwise computed in place).
 */
export const JOB_KINDS = ["agent", "command", "builtin", "aggregate"] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/** Context a job carries into its prompt. */
export interface JobContext {
  /** Failing gates of the job this one fixes or retries: names and output tails. */
  failures?: { gate: string; output: string }[];
  /** Set on a job made by routing: which stage sent the work back, and why. */
  route?: { from: string; reason: string };
  /** Set on a spawned job: the spawning job's `--context`. */
  spawn?: { context: string; byJob: string };
  /** Set on a manual retry or unblock. */
  manual?: { reason: string };
}

/** Who holds a job's lease, relative to the engine that took the snapshot. */
export type LeaseView = "none" | "mine" | "other";

/** The fields of a job that the scheduler chooses when it creates one. */
type ChosenJobField =
  | "stageId"
  | "role"
  | "kind"
  | "parentJobId"
  | "member"
  | "trigger"
  | "attempt"
  | "fixRound"
  | "agent"
  | "model"
  | "notBefore"
  | "routedFrom"
  | "context";

/**
 * The scheduler's view of a job: the fields of its record that decide what happens next, what
 * its agent spent, who holds its lease, and the facts about its live session.
 */
export type JobSnap = Pick<
  Job,
  | "id"
  | "seq"
  | ChosenJobField
  | "status"
  | "errorClass"
  | "error"
  | "fingerprints"
  | "failures"
  | "createdAt"
  | "startedAt"
  | "finishedAt"
> & {
  /** What the job's agent spent so far: all tokens (cache reads and writes too), and USD. */
  usage: { tokens: number; costUsd: number };
  lease: LeaseView;
  /** Facts about the live session, for active jobs that have one. */
  session: SessionFacts | null;
};

/**
 * A job the scheduler wants created: the fields of a `Job` it chooses, and the upstream jobs it
 * consumes. For members of a new fan-out `parentJobId` is `"new"`.
 */
export type NewJob = Pick<Job, ChosenJobField> & {
  /** The upstream jobs this one consumes, with the condition that let it run. */
  deps: { jobId: string; when: NeedCondition }[];
};
