/**
 * Works out where one running pipeline stands, stage by stage, from its jobs: which stages are
 * done, which wait, which must run, and what to do about each failure. Pure.
 *
 * Generations: a stage's current jobs are those created after the last job of every stage it
 * needs (`seq` greater than the needs' `lastSeq`). A route back to an earlier stage makes a new
 * job there, so every stage after it falls out of date and runs again; an out-of-date job that
 * is still running is cancelled.
 *
 * Stage resolution: waiting → ready → active → succeeded | failed | skipped.
 */
import { retryDelayMs, stableFraction } from "./backoff.js";
import type { Decision, SkipReport } from "./decision.js";
import { sameFingerprints } from "./fingerprint.js";
import type { JobSnap, NewJob } from "./job.js";
import {
  fixAgent,
  stageById,
  type FinalAction,
  type BudgetDef,
  type NeedDef,
  type PipelineSnapshot,
  type RouteResult,
  type StageDef,
} from "./pipeline-def.js";
import { modelFor, needsLlmRoute, stageAgentChoice } from "./routing.js";
import { indexJobs, type JobIndex, type KeptStage, type PlanMemo } from "./plan-memo.js";
import { judgeSession } from "./session-policy.js";
import { stageGraph, type StageGraph } from "./stage-graph.js";
import { isOpenJob, type PipelineStatus } from "./status.js";

export interface PipelineState {
  id: string;
  taskNumber: number;
  status: PipelineStatus;
  createdAt: number;
  startedAt: number | null;
  snapshot: PipelineSnapshot;
  /** The agent and model routing chose for the task, if it routed. */
  route: RouteResult | null;
  /** Every job of the pipeline, in `seq` order. */
  jobs: JobSnap[];
  /**
   * What earlier plans of this pipeline worked out, kept by the caller between passes (the
   * engine keeps one per open pipeline). Planning with it gives the same plan as without.
   */
  memo?: PlanMemo | undefined;
}

export type StageResolution =
  | { state: "waiting"; lastSeq: number }
  | { state: "active"; lastSeq: number }
  | { state: "succeeded"; lastSeq: number; jobId: string }
  | { state: "failed"; lastSeq: number; jobId: string; reason: string }
  | { state: "skipped"; lastSeq: number; jobId: string };

/** A job that may start now, if the limits allow. */
export interface StartCandidate {
  pipelineId: string;
  job: JobSnap;
}

/** A job to create, with what of it wants to start. */
export interface CreateCandidate {
  pipelineId: string;
  job: NewJob;
  members: NewJob[];
  reason: string;
}

export interface PipelinePlan {
  /** How each stage resolved, by stage id (made when first read). */
  readonly stages: ReadonlyMap<string, StageResolution>;
  /** Decisions other than starts and creations. */
  decisions: Decision[];
  creates: CreateCandidate[];
  startable: StartCandidate[];
  skips: SkipReport[];
  /** The earliest future time at which this pipeline has something to do, or `null`. */
  wakeAt: number | null;
}

/** How many rate-limited runs in a row a chain waits out before its failure counts. */
const MAX_RATE_LIMITED_RUNS = 20;

/** The model `agent` runs for this pipeline when it is not the stage's routed agent. */
function modelOf(state: PipelineState, agent: string): string | null {
  return modelFor(state.snapshot, state.route?.complexity ?? null, agent);
}

/**
 * A new job of `stage` with everything else at its start values. Written out field by field:
 * this runs for every stage that waits for a slot on every pass, and an object built by
 * spreading another and adding fields is many times slower to make in V8.
 */
function newJob(
  stage: StageDef,
  trigger: NewJob["trigger"],
  deps: NewJob["deps"],
  who: { role: NewJob["role"]; kind: NewJob["kind"]; agent: string | null; model: string | null },
  member: { parentJobId: string; member: string } | null = null,
): NewJob {
  return {
    stageId: stage.id,
    role: who.role,
    kind: who.kind,
    parentJobId: member?.parentJobId ?? null,
    member: member?.member ?? null,
    trigger,
    attempt: 1,
    fixRound: 0,
    agent: who.agent,
    model: who.model,
    notBefore: null,
    routedFrom: null,
    context: {},
    deps,
  };
}

/** Builds the new job of a fresh generation of `stage`. */
function freshJob(
  state: PipelineState,
  stage: StageDef,
  trigger: NewJob["trigger"],
  deps: NewJob["deps"],
): { job: NewJob; members: NewJob[] } {
  switch (stage.kind) {
    case "agent": {
      const { agent, model } = stageAgentChoice(state.snapshot, state.route, stage);
      return {
        job: newJob(stage, trigger, deps, { role: "head", kind: "agent", agent, model }),
        members: [],
      };
    }
    case "run":
    case "uses": {
      const kind = stage.kind === "run" ? "command" : "builtin";
      return {
        job: newJob(stage, trigger, deps, { role: "head", kind, agent: null, model: null }),
        members: [],
      };
    }
    case "fanout":
      return {
        job: newJob(stage, trigger, deps, {
          role: "head",
          kind: "aggregate",
          agent: null,
          model: null,
        }),
        members: stage.agents.map((agent) =>
          newJob(
            stage,
            trigger,
            [],
            { role: "member", kind: "agent", agent, model: modelOf(state, agent) },
            { parentJobId: "new", member: agent },
          ),
        ),
      };
  }
}

function needSatisfied(need: NeedDef, resolution: StageResolution): boolean {
  switch (need.when) {
    case "success":
      return resolution.state === "succeeded";
    case "failure":
      return resolution.state === "failed";
    case "always":
      return (
        resolution.state === "succeeded" ||
        resolution.state === "failed" ||
        resolution.state === "skipped"
      );
  }
}

/**
 * Resolves every stage of a running pipeline and lists what should happen next. Starts are
 * only candidates here: the scheduler hands out slots across pipelines.
 */
export function planPipeline(state: PipelineState, now: number): PipelinePlan {
  const graph = stageGraph(state.snapshot);
  const resolutions: StageResolution[] = [];
  let stages: Map<string, StageResolution> | undefined;
  const plan: PipelinePlan = {
    get stages() {
      stages ??= new Map(resolutions.map((r, i) => [(graph.order[i] as StageDef).id, r]));
      return stages;
    },
    decisions: [],
    creates: [],
    startable: [],
    skips: [],
    wakeAt: null,
  };
  if (needsLlmRoute(state.snapshot, state.route) && state.jobs.length === 0) {
    plan.decisions.push({ kind: "route-pipeline", pipelineId: state.id });
    return plan;
  }
  const memo = state.memo ?? null;
  const { index, changed } =
    memo === null
      ? { index: indexJobs(state.jobs), changed: null }
      : memo.update(state.id, graph, state.jobs);
  const ix: Indexes = {
    ...index,
    graph,
    resolutions,
    live: new Set(),
    wake: (at) => {
      if (at > now && (plan.wakeAt === null || at < plan.wakeAt)) {
        plan.wakeAt = at;
      }
    },
  };

  let settled = true;
  for (let position = 0; position < graph.order.length; position += 1) {
    const kept = changed?.[position] === 0 ? memo?.keptAt(position) : undefined;
    let resolution: StageResolution;
    if (kept?.kind === "settled" && sameNeeds(kept, position, ix)) {
      resolution = kept.resolution;
      for (const id of kept.open) {
        ix.live.add(id);
      }
    } else if (
      kept?.kind === "ready" &&
      sameNeeds(kept, position, ix) &&
      sameRoute(kept.route, state.route)
    ) {
      resolution = WAITING;
      plan.creates.push(kept.create);
    } else {
      const outcome = resolveStage(state, position, plan, ix, now);
      resolution = outcome.resolution;
      memo?.record(position, outcome.kept);
    }
    resolutions.push(resolution);
    settled &&= isSettled(resolution);
  }

  // Active jobs outside every current generation are out of date.
  for (const job of state.jobs) {
    if (isActiveOrPending(job) && !ix.live.has(job.id)) {
      if (job.lease === "other") {
        plan.skips.push({
          pipelineId: state.id,
          stageId: job.stageId,
          reason: "out-of-date job held by another engine",
        });
        continue;
      }
      plan.decisions.push({
        kind: "cancel-job",
        pipelineId: state.id,
        jobId: job.id,
        stageId: job.stageId,
        reason: "its upstream work is being redone",
      });
    }
  }

  const anyActive = state.jobs.some(isActiveOrPending);
  const escalating = plan.decisions.some((d) => d.kind === "escalate");
  if (settled && !anyActive && !escalating && plan.creates.length === 0) {
    const failed = graph.order.filter((_, i) => resolutions[i]?.state === "failed");
    plan.decisions.push({
      kind: "finish-pipeline",
      pipelineId: state.id,
      status: failed.length === 0 ? "completed" : "failed",
      reason:
        failed.length === 0
          ? "every stage succeeded or was skipped"
          : `stage ${failed.map((stage) => stage.id).join(", ")} failed`,
    });
  }
  return plan;
}

function isSettled(resolution: StageResolution): boolean {
  return (
    resolution.state === "succeeded" ||
    resolution.state === "failed" ||
    resolution.state === "skipped"
  );
}

function isActiveOrPending(job: JobSnap): boolean {
  return isOpenJob(job.status);
}

interface Indexes extends JobIndex {
  graph: StageGraph;
  /** How the stages resolved so far this pass, by position in `graph.order`. */
  resolutions: StageResolution[];
  /** Ids of jobs in a current generation; filled as stages resolve. */
  live: Set<string>;
  wake: (at: number) => void;
}

/** How the stage `id` resolved earlier in this pass; `undefined` if it did not (yet). */
function resolutionOf(ix: Indexes, id: string): StageResolution | undefined {
  const position = ix.graph.position.get(id);
  return position === undefined ? undefined : ix.resolutions[position];
}

function sameRoute(a: RouteResult | null, b: RouteResult | null): boolean {
  return (
    a === b ||
    (a !== null &&
      b !== null &&
      a.agent === b.agent &&
      a.model === b.model &&
      a.complexity === b.complexity)
  );
}

/** Whether each need of the stage at `position` resolved to the very object it was kept with. */
function sameNeeds(kept: KeptStage, position: number, ix: Indexes): boolean {
  const needs = ix.graph.needs[position] as readonly number[];
  for (let i = 0; i < needs.length; i += 1) {
    if (ix.resolutions[needs[i] as number] !== kept.needs[i]) {
      return false;
    }
  }
  return true;
}

/** What a stage waiting for its needs resolves to; shared, as it carries nothing of its own. */
const WAITING: StageResolution = { state: "waiting", lastSeq: Number.POSITIVE_INFINITY };

const NO_JOBS: readonly JobSnap[] = [];

/** A stage's resolution, and what to keep of it for later passes, if anything. */
interface StageOutcome {
  resolution: StageResolution;
  kept: KeptStage | undefined;
}

/**
 * Resolves one stage from how its needs resolved and its jobs, adding to `plan` what it needs
 * done. A stage that settled (succeeded, skipped, cancelled) with nothing of its own to do is
 * kept for later passes: it depends on its needs' resolutions and its jobs alone.
 */
function resolveStage(
  state: PipelineState,
  position: number,
  plan: PipelinePlan,
  ix: Indexes,
  now: number,
): StageOutcome {
  const stage = ix.graph.order[position] as StageDef;
  const unsettled = (resolution: StageResolution): StageOutcome => ({
    resolution,
    kept: undefined,
  });
  let boundary = 0;
  const needResolutions: StageResolution[] = [];
  for (const at of ix.graph.needs[position] as readonly number[]) {
    const resolution = ix.resolutions[at];
    if (
      resolution === undefined ||
      resolution.state === "waiting" ||
      resolution.state === "active"
    ) {
      return unsettled(WAITING);
    }
    boundary = Math.max(boundary, resolution.lastSeq);
    needResolutions.push(resolution);
  }

  const stageHeads = ix.heads.get(stage.id) ?? NO_JOBS;
  const generation = stageHeads.filter((j) => j.seq > boundary);
  const head = generation.at(-1);
  if (head === undefined) {
    const create = planFreshStage(state, stage, stageHeads.length > 0, needResolutions, plan);
    return {
      resolution: WAITING,
      kept:
        create === null
          ? undefined
          : { kind: "ready", needs: needResolutions, route: state.route, create },
    };
  }

  // Everything made in this generation: heads, their members and what any of them spawned.
  let lastSeq = head.seq;
  const open: string[] = [];
  const related: JobSnap[] = [];
  const pending = [...generation];
  while (pending.length > 0) {
    const job = pending.pop() as JobSnap;
    ix.live.add(job.id);
    if (isActiveOrPending(job)) {
      open.push(job.id);
    }
    lastSeq = Math.max(lastSeq, job.seq);
    for (const child of ix.children.get(job.id) ?? NO_JOBS) {
      related.push(child);
      pending.push(child);
    }
  }
  related.sort((a, b) => a.seq - b.seq);
  const spawned = related.filter((j) => j.role === "spawned");
  const settled = (resolution: StageResolution): StageOutcome => ({
    resolution,
    kept: { kind: "settled", needs: needResolutions, resolution, open },
  });

  switch (head.status) {
    case "pending":
      planPending(state, stage, head, ix, plan, now);
      planSpawnedChains(state, stage, spawned, plan, now, ix);
      return unsettled({ state: "active", lastSeq });
    case "starting":
    case "running":
    case "checking":
      planActive(state, stage, head, plan, now, ix);
      planSpawnedChains(state, stage, spawned, plan, now, ix);
      return unsettled({ state: "active", lastSeq });
    case "skipped":
      return settled({ state: "skipped", lastSeq, jobId: head.id });
    case "cancelled":
      return settled({ state: "failed", lastSeq, jobId: head.id, reason: "cancelled" });
    case "failed": {
      const next = planFailure(state, stage, head, generation, plan, now, ix);
      if (next === "handled") {
        return unsettled({ state: "active", lastSeq });
      }
      return unsettled({ state: "failed", lastSeq, jobId: head.id, reason: next.reason });
    }
    case "succeeded": {
      if (spawned.length === 0) {
        return settled({ state: "succeeded", lastSeq, jobId: head.id });
      }
      const outcome = planSpawnedChains(state, stage, spawned, plan, now, ix);
      if (outcome === "active") {
        return unsettled({ state: "active", lastSeq });
      }
      if (outcome !== "ok") {
        return unsettled({
          state: "failed",
          lastSeq,
          jobId: outcome.jobId,
          reason: outcome.reason,
        });
      }
      return unsettled({ state: "succeeded", lastSeq, jobId: head.id });
    }
  }
}

/**
 * A stage whose needs are settled and that has no job in their generation: its first job (or
 * a rerun after upstream work was redone) is to be created, or skipped when a need went the
 * wrong way.
 */
function planFreshStage(
  state: PipelineState,
  stage: StageDef,
  earlier: boolean,
  needResolutions: readonly StageResolution[],
  plan: PipelinePlan,
): CreateCandidate | null {
  const deps: NewJob["deps"] = [];
  let blocked: { need: NeedDef; resolution: StageResolution } | null = null;
  for (const [i, need] of stage.needs.entries()) {
    const resolution = needResolutions[i] as StageResolution;
    deps.push({ jobId: "jobId" in resolution ? resolution.jobId : "", when: need.when });
    blocked ??= needSatisfied(need, resolution) ? null : { need, resolution };
  }
  const trigger = earlier ? "rerun" : "initial";
  if (blocked !== null) {
    const { need, resolution } = blocked;
    plan.decisions.push({
      kind: "skip-stage",
      pipelineId: state.id,
      job: freshJob(state, stage, trigger, deps).job,
      reason: `needs ${need.stage} to ${need.when === "success" ? "succeed" : need.when === "failure" ? "fail" : "finish"}, and it ${resolution.state}`,
    });
    return null;
  }
  const { job, members } = freshJob(state, stage, trigger, deps);
  const create = {
    pipelineId: state.id,
    job,
    members,
    reason: earlier ? "upstream work was redone" : "its needs are met",
  };
  plan.creates.push(create);
  return create;
}

/** A pending head: start it when its time has come; an aggregate when its members are done. */
function planPending(
  state: PipelineState,
  stage: StageDef,
  head: JobSnap,
  ix: Indexes,
  plan: PipelinePlan,
  now: number,
): void {
  if (head.kind !== "aggregate") {
    if (head.notBefore !== null && head.notBefore > now) {
      ix.wake(head.notBefore);
      plan.skips.push({
        pipelineId: state.id,
        stageId: stage.id,
        reason: `retry ${head.attempt} waits ${Math.ceil((head.notBefore - now) / 1000)}s for its backoff`,
      });
      return;
    }
    plan.startable.push({ pipelineId: state.id, job: head });
    return;
  }
  const members = (ix.children.get(head.id) ?? []).filter((j) => j.role === "member");
  const firstSuccess = stage.kind === "fanout" && stage.aggregate.kind === "first-success";
  const someSucceeded = members.some((m) => m.status === "succeeded");
  if (firstSuccess && someSucceeded) {
    for (const member of members.filter(isActiveOrPending)) {
      plan.decisions.push({
        kind: "cancel-job",
        pipelineId: state.id,
        jobId: member.id,
        stageId: stage.id,
        reason: `another agent of ${stage.id} already succeeded`,
      });
    }
    plan.startable.push({ pipelineId: state.id, job: head });
    return;
  }
  const unfinished = members.filter(isActiveOrPending);
  if (unfinished.length === 0) {
    plan.startable.push({ pipelineId: state.id, job: head });
    return;
  }
  for (const member of unfinished) {
    if (member.status === "pending") {
      plan.startable.push({ pipelineId: state.id, job: member });
    } else {
      planActive(state, stage, member, plan, now, ix);
    }
  }
}

/**
 * Which budget a running job has passed, if any: its stage's (what this job spent, how long it
 * ran without a human holding it) or its pipeline's (every job's spending, the time since the
 * pipeline started). Wakes the engine when a wall-clock budget runs out.
 */
function overBudget(
  state: PipelineState,
  stage: StageDef,
  job: JobSnap,
  now: number,
  ix: Indexes,
): string | null {
  const humanMs = job.session?.humanMs ?? 0;
  const jobStart = (job.startedAt ?? job.createdAt) + humanMs;
  const stageOver = passed(stage.budget, job.usage, jobStart, now, ix);
  if (stageOver !== null) {
    return `stage ${stage.id} budget: ${stageOver}`;
  }
  const budget = state.snapshot.pipeline.budget;
  if (budget.tokens === null && budget.costUsd === null && budget.wallclockMs === null) {
    return null;
  }
  const spent = { tokens: 0, costUsd: 0 };
  for (const other of state.jobs) {
    spent.tokens += other.usage.tokens;
    spent.costUsd += other.usage.costUsd;
  }
  const pipelineOver = passed(budget, spent, state.startedAt ?? state.createdAt, now, ix);
  return pipelineOver === null ? null : `pipeline budget: ${pipelineOver}`;
}

function passed(
  budget: BudgetDef,
  spent: { tokens: number; costUsd: number },
  since: number,
  now: number,
  ix: Indexes,
): string | null {
  if (budget.tokens !== null && spent.tokens > budget.tokens) {
    return `${spent.tokens} tokens used, more than ${budget.tokens}`;
  }
  if (budget.costUsd !== null && spent.costUsd > budget.costUsd) {
    return `$${spent.costUsd.toFixed(4)} spent, more than $${budget.costUsd}`;
  }
  if (budget.wallclockMs !== null) {
    if (now - since > budget.wallclockMs) {
      return `ran ${Math.round((now - since) / 1000)}s, more than ${Math.round(budget.wallclockMs / 1000)}s`;
    }
    ix.wake(since + budget.wallclockMs + 1);
  }
  return null;
}

/** An active job: what the check-in tree says about its session, by who holds it. */
function planActive(
  state: PipelineState,
  stage: StageDef,
  job: JobSnap,
  plan: PipelinePlan,
  now: number,
  ix: Indexes,
): void {
  const ref = { pipelineId: state.id, jobId: job.id, stageId: stage.id };
  if (job.lease === "other") {
    plan.skips.push({ pipelineId: state.id, stageId: stage.id, reason: "held by another engine" });
    return;
  }
  if (job.status === "starting" || job.status === "checking") {
    if (job.lease === "none") {
      plan.decisions.push({ kind: "resume-job", ...ref });
    } else {
      plan.skips.push({ pipelineId: state.id, stageId: stage.id, reason: `job ${job.status}` });
    }
    return;
  }
  if (job.session === null) {
    if (job.lease === "none") {
      plan.decisions.push({
        kind: "lose-job",
        ...ref,
        reason: "running job has no session record",
      });
    }
    return;
  }
  const over = overBudget(state, stage, job, now, ix);
  if (over !== null) {
    plan.decisions.push({ kind: "kill-job", ...ref, errorClass: "budget", reason: over });
    return;
  }
  const limits = {
    timeoutMs: stage.timeoutMs,
    stallTimeoutMs: stage.stallTimeoutMs,
    graceMs: stage.graceMs,
  };
  const verdict = judgeSession(job.session, limits, now);
  switch (verdict.action) {
    case "skip": {
      plan.skips.push({ pipelineId: state.id, stageId: stage.id, reason: verdict.reason });
      const s = job.session;
      ix.wake(s.startedAt + s.humanMs + stage.timeoutMs);
      ix.wake(
        Math.max(s.lastOutputAt ?? s.startedAt, s.startedAt) + s.humanMs + stage.stallTimeoutMs,
      );
      if (s.steeredAt !== null) {
        ix.wake(s.steeredAt + stage.graceMs);
      }
      return;
    }
    case "advance":
      plan.decisions.push({
        kind: "finalize-job",
        ...ref,
        reason: verdict.reason,
        idle: job.session.state === "idle",
      });
      return;
    case "clear":
      plan.decisions.push({ kind: "lose-job", ...ref, reason: verdict.reason });
      return;
    case "steer":
      plan.decisions.push({ kind: "steer", ...ref, reason: verdict.reason });
      ix.wake(now + stage.graceMs);
      return;
    case "kill":
      plan.decisions.push({
        kind: "kill-job",
        ...ref,
        errorClass: verdict.limit,
        reason: verdict.reason,
      });
      return;
  }
}

function stageOf(state: PipelineState, job: JobSnap): StageDef | undefined {
  return stageById(state.snapshot, job.stageId);
}

type SpawnedOutcome = "ok" | "active" | { jobId: string; reason: string };

/**
 * After a head succeeded: the stage is done only when every chain of jobs it spawned is.
 * A chain is the spawned job and its own fix rounds and retries (same parent, same stage).
 */
function planSpawnedChains(
  state: PipelineState,
  stage: StageDef,
  spawned: JobSnap[],
  plan: PipelinePlan,
  now: number,
  ix: Indexes,
): SpawnedOutcome {
  const chains = new Map<string, JobSnap[]>();
  for (const job of spawned) {
    const key = `${job.parentJobId ?? ""}/${job.stageId}/${chainRoot(job, spawned)}`;
    const list = chains.get(key) ?? [];
    list.push(job);
    chains.set(key, list);
  }
  let outcome: SpawnedOutcome = "ok";
  for (const chain of chains.values()) {
    const last = chain.at(-1) as JobSnap;
    const chainStage = stageOf(state, last) ?? stage;
    if (isActiveOrPending(last)) {
      if (last.status === "pending") {
        if (last.notBefore !== null && last.notBefore > now) {
          ix.wake(last.notBefore);
        } else {
          plan.startable.push({ pipelineId: state.id, job: last });
        }
      } else {
        planActive(state, chainStage, last, plan, now, ix);
      }
      outcome = "active";
      continue;
    }
    if (last.status === "failed") {
      const next = planFailure(state, chainStage, last, chain, plan, now, ix, stage);
      if (next === "handled") {
        outcome = "active";
      } else if (outcome === "ok") {
        outcome = { jobId: last.id, reason: `a job it spawned failed: ${next.reason}` };
      }
    }
  }
  return outcome;
}

/** Spawned chains are told apart by the first job of each: the one with trigger `spawn`. */
function chainRoot(job: JobSnap, spawned: JobSnap[]): number {
  let root = job.seq;
  for (const other of spawned) {
    if (
      other.trigger === "spawn" &&
      other.parentJobId === job.parentJobId &&
      other.stageId === job.stageId &&
      other.seq <= job.seq
    ) {
      root = other.seq;
    }
  }
  return root;
}

/**
 * A failed job of a chain: a fix round when gates failed and rounds are left and the failure
 * changed; otherwise the stage's `on_fail`. Returns `"handled"` when a new job or an
 * escalation follows, or the final failure's reason.
 */
function planFailure(
  state: PipelineState,
  stage: StageDef,
  failed: JobSnap,
  chain: JobSnap[],
  plan: PipelinePlan,
  now: number,
  ix: Indexes,
  ownerStage: StageDef = stage,
): "handled" | { reason: string } {
  const why = failed.error ?? failed.errorClass ?? "failed";
  const carry = {
    stageId: failed.stageId,
    role: failed.role,
    parentJobId: failed.parentJobId,
    member: failed.member,
    routedFrom: null,
    deps: [],
  };

  if (failed.errorClass === "rate_limit") {
    // The agent was paused until its limit resets; the same work runs again then (or on its
    // fallback agent, which the scheduler picks), without spending a retry.
    let streak = 0;
    for (let i = chain.length - 1; i >= 0 && chain[i]?.errorClass === "rate_limit"; i -= 1) {
      streak += 1;
    }
    if (streak < MAX_RATE_LIMITED_RUNS) {
      plan.creates.push({
        pipelineId: state.id,
        job: {
          ...carry,
          kind: failed.kind,
          trigger: "rate_limit",
          attempt: failed.attempt,
          fixRound: failed.fixRound,
          agent: failed.agent,
          model: failed.model,
          notBefore: null,
          context: failed.context,
        },
        members: [],
        reason: `${failed.agent ?? stage.id} was rate limited; the same work runs again when it may`,
      });
      return "handled";
    }
    return applyOnFail(
      state,
      stage,
      failed,
      plan,
      now,
      ix,
      ownerStage,
      `${why}; rate limited ${streak} times in a row`,
    );
  }
  if (failed.errorClass === "budget" || failed.errorClass === "auth") {
    // Running it again would spend past the budget again, or fail to log in again.
    return applyFinal(state, stage, failed, plan, ownerStage, why);
  }
  if (failed.errorClass === "gate") {
    const agent = fixAgent(stage);
    const previous = chain.findLast(
      (j) =>
        j.attempt === failed.attempt &&
        j.fixRound === failed.fixRound - 1 &&
        j.errorClass !== "rate_limit",
    );
    const repeated =
      failed.fixRound > 0 &&
      previous !== undefined &&
      previous.fingerprints.length > 0 &&
      sameFingerprints(previous.fingerprints, failed.fingerprints);
    if (agent !== null && failed.fixRound < stage.fix.maxRounds && !repeated) {
      plan.creates.push({
        pipelineId: state.id,
        job: {
          ...carry,
          kind: "agent",
          trigger: "fix",
          attempt: failed.attempt,
          fixRound: failed.fixRound + 1,
          ...(stage.kind === "agent" && stage.fix.agent === null
            ? stageAgentChoice(state.snapshot, state.route, stage)
            : { agent, model: modelOf(state, agent) }),
          notBefore: null,
          context: { failures: failed.failures },
        },
        members: [],
        reason: `gate ${failed.failures.map((f) => f.gate).join(", ")} failed; fix round ${failed.fixRound + 1} of ${stage.fix.maxRounds}`,
      });
      return "handled";
    }
    const fixNote =
      agent === null
        ? "no agent to fix it"
        : repeated
          ? `the same failure came back after fix round ${failed.fixRound}`
          : `fix rounds used up (${stage.fix.maxRounds})`;
    return applyOnFail(state, stage, failed, plan, now, ix, ownerStage, `${why}; ${fixNote}`);
  }
  if (failed.errorClass === "cancelled") {
    return { reason: why };
  }
  return applyOnFail(state, stage, failed, plan, now, ix, ownerStage, why);
}

/** `on_fail` without its retries and routes: what it ends in (`then`, or fail / escalate). */
function applyFinal(
  state: PipelineState,
  stage: StageDef,
  failed: JobSnap,
  plan: PipelinePlan,
  ownerStage: StageDef,
  why: string,
): "handled" | { reason: string } {
  const onFail = stage.onFail;
  const action = onFail.kind === "retry" || onFail.kind === "route" ? onFail.then : onFail.kind;
  return endOnFail(action, state, stage, failed, plan, ownerStage, why);
}

/** The end of `on_fail`: an escalation of the owner stage, or the failure `reason`. */
function endOnFail(
  action: FinalAction,
  state: PipelineState,
  stage: StageDef,
  failed: JobSnap,
  plan: PipelinePlan,
  ownerStage: StageDef,
  reason: string,
): "handled" | { reason: string } {
  if (action === "escalate") {
    plan.decisions.push({
      kind: "escalate",
      pipelineId: state.id,
      stageId: ownerStage.id,
      jobId: failed.id,
      reason: `${stage.id}: ${reason}`,
    });
    return "handled";
  }
  return { reason };
}

function applyOnFail(
  state: PipelineState,
  stage: StageDef,
  failed: JobSnap,
  plan: PipelinePlan,
  now: number,
  ix: Indexes,
  ownerStage: StageDef,
  why: string,
): "handled" | { reason: string } {
  const onFail = stage.onFail;
  const final = (action: FinalAction, reason: string): "handled" | { reason: string } =>
    endOnFail(action, state, stage, failed, plan, ownerStage, reason);
  switch (onFail.kind) {
    case "fail":
      return final("fail", why);
    case "escalate":
      return final("escalate", why);
    case "retry": {
      if (failed.attempt > onFail.max) {
        return final(onFail.then, `${why}; retries used up (${onFail.max})`);
      }
      const delay = retryDelayMs(failed.attempt, onFail.backoff, stableFraction(failed.id));
      const notBefore = (failed.finishedAt ?? now) + delay;
      const deps = failed.role === "head" ? currentDeps(stage, ix) : [];
      const fresh = failed.role === "head" ? freshJob(state, stage, "retry", deps) : null;
      const job: NewJob =
        fresh !== null
          ? {
              ...fresh.job,
              attempt: failed.attempt + 1,
              notBefore,
              context: { failures: failed.failures },
            }
          : {
              stageId: failed.stageId,
              role: failed.role,
              kind: failed.kind,
              parentJobId: failed.parentJobId,
              member: failed.member,
              trigger: "retry",
              attempt: failed.attempt + 1,
              fixRound: 0,
              agent: failed.agent,
              model: failed.model,
              notBefore,
              routedFrom: null,
              context: { failures: failed.failures },
              deps: [],
            };
      ix.wake(notBefore);
      plan.creates.push({
        pipelineId: state.id,
        job,
        members: fresh?.members.map((m) => ({ ...m, attempt: failed.attempt + 1 })) ?? [],
        reason: `retry ${failed.attempt} of ${onFail.max} in ${Math.round(delay / 1000)}s: ${why}`,
      });
      return "handled";
    }
    case "route": {
      if (failed.role !== "head") {
        return final(onFail.then, `${why}; a spawned job cannot route`);
      }
      const taken = routesTaken(state, stage.id);
      if (taken >= onFail.max) {
        return final(onFail.then, `${why}; routed back ${taken} times already (max ${onFail.max})`);
      }
      const target = stageById(state.snapshot, onFail.to);
      if (target === undefined) {
        return final(onFail.then, `${why}; route target ${onFail.to} is not a stage`);
      }
      const { job, members } = freshJob(state, target, "route", currentDeps(target, ix));
      plan.creates.push({
        pipelineId: state.id,
        job: {
          ...job,
          routedFrom: stage.id,
          context: { route: { from: stage.id, reason: why }, failures: failed.failures },
        },
        members,
        reason: `routed back to ${target.id} (${taken + 1} of ${onFail.max}): ${why}`,
      });
      return "handled";
    }
  }
}

/** The upstream jobs a new job of `stage` consumes: the current job of each need. */
function currentDeps(stage: StageDef, ix: Indexes): NewJob["deps"] {
  return stage.needs.flatMap((need) => {
    const resolution = resolutionOf(ix, need.stage);
    return resolution !== undefined && "jobId" in resolution
      ? [{ jobId: resolution.jobId, when: need.when }]
      : [];
  });
}

/** How many times `stageId` has routed work back since its last manual retry. */
export function routesTaken(state: PipelineState, stageId: string): number {
  let lastManual = 0;
  for (const job of state.jobs) {
    if (job.stageId === stageId && job.role === "head" && job.trigger === "manual") {
      lastManual = Math.max(lastManual, job.seq);
    }
  }
  return state.jobs.filter(
    (j) => j.trigger === "route" && j.routedFrom === stageId && j.seq > lastManual,
  ).length;
}
