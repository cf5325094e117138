/**
 * Loads what `decide()` needs: the open pipelines, their jobs, and the facts about each live
 * session that runtimes observe (alive, exit record, last output). This is the only place the
 * scheduler's inputs are gathered; `decide` itself does no I/O.
 *
 * Loading is incremental. A finished job never changes again (succeeded, failed, skipped and
 * cancelled are final), so the loader keeps the jobs it has seen and, on each pass, reads only
 * the jobs that are still open, the jobs created since, and those that were open last time.
 * Every change that finishes or adds a job bumps its pipeline's version, so a pipeline whose
 * version is unchanged needs no more than its open jobs read.
 */
import type { JobSnap, LeaseView } from "../core/job.js";
import { stageById, type PipelineSnapshot } from "../core/pipeline-def.js";
import { PlanMemo } from "../core/plan-memo.js";
import type { Job, Pipeline, PipelineHead, Project, Session, Task } from "../core/records.js";
import type { SchedulerState } from "../core/scheduler.js";
import type { SessionFacts, SessionState } from "../core/session-policy.js";
import { SESSION_STATES } from "../core/session-policy.js";
import {
  ACTIVE_JOB_STATUSES,
  isOpenJob,
  OPEN_JOB_STATUSES,
  OPEN_PIPELINE_STATUSES,
  type JobStatus,
} from "../core/status.js";
import type { Runtime, SessionHandle } from "../sessions/runtime.js";
import { sessionState } from "../sessions/session-state.js";
import { MINUTE } from "../core/duration.js";
import { runCached } from "../store/cached-query.js";
import type { Db } from "../store/db.js";
import { countActiveJobs, toJob } from "../store/jobs.repository.js";
import type { JobRow } from "../store/jobs.table.js";
import {
  countRunningPipelines,
  PIPELINE_HEAD_COLUMNS,
  readDefinitions,
  toPipeline,
  toPipelineHead,
} from "../store/pipelines.repository.js";
import { listProjects } from "../store/projects.repository.js";
import { listSessionsByIds, toSession } from "../store/sessions.repository.js";
import { readQueueSettings, type QueueSettings } from "../store/settings.repository.js";
import { listTasksByIds } from "../store/tasks.repository.js";
import { activePauses } from "../store/agent-pauses.repository.js";
import { OutputMonitor } from "./agent-output.js";
import type { EngineContext } from "./context.js";

/** A pipeline as the scheduler saw it, with its jobs and the sessions of its open jobs. */
export interface SnapshotEntry {
  pipeline: PipelineHead;
  jobs: Job[];
  sessions: ReadonlyMap<string, Session>;
}

/** The sessions of a pipeline with none, shared: most open pipelines have none. */
const NO_SESSIONS: ReadonlyMap<string, Session> = new Map();

/** An entry with what effects also need: the whole pipeline, its project and task. */
export interface LoadedPipeline extends SnapshotEntry {
  pipeline: Pipeline;
  project: Project;
  task: Task;
}

export interface EngineSnapshot {
  state: SchedulerState;
  entries: Map<string, SnapshotEntry>;
  queue: QueueSettings;
}

export function sessionHandle(session: Session): SessionHandle {
  return {
    name: session.name,
    runtime: session.runtime === "tmux" ? "tmux" : "process",
    dir: session.dir,
    logPath: session.logPath,
    pid: session.pid ?? 0,
    pidStartTime: session.pidStartTime,
    startedAt: session.startedAt,
  };
}

function leaseView(job: Job, holder: string, now: number): LeaseView {
  if (job.leaseToken === null || job.leaseExpiresAt === null || job.leaseExpiresAt < now) {
    return "none";
  }
  return job.leaseHolder === holder ? "mine" : "other";
}

function knownState(state: string): SessionState | "unknown" {
  return (SESSION_STATES as readonly string[]).includes(state)
    ? (state as SessionState)
    : "unknown";
}

/** How recent a person's keystrokes in an attached terminal must be to count as typing. */
const HUMAN_ACTIVE_MS = 2 * MINUTE;

export interface ObserveContext {
  /** The stage's limits; a session that cannot have reached them yet is looked at quickly. */
  limits?: { timeoutMs: number; stallTimeoutMs: number };
  /** Quiet this long (its agent alive, no signal of its own) counts as idle: interactive stages. */
  idleAfterMs: number | null;
  now: number;
}

/**
 * Observes a session and turns what the runtime saw, and what the agent itself signalled, into
 * the scheduler's facts. A session that cannot have reached a limit yet is only looked at
 * quickly: nothing would be done to it but notice that it ended or vanished.
 */
export async function observeSession(
  runtime: Runtime | undefined,
  session: Session,
  context: ObserveContext,
): Promise<SessionFacts> {
  const { now } = context;
  const base = {
    startedAt: session.startedAt,
    steeredAt: session.steeredAt,
    wrapUpAt: session.wrapUpAt,
    // Time a person holds the session now counts too, not only past stretches.
    humanMs:
      session.humanMs + (session.humanSince === null ? 0 : Math.max(0, now - session.humanSince)),
  };
  if (runtime === undefined || session.pid === null) {
    return {
      ...base,
      state: "unknown",
      orphaned: false,
      human: "absent",
      lastOutputAt: session.lastOutputAt,
    };
  }
  const earliestLimit =
    context.limits === undefined
      ? Number.NEGATIVE_INFINITY
      : session.startedAt +
        base.humanMs +
        Math.min(context.limits.timeoutMs, context.limits.stallTimeoutMs);
  const calm = now < earliestLimit && session.steeredAt === null && context.idleAfterMs === null;
  const seen = await runtime.observe(
    sessionHandle(session),
    calm ? { quick: true, outputTime: false } : {},
  );
  const observed = sessionState({
    exit: seen.exit !== null,
    alive: seen.alive,
    lastOutputAt: seen.lastOutputAt,
    agentIdleAt: session.agentIdleAt,
    agentActiveAt: session.agentActiveAt,
    humanAttached: seen.human === "present",
    humanActiveAt: seen.humanActiveAt,
    now,
    quietMs: context.idleAfterMs ?? Number.POSITIVE_INFINITY,
    humanActiveMs: HUMAN_ACTIVE_MS,
  });
  if (observed === "exited") {
    return {
      ...base,
      state: "exited",
      orphaned: false,
      human: seen.human,
      lastOutputAt: seen.lastOutputAt,
    };
  }
  if (observed === "gone") {
    return {
      ...base,
      state: "unknown",
      orphaned: true,
      human: "absent",
      lastOutputAt: seen.lastOutputAt,
    };
  }
  const recorded = knownState(session.state);
  const state: SessionState | "unknown" =
    observed === "human_input" || observed === "idle"
      ? observed
      : recorded === "started" && seen.lastOutputAt !== null
        ? "active"
        : recorded === "idle" || recorded === "human_input"
          ? "active"
          : recorded;
  return { ...base, state, orphaned: false, human: seen.human, lastOutputAt: seen.lastOutputAt };
}

const CHUNK = 500;

interface KnownJobs {
  version: number;
  /** By id; `null` until the pipeline has a job (most queued pipelines have none). */
  jobs: Map<string, Job> | null;
  /** Ids of the jobs in `jobs` that are open: all a pass has to look at again. */
  open: Set<string>;
  maxSeq: number;
  /** `jobs` in `seq` order; rebuilt only when a job was added or replaced. */
  ordered: Job[] | null;
  /** What planning worked out on the last pass; made once the pipeline runs. */
  memo: PlanMemo | null;
}

/** The jobs of a pipeline with none, shared, and never changed. */
const NO_JOBS: Job[] = [];

/** Splits `items` into chunks that keep SQLite well under its bound-parameter limit. */
function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) {
    out.push(items.slice(i, i + CHUNK));
  }
  return out;
}

/** Jobs of every open pipeline (those in `statuses`, or all): rows of `jobs` joined to them. */
function openPipelineJobs(db: Db, statuses: readonly JobStatus[] | null) {
  let query = db
    .selectFrom("pipelines")
    .innerJoin("jobs", "jobs.pipeline_id", "pipelines.id")
    .where("pipelines.status", "in", OPEN_PIPELINE_STATUSES);
  if (statuses !== null) {
    query = query.where("jobs.status", "in", statuses);
  }
  return query;
}

type JobQuery = ReturnType<typeof jobsQuery>;

function jobsQuery(db: Db) {
  return db.selectFrom("jobs").selectAll();
}

/** Jobs read with `where`, whose shape and bound parameters are as `runCached` takes them. */
async function selectJobs(
  db: Db,
  shape: string,
  parameters: unknown[],
  where: (query: JobQuery) => JobQuery,
): Promise<JobRow[]> {
  return (await runCached(db, shape, parameters, () => where(jobsQuery(db)))).rows;
}

/**
 * Keeps what it has read between passes. One per engine; not shared between processes (the
 * store is the truth, and everything here is re-checked against it on every pass).
 */
export class SnapshotLoader {
  readonly #ctx: EngineContext;
  readonly #definitions = new Map<string, PipelineSnapshot>();
  readonly #known = new Map<string, KnownJobs>();
  /** Scheduler views of known finished jobs, which never change, by job id. */
  readonly #finished = new Map<string, JobSnap>();
  /** Projects and tasks as effects use them: what they say there never changes. */
  readonly #projects = new Map<string, Project>();
  readonly #tasks = new Map<string, Task>();

  /** Reads live agents' output each pass, for engines (`null`: snapshots for commands). */
  readonly #monitor: OutputMonitor | null;

  constructor(ctx: EngineContext, monitor: OutputMonitor | null = null) {
    this.#ctx = ctx;
    this.#monitor = monitor;
  }

  /**
   * Loads a snapshot of the open pipelines (all of them, or those in `pipelineIds`) as seen by
   * the engine `holder` at `now`.
   */
  async load(
    scope: { pipelineIds?: readonly string[] },
    holder: string,
    now: number,
  ): Promise<EngineSnapshot> {
    const db = this.#ctx.store.db;
    const ids = scope.pipelineIds;
    if (ids?.length === 0) {
      return this.#empty();
    }
    const heads = () => {
      const query = db
        .selectFrom("pipelines")
        .select(PIPELINE_HEAD_COLUMNS)
        .where("status", "in", OPEN_PIPELINE_STATUSES);
      return ids === undefined ? query : query.where("id", "in", ids);
    };
    // In no particular order: `decide` orders them itself, and sorting in SQL costs more.
    const [{ rows }, counts, runningPipelines, queue, pauses] = await Promise.all([
      runCached(
        db,
        `open pipeline heads ${ids?.length ?? "all"}`,
        [...OPEN_PIPELINE_STATUSES, ...(ids ?? [])],
        heads,
      ),
      countActiveJobs(db),
      countRunningPipelines(db),
      readQueueSettings(db),
      activePauses(db, now),
    ]);
    await this.#loadDefinitions(rows.map((r) => r.definition_hash));
    if (scope.pipelineIds === undefined) {
      this.#forgetClosed(new Set(rows.map((r) => r.id)));
    }
    await this.#loadJobs(
      rows.map((r) => ({ id: r.id, version: r.version })),
      scope.pipelineIds === undefined,
    );

    const sessionIds: string[] = [];
    for (const row of rows) {
      const known = this.#known.get(row.id);
      for (const id of known?.open ?? []) {
        const job = known?.jobs?.get(id);
        if (job !== undefined && job.sessionId !== null && job.status !== "pending") {
          sessionIds.push(job.sessionId);
        }
      }
    }
    const sessions = await this.#loadSessions(sessionIds, scope.pipelineIds === undefined);
    const sessionsByPipeline = new Map<string, Map<string, Session>>();
    for (const session of sessions.values()) {
      let map = sessionsByPipeline.get(session.pipelineId);
      if (map === undefined) {
        map = new Map();
        sessionsByPipeline.set(session.pipelineId, map);
      }
      map.set(session.id, session);
    }

    if (scope.pipelineIds === undefined) {
      this.#monitor?.retain(new Set(sessionIds));
    }
    const entries = new Map<string, SnapshotEntry>();
    const states: SchedulerState["pipelines"] = [];
    for (const row of rows) {
      const snapshot = this.#definitions.get(row.definition_hash);
      if (snapshot === undefined) {
        continue;
      }
      const pipeline = toPipelineHead(row, snapshot);
      const known = this.#known.get(row.id);
      if (known === undefined) {
        continue;
      }
      known.ordered ??=
        known.jobs === null ? NO_JOBS : [...known.jobs.values()].sort((a, b) => a.seq - b.seq);
      const jobs = known.ordered;
      const pipelineSessions = sessionsByPipeline.get(row.id) ?? NO_SESSIONS;
      const snaps: JobSnap[] = [];
      for (const job of jobs) {
        const kept = this.#finished.get(job.id);
        if (kept !== undefined) {
          snaps.push(kept);
          continue;
        }
        const lease = leaseView(job, holder, now);
        let session = job.sessionId === null ? undefined : pipelineSessions.get(job.sessionId);
        let current = job;
        const agent = job.agent === null ? undefined : snapshot.agents[job.agent];
        if (
          this.#monitor !== null &&
          job.status === "running" &&
          session !== undefined &&
          lease !== "other" &&
          OutputMonitor.readable(agent)
        ) {
          // What the agent printed since the last pass: a turn's end makes the session idle.
          const update = await this.#monitor.observe({
            job,
            session,
            agent,
            ref: { projectId: row.project_id, taskNumber: row.task_number },
          });
          if (update.idleAt !== null) {
            session = { ...session, agentIdleAt: update.idleAt };
          }
          if (update.usage !== null) {
            current = { ...job, ...update.usage };
          }
        }
        const facts =
          job.status === "running" && session !== undefined && lease !== "other"
            ? await observeSession(
                this.#ctx.runtimes[session.runtime === "tmux" ? "tmux" : "process"],
                session,
                {
                  limits: stageById(snapshot, job.stageId),
                  idleAfterMs:
                    stageById(snapshot, job.stageId)?.interactive === true
                      ? snapshot.defaults.idleAfterMs
                      : null,
                  now,
                },
              )
            : null;
        const snap = jobSnap(current, lease, facts);
        if (!isOpenJob(job.status)) {
          this.#finished.set(job.id, snap);
        }
        snaps.push(snap);
      }
      entries.set(row.id, { pipeline, jobs, sessions: pipelineSessions });
      states.push({
        id: row.id,
        taskNumber: row.task_number,
        status: row.status,
        createdAt: row.created_at,
        startedAt: pipeline.startedAt,
        snapshot,
        route: pipeline.route,
        jobs: snaps,
        memo: row.status === "running" ? (known.memo ??= new PlanMemo()) : undefined,
      });
    }
    return {
      state: {
        pipelines: states,
        running: { jobs: counts.total, pipelines: runningPipelines, perAgent: counts.perAgent },
        limits: {
          ...this.#ctx.limits,
          maxRunningJobs: queue.maxConcurrent ?? this.#ctx.limits.maxRunningJobs,
        },
        queue: { paused: queue.paused },
        agentPausedUntil: Object.fromEntries(pauses.map((p) => [p.agent, p.until])),
      },
      entries,
      queue,
    };
  }

  /**
   * Adds the whole pipeline, its project and task to the entries effects will act on. Projects
   * and tasks are read once each: effects use a task's number and text and a project's name and
   * path, none of which change. A pipeline's status and version stay those the scheduler saw,
   * so an effect's compare-and-set fails if the pipeline changed since.
   */
  async hydrate(entries: readonly SnapshotEntry[]): Promise<Map<string, LoadedPipeline>> {
    const db = this.#ctx.store.db;
    const missingTasks = [...new Set(entries.map((e) => e.pipeline.taskId))].filter(
      (id) => !this.#tasks.has(id),
    );
    const missingProjects = entries.some((e) => !this.#projects.has(e.pipeline.projectId));
    const [projects, tasks, pipelineRows] = await Promise.all([
      missingProjects ? listProjects(db) : Promise.resolve([]),
      missingTasks.length > 0 ? listTasksByIds(db, missingTasks) : Promise.resolve([]),
      Promise.all(
        chunks(entries.map((e) => e.pipeline.id)).map((ids) =>
          runCached(db, `pipelines by id ${ids.length}`, ids, () =>
            db.selectFrom("pipelines").selectAll().where("id", "in", ids),
          ).then((result) => result.rows),
        ),
      ),
    ]);
    const rows = new Map(pipelineRows.flat().map((row) => [row.id, row]));
    for (const project of projects) {
      this.#projects.set(project.id, project);
    }
    for (const task of tasks) {
      this.#tasks.set(task.id, task);
    }
    const loaded = new Map<string, LoadedPipeline>();
    for (const entry of entries) {
      const head = entry.pipeline;
      const project = this.#projects.get(head.projectId);
      const task = this.#tasks.get(head.taskId);
      const row = rows.get(head.id);
      if (project !== undefined && task !== undefined && row !== undefined) {
        const pipeline = { ...toPipeline(row, head.snapshot), ...head };
        loaded.set(head.id, { ...entry, pipeline, project, task });
      }
    }
    return loaded;
  }

  /** Drops what is known of pipelines no longer open. */
  #forgetClosed(open: ReadonlySet<string>): void {
    for (const [id, known] of this.#known) {
      if (!open.has(id)) {
        for (const jobId of known.jobs?.keys() ?? []) {
          this.#finished.delete(jobId);
        }
        this.#known.delete(id);
      }
    }
  }

  async #empty(): Promise<EngineSnapshot> {
    const queue = await readQueueSettings(this.#ctx.store.db);
    return {
      state: {
        pipelines: [],
        running: { jobs: 0, pipelines: 0, perAgent: {} },
        limits: this.#ctx.limits,
        queue: { paused: queue.paused },
        agentPausedUntil: {},
      },
      entries: new Map(),
      queue,
    };
  }

  async #loadDefinitions(hashes: readonly string[]): Promise<void> {
    const missing = hashes.filter((h) => !this.#definitions.has(h));
    if (missing.length > 0) {
      for (const [hash, snapshot] of await readDefinitions(this.#ctx.store.db, missing)) {
        this.#definitions.set(hash, snapshot);
      }
    }
  }

  /**
   * Brings the known jobs of these pipelines up to date with as little reading as possible.
   * With `all` (every open pipeline is in `pipelines`), jobs are read in one query joined to
   * the open pipelines rather than by lists of ids.
   */
  async #loadJobs(
    pipelines: readonly { id: string; version: number }[],
    all: boolean,
  ): Promise<void> {
    const db = this.#ctx.store.db;
    const fresh = pipelines.filter((p) => !this.#known.has(p.id));
    const known = pipelines.filter((p) => this.#known.has(p.id));
    for (const p of fresh) {
      this.#known.set(p.id, {
        version: p.version,
        jobs: null,
        open: new Set(),
        maxSeq: 0,
        ordered: null,
        memo: null,
      });
    }
    if (all && known.length === 0) {
      // Nothing known yet (a new engine): every job of every open pipeline.
      this.#absorb(await openPipelineJobs(db, null).selectAll("jobs").execute());
      return;
    }
    for (const chunk of chunks(fresh)) {
      const ids = chunk.map((p) => p.id);
      this.#absorb(
        await selectJobs(db, `jobs of pipelines ${ids.length}`, ids, (q) =>
          q.where("pipeline_id", "in", ids),
        ),
      );
    }
    if (known.length === 0) {
      return;
    }
    // What was known before this pass: open rows read below may be newer than jobs that were
    // created and finished since, so those are read by `seq` from here.
    const seenUpTo = new Map(known.map((p) => [p.id, this.#known.get(p.id)?.maxSeq ?? 0]));
    // Open jobs change without a version bump (leases, sessions): read them every time.
    const openRows = all
      ? await openPipelineJobs(db, OPEN_JOB_STATUSES).selectAll("jobs").execute()
      : (
          await Promise.all(
            chunks(known).map((chunk) => {
              const ids = chunk.map((p) => p.id);
              return selectJobs(
                db,
                `open jobs of pipelines ${ids.length}`,
                [...ids, ...OPEN_JOB_STATUSES],
                (q) => q.where("pipeline_id", "in", ids).where("status", "in", OPEN_JOB_STATUSES),
              );
            }),
          )
        ).flat();
    const openNow = new Set(openRows.map((r) => r.id));
    this.#absorb(openRows);
    // A changed version means jobs were added or finished: read the new ones, and the ones that
    // were open last time and are not now.
    const reads: Promise<JobRow[]>[] = [];
    const finished: string[] = [];
    for (const p of known) {
      const entry = this.#known.get(p.id);
      if (entry === undefined || entry.version === p.version) {
        continue;
      }
      const after = seenUpTo.get(p.id) ?? 0;
      reads.push(
        selectJobs(db, "jobs after seq", [p.id, after], (q) =>
          q.where("pipeline_id", "=", p.id).where("seq", ">", after),
        ),
      );
      for (const id of entry.open) {
        if (!openNow.has(id)) {
          finished.push(id);
        }
      }
      entry.version = p.version;
    }
    for (const chunk of chunks(finished)) {
      reads.push(
        selectJobs(db, `jobs by id ${chunk.length}`, chunk, (q) => q.where("id", "in", chunk)),
      );
    }
    for (const rows of await Promise.all(reads)) {
      this.#absorb(rows);
    }
  }

  #absorb(rows: readonly JobRow[]): void {
    for (const row of rows) {
      const entry = this.#known.get(row.pipeline_id);
      if (entry !== undefined) {
        const job = toJob(row);
        entry.jobs ??= new Map();
        const replaced = entry.jobs.has(row.id);
        entry.jobs.set(row.id, job);
        if (isOpenJob(job.status)) {
          entry.open.add(job.id);
        } else {
          entry.open.delete(job.id);
        }
        entry.maxSeq = Math.max(entry.maxSeq, row.seq);
        if (entry.ordered === NO_JOBS) {
          entry.ordered = null;
        } else if (entry.ordered !== null) {
          placeInOrder(entry.ordered, job, replaced);
        }
      }
    }
  }

  /**
   * The sessions `ids`. With `all` (they are the sessions of every open pipeline's active
   * jobs), read in one query joined to those jobs rather than by lists of ids.
   */
  async #loadSessions(ids: readonly string[], all: boolean): Promise<Map<string, Session>> {
    const db = this.#ctx.store.db;
    const wanted = new Set(ids);
    const sessions = new Map<string, Session>();
    const found =
      all && ids.length > CHUNK
        ? (
            await openPipelineJobs(db, ACTIVE_JOB_STATUSES)
              .innerJoin("sessions", "sessions.id", "jobs.session_id")
              .selectAll("sessions")
              .execute()
          ).map(toSession)
        : await listSessionsByIds(db, ids);
    for (const session of found) {
      if (wanted.has(session.id)) {
        sessions.set(session.id, session);
      }
    }
    return sessions;
  }
}

/** Puts `job` into `ordered` (sorted by `seq`): in its old place, or in order when new. */
function placeInOrder(ordered: Job[], job: Job, replaced: boolean): void {
  let low = 0;
  let high = ordered.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((ordered[mid]?.seq ?? 0) < job.seq) {
      low = mid + 1;
    } else {
      high = mid;
    }
  }
  if (replaced && ordered[low]?.id === job.id) {
    ordered[low] = job;
  } else {
    ordered.splice(low, 0, job);
  }
}

/** The scheduler's view of a job. */
export function jobSnap(job: Job, lease: LeaseView, session: SessionFacts | null): JobSnap {
  return {
    id: job.id,
    seq: job.seq,
    stageId: job.stageId,
    role: job.role,
    kind: job.kind,
    parentJobId: job.parentJobId,
    member: job.member,
    trigger: job.trigger,
    attempt: job.attempt,
    fixRound: job.fixRound,
    agent: job.agent,
    model: job.model,
    status: job.status,
    notBefore: job.notBefore,
    routedFrom: job.routedFrom,
    errorClass: job.errorClass,
    error: job.error,
    fingerprints: job.fingerprints,
    failures: job.failures,
    context: job.context,
    usage: {
      tokens: job.tokensIn + job.tokensOut + job.cacheReadTokens + job.cacheWriteTokens,
      costUsd: job.costUsd,
    },
    createdAt: job.createdAt,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
    lease,
    session,
  };
}
