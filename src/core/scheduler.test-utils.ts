/**
 * In-memory builders for scheduler tests: stages, jobs, pipelines and whole snapshots with
 * sensible defaults, so each test states only what matters to it.
 */
import type { JobSnap } from "./job.js";
import {
  LABELS_ROUTER,
  type AgentStageDef,
  type Defaults,
  type PipelineSnapshot,
  type StageDef,
} from "./pipeline-def.js";
import type { PipelineState, SchedulerState } from "./scheduler.js";

export const T0 = 1_800_000_000_000;

export const DEFAULTS: Defaults = {
  agent: "claude",
  runtime: "process",
  timeoutMs: 30 * 60_000,
  stallTimeoutMs: 10 * 60_000,
  graceMs: 2 * 60_000,
  idleAfterMs: 2 * 60_000,
  rateLimitPauseMs: 900_000,
  commit: true,
  pipeline: "default",
};

export function agentStage(id: string, over: Partial<AgentStageDef> = {}): AgentStageDef {
  return {
    kind: "agent",
    id,
    agent: "claude",
    agentFromDefault: false,
    prompt: { path: `prompts/${id}.md`, template: `Do ${id}` },
    needs: [],
    gates: [],
    fix: { maxRounds: 2, agent: null, prompt: null },
    onFail: { kind: "fail" },
    timeoutMs: DEFAULTS.timeoutMs,
    stallTimeoutMs: DEFAULTS.stallTimeoutMs,
    graceMs: DEFAULTS.graceMs,
    outputs: [],
    commit: true,
    runtime: "process",
    interactive: false,
    budget: { tokens: null, costUsd: null, wallclockMs: null },
    ...over,
  };
}

/** `needs` shorthand: ids, each `when: success`. */
export function needs(...ids: string[]): AgentStageDef["needs"] {
  return ids.map((stage) => ({ stage, when: "success" as const }));
}

export function snapshotOf(stages: StageDef[]): PipelineSnapshot {
  return {
    pipeline: {
      name: "default",
      stages,
      budget: { tokens: null, costUsd: null, wallclockMs: null },
    },
    agents: {},
    defaults: DEFAULTS,
    router: LABELS_ROUTER,
    modelMap: {},
  };
}

let jobCounter = 0;

export function job(over: Partial<JobSnap> & { stageId: string; seq: number }): JobSnap {
  jobCounter += 1;
  return {
    id: `job_${over.stageId}_${over.seq}_${jobCounter}`,
    role: "head",
    kind: "agent",
    parentJobId: null,
    member: null,
    trigger: "initial",
    attempt: 1,
    fixRound: 0,
    agent: "claude",
    model: null,
    status: "succeeded",
    notBefore: null,
    routedFrom: null,
    errorClass: null,
    error: null,
    fingerprints: [],
    failures: [],
    context: {},
    usage: { tokens: 0, costUsd: 0 },
    createdAt: T0,
    startedAt: T0,
    finishedAt: T0,
    lease: "none",
    session: null,
    ...over,
  };
}

export function pipeline(
  stages: StageDef[],
  jobs: JobSnap[],
  over: Partial<PipelineState> = {},
): PipelineState {
  return {
    id: "pl_1",
    taskNumber: 1,
    status: "running",
    createdAt: T0,
    startedAt: T0,
    snapshot: snapshotOf(stages),
    route: null,
    jobs,
    ...over,
  };
}

export function state(
  pipelines: PipelineState[],
  over: Partial<SchedulerState> = {},
): SchedulerState {
  return {
    pipelines,
    running: {
      jobs: 0,
      pipelines: pipelines.filter((p) => p.status === "running").length,
      perAgent: {},
    },
    limits: { maxRunningPipelines: 3, maxRunningJobs: 6, perAgent: {} },
    queue: { paused: false },
    agentPausedUntil: {},
    ...over,
  };
}
