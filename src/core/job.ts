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
import type { JobStatus, ErrorClass } from "./status.js";
import type { NeedCondition } from "./pipeline-def.js";
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

export interface JobSnap {
  id: string;
  /** Creation order within the pipeline, from 1. */
  seq: number;
  stageId: string;
  role: JobRole;
  kind: JobKind;
  parentJobId: string | null;
  /** Fan-out member: the agent name. */
  member: string | null;
  trigger: JobTrigger;
  attempt: number;
  fixRound: number;
  agent: string | null;
  /** The model chosen for the job (routing, the model map), or `null` for the agent's own. */
  model: string | null;
  status: JobStatus;
  /** A retry waits until this time. */
  notBefore: number | null;
  routedFrom: string | null;
  errorClass: ErrorClass | null;
  error: string | null;
  /** Fingerprints of the gates that failed when this job ended. */
  fingerprints: string[];
  /** Failing gates, kept so a fix round or retry can show them to the agent. */
  failures: { gate: string; output: string }[];
  /** What the job carried into its prompt; a rerun after a rate limit carries the same. */
  context: JobContext;
  /** What the job's agent spent so far: all tokens (cache reads and writes too), and USD. */
  usage: { tokens: number; costUsd: number };
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  lease: LeaseView;
  /** Facts about the live session, for active jobs that have one. */
  session: SessionFacts | null;
}

/** A job the scheduler wants created. */
export interface NewJob {
  stageId: string;
  role: JobRole;
  kind: JobKind;
  /** For members and spawned jobs: the parent's id. For members of a new fan-out, `"new"`. */
  parentJobId: string | null;
  member: string | null;
  trigger: JobTrigger;
  attempt: number;
  fixRound: number;
  agent: string | null;
  /** See `JobSnap.model`. */
  model: string | null;
  notBefore: number | null;
  routedFrom: string | null;
  context: JobContext;
  /** The upstream jobs this one consumes, with the condition that let it run. */
  deps: { jobId: string; when: NeedCondition }[];
}
