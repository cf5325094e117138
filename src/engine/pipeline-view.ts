/**
 * A pipeline as people read it: one line per stage with its status, attempts, fix rounds,
 * times and cost. The shape of `baton pipeline status <n> --format=json`.
 */
import { planPipeline } from "../core/pipeline-resolver.js";
import type { Job, Pipeline, Task } from "../core/records.js";
import type { JobStatus } from "../core/status.js";
import { roundUsd } from "../store/analytics.repository.js";
import { listJobs } from "../store/jobs.repository.js";
import type { EngineContext } from "./context.js";
import { jobSnap } from "./snapshot.js";

export interface StageView {
  id: string;
  status: string;
  attempts: number;
  fix_rounds: number;
  started_at: string | null;
  finished_at: string | null;
  duration_ms: number | null;
  agent: string | null;
  /** Tokens of all the stage's jobs: input, output, cache reads and cache writes. */
  tokens: number;
  /** Dollars the agents reported for the stage's jobs (0 when none did). */
  cost_usd: number;
  error: string | null;
}

export interface PipelineView {
  task: number;
  title: string;
  pipeline: string;
  run: number;
  status: string;
  reason: string | null;
  branch: string | null;
  worktree: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  /** Sum of the stages' `tokens`. */
  tokens: number;
  /** Sum of the stages' `cost_usd`. */
  cost_usd: number;
  stages: StageView[];
}

/** Every token a job used: input, output, cache reads and cache writes. */
const jobTokens = (j: Job): number =>
  j.tokensIn + j.tokensOut + j.cacheReadTokens + j.cacheWriteTokens;

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

const JOB_TO_STAGE: Record<JobStatus, string> = {
  pending: "queued",
  starting: "running",
  running: "running",
  checking: "checking",
  succeeded: "succeeded",
  failed: "failed",
  skipped: "skipped",
  cancelled: "cancelled",
};

/** Builds the view from the pipeline's jobs. */
export function buildPipelineView(
  pipeline: Pipeline,
  task: Task,
  jobs: readonly Job[],
  now: number,
): PipelineView {
  const plan = planPipeline(
    {
      id: pipeline.id,
      taskNumber: task.number,
      status: "running",
      createdAt: pipeline.createdAt,
      startedAt: pipeline.startedAt,
      snapshot: pipeline.snapshot,
      route: pipeline.route,
      jobs: jobs.map((j) => jobSnap(j, "none", null)),
    },
    now,
  );
  const escalated = new Set(
    plan.decisions.flatMap((d) => (d.kind === "escalate" ? [d.stageId] : [])),
  );
  const stages = pipeline.snapshot.pipeline.stages.map((stage): StageView => {
    const all = jobs.filter((j) => j.stageId === stage.id);
    const heads = all.filter((j) => j.role === "head");
    const last = heads.at(-1);
    const resolution = plan.stages.get(stage.id);
    let status = last === undefined ? "pending" : JOB_TO_STAGE[last.status];
    if (resolution?.state === "waiting" && last !== undefined && last.status !== "skipped") {
      status = "pending";
    }
    if (pipeline.status === "blocked" && escalated.has(stage.id)) {
      status = "blocked";
    }
    if (pipeline.status === "cancelled" && (status === "pending" || status === "queued")) {
      status = "cancelled";
    }
    const started = all.map((j) => j.startedAt).filter((t): t is number => t !== null);
    const startedAt = started.length === 0 ? null : Math.min(...started);
    const settled =
      last !== undefined && ["succeeded", "failed", "skipped", "cancelled"].includes(last.status);
    const finishedAt = settled ? last.finishedAt : null;
    return {
      id: stage.id,
      status,
      // A rerun after a rate limit is the same attempt again (it spends no retry).
      attempts: heads.filter(
        (j) => j.trigger !== "fix" && j.trigger !== "rate_limit" && j.status !== "skipped",
      ).length,
      fix_rounds: heads.filter((j) => j.trigger === "fix").length,
      started_at: iso(startedAt),
      finished_at: iso(finishedAt),
      duration_ms: startedAt === null ? null : (finishedAt ?? now) - startedAt,
      agent: last?.agent ?? null,
      tokens: all.reduce((sum, j) => sum + jobTokens(j), 0),
      cost_usd: roundUsd(all.reduce((sum, j) => sum + j.costUsd, 0)),
      error: last?.status === "failed" ? last.error : null,
    };
  });
  return {
    task: task.number,
    title: task.title,
    pipeline: pipeline.name,
    run: pipeline.run,
    status: pipeline.status,
    reason: pipeline.reason,
    branch: pipeline.branch,
    worktree: pipeline.worktreePath,
    created_at: new Date(pipeline.createdAt).toISOString(),
    started_at: iso(pipeline.startedAt),
    finished_at: iso(pipeline.finishedAt),
    tokens: stages.reduce((sum, s) => sum + s.tokens, 0),
    cost_usd: roundUsd(stages.reduce((sum, s) => sum + s.cost_usd, 0)),
    stages,
  };
}

export async function pipelineView(
  ctx: EngineContext,
  pipeline: Pipeline,
  task: Task,
): Promise<PipelineView> {
  const jobs = await listJobs(ctx.store.db, [pipeline.id]);
  return buildPipelineView(pipeline, task, jobs, ctx.clock());
}
