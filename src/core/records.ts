/**
 * The stored things as the rest of Baton sees them (camelCase, parsed JSON). `src/store/`
 * turns rows into these.
 */
import type { JobContext, JobKind, JobRole, JobTrigger } from "./job.js";
import type { PipelineSnapshot, RouteResult } from "./pipeline-def.js";
import type { ErrorClass, JobStatus, PipelineStatus, TaskStatus } from "./status.js";

export interface Project {
  id: string;
  name: string;
  rootPath: string;
  createdAt: number;
}

export const TASK_SOURCES = ["local", "github", "review", "spawn", "schedule"] as const;
export type TaskSource = (typeof TASK_SOURCES)[number];

export interface Task {
  id: string;
  projectId: string;
  number: number;
  title: string;
  body: string;
  labels: string[];
  source: TaskSource;
  sourceRef: string | null;
  status: TaskStatus;
  pipelineName: string | null;
  agent: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface Pipeline {
  id: string;
  projectId: string;
  taskId: string;
  taskNumber: number;
  run: number;
  name: string;
  status: PipelineStatus;
  snapshot: PipelineSnapshot;
  branch: string | null;
  worktreePath: string | null;
  baseCommit: string | null;
  /** The agent and model routing chose for the task; `null` when nothing routed it (yet). */
  route: RouteResult | null;
  version: number;
  reason: string | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  updatedAt: number;
}

/** What the scheduler reads of every open pipeline; effects read the rest where they act. */
export type PipelineHead = Pick<
  Pipeline,
  | "id"
  | "projectId"
  | "taskId"
  | "taskNumber"
  | "status"
  | "snapshot"
  | "route"
  | "version"
  | "createdAt"
  | "startedAt"
>;

export interface Job {
  id: string;
  pipelineId: string;
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
  /** What the job carried into its prompt; a rerun after a rate limit carries the same. */
  context: JobContext;
  leaseToken: string | null;
  leaseHolder: string | null;
  leaseExpiresAt: number | null;
  sessionId: string | null;
  exitCode: number | null;
  signal: string | null;
  errorClass: ErrorClass | null;
  error: string | null;
  /** Fingerprints of the gates that failed when this job ended. */
  fingerprints: string[];
  /** Failing gates, kept so a fix round or retry can show them to the agent. */
  failures: { gate: string; output: string }[];
  tokensIn: number;
  tokensOut: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costUsd: number;
  resetAt: number | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

export interface Session {
  id: string;
  jobId: string;
  pipelineId: string;
  name: string;
  runtime: string;
  host: string;
  dir: string;
  logPath: string;
  pid: number | null;
  pidStartTime: string | null;
  state: string;
  startedAt: number;
  lastOutputAt: number | null;
  steeredAt: number | null;
  wrapUpAt: number | null;
  exitedAt: number | null;
  exitCode: number | null;
  signal: string | null;
  humanMs: number;
  humanSince: number | null;
  agentIdleAt: number | null;
  agentActiveAt: number | null;
  agentSessionId: string | null;
  /** Messages delivered to the session's input after it started (steering). */
  inputsSent: number;
}

export interface GateResult {
  id: number;
  jobId: string;
  pipelineId: string;
  stageId: string;
  gate: string;
  passed: boolean;
  exitCode: number | null;
  autofixed: boolean;
  outputTail: string;
  fingerprint: string | null;
  durationMs: number;
  createdAt: number;
}

export interface Artifact {
  id: string;
  jobId: string;
  pipelineId: string;
  stageId: string;
  path: string;
  kind: string;
  sha256: string;
  size: number;
  content: string | null;
  createdAt: number;
}

export interface BatonEvent {
  id: number;
  at: number;
  kind: string;
  projectId: string | null;
  taskNumber: number | null;
  pipelineId: string | null;
  jobId: string | null;
  data: Record<string, unknown>;
}
