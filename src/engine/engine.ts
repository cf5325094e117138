/**
 * The orchestrator: snapshot → decide() → apply, driven two ways.
 *
 * - `checkIn()`: one tick for cron or an orchestrating agent. Acts on every open pipeline, waits
 *   for what it started (gates, finalizing), and leaves sessions running for the next tick.
 * - `drive()`: the long-running form (`baton run`, `baton serve`). Holds and heartbeats leases,
 *   adopts sessions nobody holds, and reacts at once to session exits and to wake-ups from
 *   other processes; a periodic tick only catches timeouts and anything missed.
 *
 * Both are safe to run at the same time as other engines: decisions apply only against the
 * pipeline version they were made on, and every job effect runs under the job's lease.
 *
 * Job effects, by the state they leave: start (`starting` → `running`, session spawned),
 * finalize (`running` → `checking` → `succeeded`/`failed`), kill and cancel (session stopped,
 * job settled), steer (message sent, `steered_at` stamped).
 */
import type { Decision } from "../core/decision.js";
import { EVENTS } from "../core/events.js";
import type { Job } from "../core/records.js";
import { decide, type Schedule } from "../core/scheduler.js";
import { WRAP_UP_MESSAGE } from "../core/session-policy.js";
import { SECOND } from "../core/duration.js";
import { coerceError } from "../lib/coerce-error.js";
import { makeSecret } from "../lib/ids.js";
import { appendEvents, type NewEvent } from "../store/events.repository.js";
import { updateSession } from "../store/sessions.repository.js";
import {
  claimJob,
  heartbeatLeases,
  listLeaseHolders,
  reapLeases,
  releaseLeases,
  settleJob,
  type Lease,
} from "../store/jobs.repository.js";
import { touchPipeline } from "../store/pipelines.repository.js";
import { OutputMonitor } from "./agent-output.js";
import { applyStructural, movePipeline, STRUCTURAL_KINDS } from "./apply-structural.js";
import type { EngineContext } from "./context.js";
import { isDeadLocalHolder, newHolder } from "./holder.js";
import { steerSession } from "./operations.js";
import { finalizeJob, type ForcedEnd, type JobOutcome } from "./job-finalize.js";
import { recoverSpawnedSession, runtimeFor, stageOf, startJob } from "./job-start.js";
import { routeTask } from "./route-task.js";
import {
  sessionHandle,
  SnapshotLoader,
  type EngineSnapshot,
  type LoadedPipeline,
  type SnapshotEntry,
} from "./snapshot.js";
import { watchWakeups } from "./wake.js";

export const CHECK_IN_ACTIONS = [
  "skip",
  "advanced",
  "completed",
  "steer",
  "retry",
  "escalate",
  "fail",
] as const;
export type CheckInActionKind = (typeof CHECK_IN_ACTIONS)[number];

/** One line of `baton check-in --format=json`. */
export interface CheckInAction {
  issue: number;
  action: CheckInActionKind;
  stage: string;
  message: string;
}

export interface EngineOptions {
  /** `check-in` waits for its effects and adopts nothing; `drive` watches and adopts. */
  mode: "check-in" | "drive";
  leaseMs?: number;
  tickMs?: number;
}

/** Why a session's watcher stops: the session ended. */
const SESSION_ENDED = "the session ended";

const DEFAULT_LEASE_MS = 60 * SECOND;
const DEFAULT_TICK_MS = 10 * SECOND;
const MAX_PASSES_PER_CHECK_IN = 200;
const REAP_INTERVAL_MS = 1000;

/**
 * Decisions after which another pass may find more to do at once. Starting jobs is not one:
 * the pass that started them already placed every job it could.
 */
const CHANGING_KINDS = new Set<Decision["kind"]>([
  "skip-stage",
  "lose-job",
  "escalate",
  "finish-pipeline",
  "resume-job",
  "finalize-job",
  "kill-job",
  "cancel-job",
]);

export class Engine implements AsyncDisposable {
  readonly #ctx: EngineContext;
  readonly #mode: "check-in" | "drive";
  readonly #leaseMs: number;
  readonly #tickMs: number;
  readonly #holder = newHolder();
  /** Leases this engine holds, by job id. */
  readonly #leases = new Map<string, Lease>();
  /** Jobs with an effect under way (start, finalize, kill, steer), so no second one starts. */
  readonly #busy = new Set<string>();
  /** Why this engine is ending a job it holds, read when its session exits. */
  readonly #forced = new Map<string, ForcedEnd>();
  /** Jobs whose idle session this engine ended: finalized as a clean exit. */
  readonly #idleEnds = new Set<string>();
  readonly #effects = new Set<Promise<void>>();
  readonly #watchers = new Map<string, AbortController>();
  readonly #loader: SnapshotLoader;
  readonly #monitor: OutputMonitor;
  /** Pipelines whose llm routing is under way. */
  readonly #routing = new Set<string>();
  /** The last snapshot's pipelines, for effects that run after it. */
  #latest = new Map<string, LoadedPipeline>();
  #heartbeat: NodeJS.Timeout | undefined;
  #closed = false;
  #wakeAt: number | null = null;
  #poke: (() => void) | null = null;
  #dirty = false;
  #reapedAt = Number.NEGATIVE_INFINITY;

  constructor(ctx: EngineContext, options: EngineOptions) {
    this.#ctx = ctx;
    this.#mode = options.mode;
    this.#leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.#tickMs = options.tickMs ?? DEFAULT_TICK_MS;
    this.#monitor = new OutputMonitor(ctx);
    this.#loader = new SnapshotLoader(ctx, this.#monitor);
    this.#heartbeat = setInterval(
      () => this.#track(this.#beat()),
      Math.max(1000, this.#leaseMs / 4),
    );
    this.#heartbeat.unref();
  }

  get holder(): string {
    return this.#holder;
  }

  /**
   * One check-in: acts on every open pipeline (or those in `pipelineIds`) until nothing more
   * can happen without waiting, then returns what it did, one action per change and a `skip`
   * for each pipeline left alone.
   */
  async checkIn(scope: { pipelineIds?: readonly string[] } = {}): Promise<CheckInAction[]> {
    const actions: CheckInAction[] = [];
    const skips = new Map<number, CheckInAction>();
    for (let pass = 0; pass < MAX_PASSES_PER_CHECK_IN; pass += 1) {
      const result = await this.#pass(scope);
      await this.#settleEffects();
      actions.push(...result.actions.filter((a) => a.action !== "skip"));
      for (const skip of result.actions.filter((a) => a.action === "skip")) {
        skips.set(skip.issue, skip);
      }
      if (!result.changed) {
        break;
      }
    }
    const acted = new Set(actions.map((a) => a.issue));
    return [...actions, ...[...skips.values()].filter((s) => !acted.has(s.issue))];
  }

  /**
   * Drives pipelines until `until()` says stop or `signal` aborts: reacts to session exits at
   * once, to other processes' wake-ups, and ticks every `tickMs` for timeouts.
   */
  async drive(options: {
    pipelineIds?: readonly string[];
    until: () => Promise<boolean>;
    signal?: AbortSignal;
    onPass?: () => void;
  }): Promise<void> {
    const stopWatching = watchWakeups(this.#ctx.paths.wake, () => this.#wake());
    const onAbort = (): void => this.#wake();
    options.signal?.addEventListener("abort", onAbort);
    try {
      while (!this.#closed && options.signal?.aborted !== true) {
        // With SQLite every store call settles as a microtask; yield so timers, exits and I/O
        // are never starved by passes that follow each other.
        await new Promise((resolve) => setImmediate(resolve));
        this.#dirty = false;
        const { changed } = await this.#pass(
          options.pipelineIds === undefined ? {} : { pipelineIds: options.pipelineIds },
        );
        options.onPass?.();
        if (await options.until()) {
          break;
        }
        // A pass that changed pipelines (a skip, an escalation) may have made more work due.
        if (!this.#dirty && !changed) {
          await this.#sleep();
        }
      }
    } finally {
      stopWatching();
      options.signal?.removeEventListener("abort", onAbort);
    }
  }

  /** Stops timers and watchers and gives up this engine's leases; sessions keep running. */
  async close(): Promise<void> {
    if (this.#closed) {
      return;
    }
    this.#closed = true;
    clearInterval(this.#heartbeat);
    for (const watcher of this.#watchers.values()) {
      watcher.abort();
    }
    this.#wake();
    await this.#settleEffects();
    await releaseLeases(this.#ctx.store.db, this.#holder);
    this.#leases.clear();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #wake(): void {
    this.#dirty = true;
    const poke = this.#poke;
    this.#poke = null;
    poke?.();
  }

  async #sleep(): Promise<void> {
    const now = this.#ctx.clock();
    const until = Math.min(now + this.#tickMs, this.#wakeAt ?? Number.POSITIVE_INFINITY);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(
        () => {
          this.#poke = null;
          resolve();
        },
        Math.max(0, until - now),
      );
      this.#poke = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  #track(effect: Promise<void>): void {
    const tracked = effect.then(
      () => undefined,
      (thrown: unknown) => {
        this.#ctx.logger.error("engine effect failed", { error: coerceError(thrown).message });
      },
    );
    this.#effects.add(tracked);
    void tracked.finally(() => this.#effects.delete(tracked));
  }

  async #settleEffects(): Promise<void> {
    while (this.#effects.size > 0) {
      await Promise.all([...this.#effects]);
    }
  }

  async #beat(): Promise<void> {
    if (this.#leases.size > 0) {
      await heartbeatLeases(this.#ctx.store.db, this.#holder, this.#ctx.clock() + this.#leaseMs);
      for (const lease of this.#leases.values()) {
        lease.expiresAt = this.#ctx.clock() + this.#leaseMs;
      }
    }
  }

  #newLease(): Lease {
    return {
      token: makeSecret(),
      holder: this.#holder,
      expiresAt: this.#ctx.clock() + this.#leaseMs,
    };
  }

  /**
   * Frees leases held by processes on this host that have died (a killed `baton run`). At most
   * once a second: a dead engine's jobs can wait that long, a busy pass should not pay for it.
   */
  async #reap(now: number): Promise<void> {
    if (now - this.#reapedAt < REAP_INTERVAL_MS) {
      return;
    }
    this.#reapedAt = now;
    const holders = await listLeaseHolders(this.#ctx.store.db, now);
    const dead = holders.filter((h) => h !== this.#holder && isDeadLocalHolder(h));
    if (dead.length > 0) {
      const freed = await reapLeases(this.#ctx.store.db, now, dead);
      this.#ctx.logger.info("freed leases of engines that died", { holders: dead, jobs: freed });
    }
  }

  async #pass(scope: {
    pipelineIds?: readonly string[];
  }): Promise<{ actions: CheckInAction[]; changed: boolean }> {
    const now = this.#ctx.clock();
    await this.#reap(now);
    const snap = await this.#loader.load(scope, this.#holder, now);
    await this.#recordHumans(snap, now);
    const schedule = decide(snap.state, now);
    this.#wakeAt = schedule.wakeAt;
    const byPipeline = new Map<string, Decision[]>();
    for (const decision of schedule.decisions) {
      const list = byPipeline.get(decision.pipelineId) ?? [];
      list.push(decision);
      byPipeline.set(decision.pipelineId, list);
    }
    // Effects need each pipeline's project and task; read them only where something happens.
    const adoptable =
      this.#mode === "drive" ? [...snap.entries.values()].filter((e) => this.#hasAdoptable(e)) : [];
    const needed = new Set([...byPipeline.keys(), ...adoptable.map((e) => e.pipeline.id)]);
    const loaded = await this.#loader.hydrate(
      [...needed].flatMap((id) => snap.entries.get(id) ?? []),
    );
    for (const [id, lp] of loaded) {
      this.#latest.set(id, lp);
    }
    for (const entry of adoptable) {
      const lp = loaded.get(entry.pipeline.id);
      if (lp !== undefined) {
        await this.#adopt(lp);
      }
    }
    const actions: CheckInAction[] = [];
    let changed = false;
    for (const [pipelineId, decisions] of byPipeline) {
      const lp = loaded.get(pipelineId);
      if (lp === undefined) {
        continue;
      }
      try {
        const result = await this.#applyPipeline(snap, lp, decisions);
        actions.push(...result.actions);
        changed ||= result.changed;
      } catch (thrown) {
        const message = coerceError(thrown).message;
        this.#ctx.logger.error("advancing a pipeline failed; blocking it", {
          pipelineId,
          error: message,
        });
        actions.push(await this.#escalateOnError(lp, message));
        changed = true;
      }
    }
    actions.push(...skipActions(snap, schedule, byPipeline));
    return { actions, changed };
  }

  async #applyPipeline(
    snap: EngineSnapshot,
    lp: LoadedPipeline,
    decisions: Decision[],
  ): Promise<{ actions: CheckInAction[]; changed: boolean }> {
    const issue = lp.task.number;
    const structural = decisions.filter((d) => STRUCTURAL_KINDS.has(d.kind) && !this.#isBusy(d));
    const actions: CheckInAction[] = [];
    const applied: Decision[] = [];
    if (structural.length > 0) {
      const result = await applyStructural(
        this.#ctx,
        lp,
        structural,
        () => this.#newLease(),
        snap.queue.stopOnFailure,
      );
      if (!result.applied) {
        // Someone else changed the pipeline since the snapshot: decide again on fresh state.
        return { actions, changed: true };
      }
      lp.pipeline = { ...lp.pipeline, status: result.status, version: lp.pipeline.version + 1 };
      applied.push(...structural);
      actions.push(...structural.flatMap((d) => describeStructural(d, issue)));
      for (const { job, lease, jobToken } of result.started) {
        this.#leases.set(job.id, lease);
        this.#runEffect(job.id, () => this.#start(lp, job, lease, jobToken));
      }
    }
    let routing = false;
    for (const decision of decisions) {
      if (decision.kind !== "route-pipeline" || this.#routing.has(lp.pipeline.id)) {
        continue;
      }
      routing = true;
      actions.push({ issue, action: "advanced", stage: "", message: "asking the router" });
      this.#routing.add(lp.pipeline.id);
      this.#track(
        routeTask(this.#ctx, lp)
          .then((route) => {
            this.#ctx.logger.info("routed", { task: issue, ...route });
          })
          .finally(() => {
            this.#routing.delete(lp.pipeline.id);
            this.#wake();
          }),
      );
    }
    for (const decision of decisions) {
      if (STRUCTURAL_KINDS.has(decision.kind) || this.#isBusy(decision)) {
        continue;
      }
      const job = lp.jobs.find((j) => "jobId" in decision && j.id === decision.jobId);
      if (job === undefined) {
        continue;
      }
      applied.push(decision);
      switch (decision.kind) {
        case "resume-job":
          actions.push({
            issue,
            action: "advanced",
            stage: job.stageId,
            message: `resuming ${job.status} job`,
          });
          this.#withLease(job, (lease) => this.#resume(lp, job, lease));
          break;
        case "finalize-job":
          actions.push({ issue, action: "advanced", stage: job.stageId, message: decision.reason });
          if (decision.idle) {
            this.#withLease(job, (lease) => this.#endIdle(lp, job, lease));
          } else {
            this.#withLease(job, (lease) => this.#finalizeFromSession(lp, job, lease, null));
          }
          break;
        case "steer":
          actions.push({ issue, action: "steer", stage: job.stageId, message: decision.reason });
          this.#runEffect(job.id, () => this.#steer(lp, job, WRAP_UP_MESSAGE, decision.reason));
          break;
        case "kill-job":
          actions.push({
            issue,
            action: "advanced",
            stage: job.stageId,
            message: `killing: ${decision.reason}`,
          });
          this.#withLease(job, (lease) =>
            this.#stop(lp, job, lease, {
              status: "failed",
              errorClass: decision.errorClass,
              reason: decision.reason,
            }),
          );
          break;
        case "cancel-job":
          actions.push({
            issue,
            action: "advanced",
            stage: job.stageId,
            message: `cancelling: ${decision.reason}`,
          });
          if (job.status === "pending") {
            await settleJob(this.#ctx.store.db, job.id, ["pending"], {
              status: "cancelled",
              error: decision.reason,
              finished_at: this.#ctx.clock(),
            });
            await touchPipeline(this.#ctx.store.db, lp.pipeline.id, this.#ctx.clock());
          } else {
            this.#withLease(job, (lease) =>
              this.#stop(lp, job, lease, {
                status: "cancelled",
                errorClass: "cancelled",
                reason: decision.reason,
              }),
            );
          }
          break;
        default:
          break;
      }
    }
    // Only what was acted on counts: a decision left to a busy job changes nothing yet.
    return { actions, changed: routing || applied.some((d) => CHANGING_KINDS.has(d.kind)) };
  }

  /**
   * Whether `decision` must wait: any job with an effect under way is left alone, and a job
   * this engine watches is finalized by its watcher, though it may still be steered, killed or
   * cancelled (the watcher then sees the end).
   */
  #isBusy(decision: Decision): boolean {
    if (!("jobId" in decision)) {
      return false;
    }
    if (this.#busy.has(decision.jobId)) {
      return true;
    }
    const interrupts =
      decision.kind === "steer" ||
      decision.kind === "kill-job" ||
      decision.kind === "cancel-job" ||
      (decision.kind === "finalize-job" && decision.idle);
    return !interrupts && this.#watchers.has(decision.jobId);
  }

  /** Runs `effect` for a job this engine holds, or claims the job first. */
  #withLease(job: Job, effect: (lease: Lease) => Promise<boolean | void>): void {
    const held = this.#leases.get(job.id);
    if (held !== undefined) {
      this.#runEffect(job.id, () => effect(held));
      return;
    }
    const lease = this.#newLease();
    this.#runEffect(job.id, async () => {
      const claimed = await claimJob(this.#ctx.store.db, {
        id: job.id,
        from: [job.status],
        to: job.status,
        lease,
        now: this.#ctx.clock(),
      });
      if (!claimed) {
        return false;
      }
      this.#leases.set(job.id, lease);
      return effect(lease);
    });
  }

  /**
   * Runs an effect for a job, marking it busy meanwhile. Afterwards the engine passes again at
   * once, unless the effect says nothing changed that the scheduler cares about (`false`).
   */
  #runEffect(jobId: string, effect: () => Promise<boolean | void>): void {
    this.#busy.add(jobId);
    this.#track(
      effect().then(
        (changed) => {
          this.#busy.delete(jobId);
          if (changed !== false) {
            this.#wake();
          }
        },
        (thrown: unknown) => {
          this.#busy.delete(jobId);
          this.#wake();
          throw thrown;
        },
      ),
    );
  }

  /**
   * Starts a claimed job (with the token made at its claim, if it was claimed just now); returns
   * false when it is simply running now (nothing to decide).
   */
  async #start(lp: LoadedPipeline, job: Job, lease: Lease, jobToken?: string): Promise<boolean> {
    const outcome = await startJob(this.#ctx, lp, job, lease, jobToken);
    switch (outcome.kind) {
      case "session":
        if (this.#mode === "drive") {
          this.#watch(
            lp,
            { ...job, sessionId: outcome.sessionId, status: "running" },
            lease,
            outcome.handle,
          );
        }
        return false;
      case "inline":
        await this.#finish(lp, job, lease, { exit: null, forced: null, inline: true });
        return true;
      case "failed":
      case "lease-lost":
        this.#leases.delete(job.id);
        return true;
    }
  }

  /** Carries on with a job left `starting` or `checking` by an engine that died. */
  async #resume(lp: LoadedPipeline, job: Job, lease: Lease): Promise<boolean> {
    const session = job.sessionId === null ? undefined : lp.sessions.get(job.sessionId);
    if (job.status === "checking") {
      const exit = session === undefined ? null : await this.#exitOf(lp, job, session.id);
      await this.#finish(lp, job, lease, { exit, forced: null, inline: session === undefined });
      return true;
    }
    // Spawned before the engine died (its status file holds a pid): adopt it, never start it twice.
    const spawned = await recoverSpawnedSession(this.#ctx, lp, job, lease);
    if (spawned !== null) {
      await this.#event(lp, job, EVENTS.sessionAdopted, { session: spawned.name });
      if (this.#mode === "drive") {
        this.#watch(lp, { ...job, status: "running" }, lease, spawned);
      }
      return true;
    }
    return this.#start(lp, job, lease);
  }

  async #exitOf(lp: LoadedPipeline, job: Job, sessionId: string) {
    const session = lp.sessions.get(sessionId);
    if (session === undefined || session.pid === null) {
      return null;
    }
    const runtime = runtimeFor(this.#ctx, lp, stageOf(lp, job.stageId), job);
    return (await runtime.observe(sessionHandle(session))).exit;
  }

  async #finalizeFromSession(
    lp: LoadedPipeline,
    job: Job,
    lease: Lease,
    forced: ForcedEnd | null,
  ): Promise<void> {
    const exit = job.sessionId === null ? null : await this.#exitOf(lp, job, job.sessionId);
    await this.#finish(lp, job, lease, { exit, forced, inline: false });
  }

  async #finish(
    lp: LoadedPipeline,
    job: Job,
    lease: Lease,
    end: Parameters<typeof finalizeJob>[4],
  ): Promise<JobOutcome | null> {
    const forced = this.#forced.get(job.id) ?? end.forced;
    this.#forced.delete(job.id);
    const idle = this.#idleEnds.delete(job.id) || end.idle === true;
    const outcome = await finalizeJob(
      this.#ctx,
      this.#latest.get(lp.pipeline.id) ?? lp,
      job,
      lease,
      { ...end, forced, idle },
    );
    this.#leases.delete(job.id);
    return outcome;
  }

  /**
   * The agent finished its turn and waits for input: its work is done. The session is ended
   * (its terminal closes) and the job finalized as if the agent had exited cleanly.
   */
  async #endIdle(lp: LoadedPipeline, job: Job, lease: Lease): Promise<void> {
    const session = job.sessionId === null ? undefined : lp.sessions.get(job.sessionId);
    this.#idleEnds.add(job.id);
    const watched = this.#watchers.has(job.id);
    if (session !== undefined && session.pid !== null) {
      const stage = stageOf(lp, job.stageId);
      await runtimeFor(this.#ctx, lp, stage, job).kill(
        sessionHandle(session),
        Math.min(stage.graceMs, 5 * SECOND),
      );
    }
    if (!watched) {
      await this.#finish(lp, job, lease, { exit: null, forced: null, inline: false, idle: true });
    }
    // A watcher sees the session end and finalizes it, reading the idle end.
  }

  /**
   * Notes when a person attaches to a session and for how long they held it, so that time does
   * not count against its timeouts and the session shows as human-driven meanwhile.
   */
  async #recordHumans(snap: EngineSnapshot, now: number): Promise<void> {
    for (const state of snap.state.pipelines) {
      const entry = snap.entries.get(state.id);
      for (const job of state.jobs) {
        const facts = job.session;
        if (facts === null) {
          continue;
        }
        const full = entry?.jobs.find((j) => j.id === job.id);
        const session =
          full?.sessionId === null || full === undefined
            ? undefined
            : entry?.sessions.get(full.sessionId);
        if (session === undefined) {
          continue;
        }
        const present = facts.human === "present";
        if (present && session.humanSince === null) {
          await updateSession(this.#ctx.store.db, session.id, { human_since: now });
          await this.#eventFor(entry, job.id, EVENTS.sessionHuman, {
            session: session.name,
            attached: true,
          });
        } else if (!present && session.humanSince !== null) {
          const heldMs = Math.max(0, now - session.humanSince);
          await updateSession(this.#ctx.store.db, session.id, {
            human_since: null,
            human_ms: session.humanMs + heldMs,
          });
          await this.#eventFor(entry, job.id, EVENTS.sessionHuman, {
            session: session.name,
            attached: false,
            heldMs,
          });
        }
      }
    }
  }

  async #eventFor(
    entry: SnapshotEntry | undefined,
    jobId: string,
    kind: string,
    data: Record<string, unknown>,
  ): Promise<void> {
    if (entry === undefined) {
      return;
    }
    await this.#ctx.store.transaction(async (trx) => {
      await this.#ctx.store.lockEvents(trx);
      await appendEvents(
        trx,
        [
          {
            kind,
            projectId: entry.pipeline.projectId,
            taskNumber: entry.pipeline.taskNumber,
            pipelineId: entry.pipeline.id,
            jobId,
            data,
          },
        ],
        this.#ctx.clock(),
      );
    });
  }

  /** Whether a pipeline has a running job with a session that nobody holds. */
  #hasAdoptable(entry: SnapshotEntry): boolean {
    return entry.jobs.some((job) => this.#adoptable(entry, job));
  }

  #adoptable(entry: SnapshotEntry, job: Job): boolean {
    // Asked of every job of every pipeline on every pass: the status rules out most at once.
    if (job.status !== "running" || this.#busy.has(job.id) || this.#watchers.has(job.id)) {
      return false;
    }
    const session = job.sessionId === null ? undefined : entry.sessions.get(job.sessionId);
    const free = job.leaseToken === null || (job.leaseExpiresAt ?? 0) < this.#ctx.clock();
    return free && session !== undefined && session.pid !== null;
  }

  /** Adopts running jobs nobody holds: claims each and waits for its session. */
  async #adopt(lp: LoadedPipeline): Promise<void> {
    for (const job of lp.jobs) {
      const session = job.sessionId === null ? undefined : lp.sessions.get(job.sessionId);
      if (session === undefined || !this.#adoptable(lp, job)) {
        continue;
      }
      const lease = this.#newLease();
      const claimed = await claimJob(this.#ctx.store.db, {
        id: job.id,
        from: ["running"],
        to: "running",
        lease,
        now: this.#ctx.clock(),
      });
      if (claimed) {
        this.#leases.set(job.id, lease);
        await this.#event(lp, job, EVENTS.sessionAdopted, { session: session.name });
        this.#watch(lp, job, lease, sessionHandle(session));
      }
    }
  }

  /** Waits for a session this engine holds to end, then finalizes its job. */
  #watch(
    lp: LoadedPipeline,
    job: Job,
    lease: Lease,
    handle: ReturnType<typeof sessionHandle>,
  ): void {
    const controller = new AbortController();
    this.#watchers.set(job.id, controller);
    const runtime = runtimeFor(this.#ctx, lp, stageOf(lp, job.stageId), job);
    const agent = job.agent === null ? undefined : lp.pipeline.snapshot.agents[job.agent];
    if (job.sessionId !== null && OutputMonitor.readable(agent)) {
      // Its output as it is written: usage, tool calls, and the end of its turn.
      const target = {
        job,
        session: { id: job.sessionId, name: handle.name, logPath: handle.logPath },
        agent,
        ref: { projectId: lp.project.id, taskNumber: lp.task.number },
      };
      this.#track(this.#monitor.follow(target, controller.signal, () => this.#wake()));
    }
    this.#track(
      runtime
        .waitForExit(handle, controller.signal)
        .then(async (exit) => {
          if (controller.signal.aborted) {
            return;
          }
          await this.#finish(lp, job, lease, { exit, forced: null, inline: false });
        })
        .catch((thrown: unknown) => {
          if (!controller.signal.aborted) {
            throw thrown;
          }
        })
        .finally(() => {
          this.#watchers.delete(job.id);
          // The session is over: stop following its output, or the follower waits forever. (A
          // reason given spares making an AbortError with its stack for every session.)
          controller.abort(SESSION_ENDED);
          this.#wake();
        }),
    );
  }

  async #steer(lp: LoadedPipeline, job: Job, message: string, reason: string): Promise<void> {
    const session = job.sessionId === null ? undefined : lp.sessions.get(job.sessionId);
    if (session !== undefined) {
      await steerSession(this.#ctx, session, message, reason, true);
    }
  }

  /** Kills a job's session and settles the job as `end` says. */
  async #stop(lp: LoadedPipeline, job: Job, lease: Lease, end: ForcedEnd): Promise<void> {
    const session = job.sessionId === null ? undefined : lp.sessions.get(job.sessionId);
    this.#forced.set(job.id, end);
    const watcher = this.#watchers.get(job.id);
    if (session !== undefined && session.pid !== null) {
      const stage = stageOf(lp, job.stageId);
      await runtimeFor(this.#ctx, lp, stage, job).kill(
        sessionHandle(session),
        Math.min(stage.graceMs, 10 * SECOND),
      );
      await this.#event(lp, job, EVENTS.sessionKilled, {
        session: session.name,
        reason: end.reason,
      });
    }
    if (watcher === undefined) {
      await this.#finish(lp, job, lease, { exit: null, forced: end, inline: false });
    }
    // With a watcher, the session's exit finalizes the job and reads the forced end.
  }

  async #event(
    lp: LoadedPipeline,
    job: Job | null,
    kind: string,
    data: Record<string, unknown>,
  ): Promise<void> {
    const event: NewEvent = {
      kind,
      projectId: lp.project.id,
      taskNumber: lp.task.number,
      pipelineId: lp.pipeline.id,
      jobId: job?.id ?? null,
      data,
    };
    await this.#ctx.store.transaction(async (trx) => {
      await this.#ctx.store.lockEvents(trx);
      await appendEvents(trx, [event], this.#ctx.clock());
    });
  }

  /** An advance that errors blocks the pipeline, so nothing loops on the same error. */
  async #escalateOnError(lp: LoadedPipeline, message: string): Promise<CheckInAction> {
    const events: NewEvent[] = [];
    await this.#ctx.store.transaction(async (trx) => {
      await movePipeline(trx, lp, "blocked", `engine error: ${message}`, this.#ctx.clock(), events);
      await this.#ctx.store.lockEvents(trx);
      await appendEvents(
        trx,
        [...events, { kind: EVENTS.engineError, pipelineId: lp.pipeline.id, data: { message } }],
        this.#ctx.clock(),
      );
    });
    return {
      issue: lp.task.number,
      action: "escalate",
      stage: "",
      message: `engine error: ${message}`,
    };
  }
}

function describeStructural(decision: Decision, issue: number): CheckInAction[] {
  switch (decision.kind) {
    case "create-job": {
      const { job } = decision;
      const action = job.trigger === "retry" ? "retry" : "advanced";
      const verb = decision.start || decision.startMembers.length > 0 ? "started" : "queued";
      return [
        {
          issue,
          action,
          stage: job.stageId,
          message: `${verb} ${job.trigger === "initial" ? "" : `${job.trigger} `}job: ${decision.reason}`,
        },
      ];
    }
    case "start-job":
      return [{ issue, action: "advanced", stage: decision.stageId, message: "started" }];
    case "skip-stage":
      return [
        {
          issue,
          action: "advanced",
          stage: decision.job.stageId,
          message: `skipped: ${decision.reason}`,
        },
      ];
    case "lose-job":
      return [
        {
          issue,
          action: "advanced",
          stage: decision.stageId,
          message: `session lost: ${decision.reason}`,
        },
      ];
    case "escalate":
      return [{ issue, action: "escalate", stage: decision.stageId, message: decision.reason }];
    case "finish-pipeline":
      return [
        {
          issue,
          action: decision.status === "completed" ? "completed" : "fail",
          stage: "",
          message: decision.reason,
        },
      ];
    default:
      return [];
  }
}

/** One `skip` per pipeline that got no decision, with the first reason found. */
function skipActions(
  snap: EngineSnapshot,
  schedule: Schedule,
  acted: Map<string, Decision[]>,
): CheckInAction[] {
  const actions: CheckInAction[] = [];
  const seen = new Set<string>();
  for (const skip of schedule.skips) {
    const entry = snap.entries.get(skip.pipelineId);
    if (entry === undefined || acted.has(skip.pipelineId) || seen.has(skip.pipelineId)) {
      continue;
    }
    seen.add(skip.pipelineId);
    actions.push({
      issue: entry.pipeline.taskNumber,
      action: "skip",
      stage: skip.stageId ?? "",
      message: skip.reason,
    });
  }
  for (const entry of snap.entries.values()) {
    if (!acted.has(entry.pipeline.id) && !seen.has(entry.pipeline.id)) {
      actions.push({
        issue: entry.pipeline.taskNumber,
        action: "skip",
        stage: "",
        message: "nothing to do",
      });
    }
  }
  return actions;
}
