/**
 * The scheduler: a pure function from a snapshot of open pipelines and the time to the list of
 * things the engine should do. No store, clock, process or randomness inside; `src/engine/`
 * loads the snapshot, calls `decide` and applies the result.
 *
 * Per pipeline (DESIGN §3): `blocked` → skip; `pending` → start when a pipeline slot is free;
 * `running` → resolve its stages (`planPipeline`), which walks the check-in tree for every live
 * session. Then job slots are handed out across pipelines, oldest pipeline first, within
 * `max_running_jobs`, `per_agent` and the queue's `paused` setting. Work for an agent paused
 * by a rate limit waits, or moves to the agent's `fallback` when that one may run.
 */
import type { Decision, Fallback, SkipReport } from "./decision.js";
import type { JobSnap, NewJob } from "./job.js";
import { stageById, type Limits } from "./pipeline-def.js";
import { planPipeline, type PipelineState } from "./pipeline-resolver.js";
import { fallbackFor, modelFor } from "./routing.js";

export type { PipelineState } from "./pipeline-resolver.js";

export interface RunningCounts {
  /** Jobs starting, running or checking, across all pipelines. */
  jobs: number;
  /** Pipelines running or blocked. */
  pipelines: number;
  /** Active jobs by agent name. */
  perAgent: Record<string, number>;
}

export interface SchedulerState {
  /** The open pipelines to consider (pending, running, blocked). */
  pipelines: PipelineState[];
  running: RunningCounts;
  limits: Limits;
  queue: { paused: boolean };
  /** Agents that may not start sessions until the given time (rate limits). */
  agentPausedUntil: Record<string, number>;
}

export interface Schedule {
  decisions: Decision[];
  skips: SkipReport[];
  /** The earliest future time something becomes due; the engine sets its timer to it. */
  wakeAt: number | null;
}

type Candidate =
  | { type: "existing"; pipelineId: string; job: JobSnap }
  | { type: "create"; pipelineId: string; job: NewJob; members: NewJob[]; reason: string };

/**
 * Decides what to do now. Never throws for any snapshot; never mutates its input.
 *
 * @example
 * const { decisions } = decide(snapshot, Date.now());
 */
export function decide(state: SchedulerState, now: number): Schedule {
  const schedule: Schedule = { decisions: [], skips: [], wakeAt: null };
  const wake = (at: number | null): void => {
    if (at !== null && at > now && (schedule.wakeAt === null || at < schedule.wakeAt)) {
      schedule.wakeAt = at;
    }
  };
  const running: RunningCounts = {
    jobs: state.running.jobs,
    pipelines: state.running.pipelines,
    perAgent: { ...state.running.perAgent },
  };
  const pipelines = [...state.pipelines].sort(
    (a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id),
  );
  const candidates: Candidate[] = [];

  for (const pipeline of pipelines) {
    if (pipeline.status === "blocked") {
      schedule.skips.push({
        pipelineId: pipeline.id,
        stageId: null,
        reason: "blocked: a human must act",
      });
      continue;
    }
    if (pipeline.status === "pending") {
      if (state.queue.paused) {
        schedule.skips.push({ pipelineId: pipeline.id, stageId: null, reason: "queue paused" });
        continue;
      }
      if (running.pipelines >= state.limits.maxRunningPipelines) {
        schedule.skips.push({
          pipelineId: pipeline.id,
          stageId: null,
          reason: `waiting for a pipeline slot (${running.pipelines} of ${state.limits.maxRunningPipelines} running)`,
        });
        continue;
      }
      running.pipelines += 1;
      schedule.decisions.push({ kind: "start-pipeline", pipelineId: pipeline.id });
    } else if (pipeline.status !== "running") {
      continue;
    }
    const plan = planPipeline({ ...pipeline, status: "running" }, now);
    schedule.decisions.push(...plan.decisions);
    schedule.skips.push(...plan.skips);
    wake(plan.wakeAt);
    for (const start of plan.startable) {
      candidates.push({ type: "existing", pipelineId: start.pipelineId, job: start.job });
    }
    for (const create of plan.creates) {
      candidates.push({ type: "create", ...create });
    }
  }

  const byId = new Map(pipelines.map((p) => [p.id, p]));
  /**
   * Takes a slot for a job of `agent`; returns the agent that gets it (a fallback when `agent`
   * is paused), or `null` when the job must wait.
   */
  const takeSlot = (
    agent: string | null,
    pipelineId: string,
    stageId: string,
    mayFallBack = true,
  ): { fallback: Fallback | null } | null => {
    const refuse = (reason: string): null => {
      schedule.skips.push({ pipelineId, stageId, reason });
      return null;
    };
    if (state.queue.paused) {
      return refuse("queue paused");
    }
    if (running.jobs >= state.limits.maxRunningJobs) {
      return refuse(
        `waiting for a job slot (${running.jobs} of ${state.limits.maxRunningJobs} running)`,
      );
    }
    let fallback: Fallback | null = null;
    let runs = agent;
    if (agent !== null) {
      const until = state.agentPausedUntil[agent];
      if (until !== undefined && until > now) {
        const pipeline = byId.get(pipelineId);
        const other =
          pipeline === undefined || !mayFallBack
            ? null
            : fallbackFor(pipeline.snapshot.agents, agent, state.agentPausedUntil, now);
        if (other === null || pipeline === undefined) {
          wake(until);
          return refuse(
            `agent ${agent} is rate limited until ${new Date(until).toISOString()}; no fallback agent is free`,
          );
        }
        runs = other;
        fallback = {
          from: agent,
          agent: other,
          model: modelFor(pipeline.snapshot, pipeline.route?.complexity ?? null, other),
          until,
        };
      }
    }
    if (runs !== null) {
      const cap = state.limits.perAgent[runs];
      const used = running.perAgent[runs] ?? 0;
      if (cap !== undefined && used >= cap) {
        return refuse(`waiting for a ${runs} slot (${used} of ${cap} running)`);
      }
      running.perAgent[runs] = used + 1;
    }
    running.jobs += 1;
    return { fallback };
  };

  /**
   * A job starting now has no session yet, so this pass plans none of its limits (timeout,
   * stall, wall-clock budgets); wake by the time the first of them could pass, so that a later
   * pass plans them once the job runs.
   */
  const wakeForStart = (pipelineId: string, stageId: string): void => {
    const pipeline = byId.get(pipelineId);
    const stage = pipeline === undefined ? undefined : stageById(pipeline.snapshot, stageId);
    if (pipeline === undefined || stage === undefined) {
      return;
    }
    const own = [stage.timeoutMs, stage.stallTimeoutMs, stage.budget.wallclockMs ?? Infinity];
    wake(now + Math.min(...own) + 1);
    const total = pipeline.snapshot.pipeline.budget.wallclockMs;
    if (total !== null) {
      wake((pipeline.startedAt ?? now) + total + 1);
    }
  };

  for (const candidate of candidates) {
    if (candidate.type === "existing") {
      const { job } = candidate;
      const slot = takeSlot(job.agent, candidate.pipelineId, job.stageId);
      if (slot !== null) {
        wakeForStart(candidate.pipelineId, job.stageId);
        schedule.decisions.push({
          kind: "start-job",
          pipelineId: candidate.pipelineId,
          jobId: job.id,
          stageId: job.stageId,
          ...(slot.fallback === null ? {} : { fallback: slot.fallback }),
        });
      }
      continue;
    }
    const { members } = candidate;
    let { job, reason } = candidate;
    if (job.notBefore !== null && job.notBefore > now) {
      // A retry waiting out its backoff is recorded now, so the wait shows and survives restarts.
      wake(job.notBefore);
      schedule.decisions.push({
        kind: "create-job",
        pipelineId: candidate.pipelineId,
        job,
        members,
        start: false,
        startMembers: [],
        reason,
      });
      continue;
    }
    // Anything else is created only when it can start: a stage waiting for a slot stays a
    // decision recomputed on each pass, not a row to read and write meanwhile.
    const slot =
      members.length === 0 ? takeSlot(job.agent, candidate.pipelineId, job.stageId) : null;
    const fallback = slot?.fallback ?? null;
    if (fallback !== null) {
      job = { ...job, agent: fallback.agent, model: fallback.model };
      reason = `${reason}; on ${fallback.agent} while ${fallback.from} is rate limited`;
    }
    const startMembers = members
      // A fan-out member is its agent's own take on the work: it waits out a rate limit.
      .filter((m) => takeSlot(m.agent, candidate.pipelineId, m.stageId, false) !== null)
      .map((m) => m.member ?? "");
    if (slot === null && startMembers.length === 0) {
      continue;
    }
    wakeForStart(candidate.pipelineId, job.stageId);
    schedule.decisions.push({
      kind: "create-job",
      pipelineId: candidate.pipelineId,
      job,
      members,
      start: slot !== null,
      startMembers,
      reason,
      ...(fallback === null ? {} : { fallback }),
    });
  }
  return schedule;
}
