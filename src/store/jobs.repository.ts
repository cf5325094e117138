/**
 * Jobs and their leases. A claim is one atomic update that hands out a lease token; every
 * later write of that job names the token, so an engine that lost its lease changes nothing.
 */
import type { JobContext, NewJob } from "../core/job.js";
import type { Job } from "../core/records.js";
import { ACTIVE_JOB_STATUSES, type JobStatus } from "../core/status.js";
import { runCached, setColumns } from "./cached-query.js";
import type { Db } from "./db.js";
import type { JobRow, JobsTable } from "./jobs.table.js";
import { isFailureList, isObject, isStringArray, parseJsonColumn } from "./json.js";

function isJobContext(value: unknown): value is JobContext {
  return isObject(value);
}

export function toJob(row: JobRow): Job {
  return {
    id: row.id,
    pipelineId: row.pipeline_id,
    seq: row.seq,
    stageId: row.stage_id,
    role: row.role,
    kind: row.kind,
    parentJobId: row.parent_job_id,
    member: row.member,
    trigger: row.trigger,
    attempt: row.attempt,
    fixRound: row.fix_round,
    agent: row.agent,
    model: row.model,
    status: row.status,
    notBefore: row.not_before,
    routedFrom: row.routed_from,
    context: parseJsonColumn(row.context, `jobs.context of job ${row.id}`, isJobContext),
    leaseToken: row.lease_token,
    leaseHolder: row.lease_holder,
    leaseExpiresAt: row.lease_expires_at,
    sessionId: row.session_id,
    exitCode: row.exit_code,
    signal: row.signal,
    errorClass: row.error_class,
    error: row.error,
    fingerprints: parseJsonColumn(
      row.fingerprints,
      `jobs.fingerprints of job ${row.id}`,
      isStringArray,
    ),
    failures: parseJsonColumn(row.failures, `jobs.failures of job ${row.id}`, isFailureList),
    tokensIn: Number(row.tokens_in),
    tokensOut: Number(row.tokens_out),
    cacheReadTokens: Number(row.cache_read_tokens),
    cacheWriteTokens: Number(row.cache_write_tokens),
    costUsd: Number(row.cost_usd),
    resetAt: row.reset_at,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}

export interface Lease {
  token: string;
  holder: string;
  expiresAt: number;
}

/** The next `seq` of a pipeline's jobs. Call inside the transaction that inserts. */
export async function nextJobSeq(db: Db, pipelineId: string): Promise<number> {
  const { rows } = await runCached(db, "max job seq", [pipelineId], () =>
    db
      .selectFrom("jobs")
      .select((eb) => eb.fn.max("seq").as("seq"))
      .where("pipeline_id", "=", pipelineId),
  );
  return Number(rows[0]?.seq ?? 0) + 1;
}

export interface InsertJob {
  id: string;
  pipelineId: string;
  seq: number;
  job: NewJob;
  parentJobId: string | null;
  status: JobStatus;
  tokenHash: string;
  lease: Lease | null;
  now: number;
}

/** Inserts a job (and its dependencies) and returns it as stored. */
export async function insertJob(db: Db, j: InsertJob): Promise<Job> {
  const row: JobRow = {
    id: j.id,
    pipeline_id: j.pipelineId,
    seq: j.seq,
    stage_id: j.job.stageId,
    role: j.job.role,
    kind: j.job.kind,
    parent_job_id: j.parentJobId,
    member: j.job.member,
    trigger: j.job.trigger,
    attempt: j.job.attempt,
    fix_round: j.job.fixRound,
    agent: j.job.agent,
    model: j.job.model,
    status: j.status,
    not_before: j.job.notBefore,
    routed_from: j.job.routedFrom,
    context: JSON.stringify(j.job.context),
    token_hash: j.tokenHash,
    lease_token: j.lease?.token ?? null,
    lease_holder: j.lease?.holder ?? null,
    lease_expires_at: j.lease?.expiresAt ?? null,
    session_id: null,
    exit_code: null,
    signal: null,
    error_class: null,
    error: null,
    fingerprints: "[]",
    failures: "[]",
    tokens_in: 0,
    tokens_out: 0,
    cache_read_tokens: 0,
    cache_write_tokens: 0,
    cost_usd: 0,
    reset_at: null,
    created_at: j.now,
    started_at: j.status === "starting" ? j.now : null,
    finished_at: j.status === "skipped" || j.status === "cancelled" ? j.now : null,
  };
  // The row literal above always has the same columns in the same order: one shape.
  await runCached(db, "insert job", Object.values(row), () => db.insertInto("jobs").values(row));
  const deps = j.job.deps.filter((d) => d.jobId !== "");
  if (deps.length > 0) {
    const rows = deps.map((d) => ({ job_id: j.id, depends_on: d.jobId, condition: d.when }));
    await runCached(db, `insert job deps ${rows.length}`, rows.flatMap(Object.values), () =>
      db
        .insertInto("job_deps")
        .values(rows)
        .onConflict((oc) => oc.doNothing()),
    );
  }
  return toJob(row);
}

export async function getJobById(db: Db, id: string): Promise<Job | undefined> {
  const row = await db.selectFrom("jobs").selectAll().where("id", "=", id).executeTakeFirst();
  return row === undefined ? undefined : toJob(row);
}

/** Every job of the given pipelines, by pipeline then `seq`. */
export async function listJobRows(db: Db, pipelineIds: readonly string[]): Promise<JobRow[]> {
  if (pipelineIds.length === 0) {
    return [];
  }
  const rows: JobRow[] = [];
  // Stay well under SQLite's bound-parameter limit for many pipelines.
  for (let i = 0; i < pipelineIds.length; i += 500) {
    const chunk = pipelineIds.slice(i, i + 500);
    rows.push(
      ...(await db
        .selectFrom("jobs")
        .selectAll()
        .where("pipeline_id", "in", chunk)
        .orderBy("pipeline_id")
        .orderBy("seq")
        .execute()),
    );
  }
  return rows;
}

export async function listJobs(db: Db, pipelineIds: readonly string[]): Promise<Job[]> {
  return (await listJobRows(db, pipelineIds)).map(toJob);
}

/**
 * Claims a job: moves it from one of `from` to `to` and gives it `lease`, only if nobody holds a
 * live lease on it. Returns whether the claim succeeded.
 */
export async function claimJob(
  db: Db,
  claim: {
    id: string;
    from: readonly JobStatus[];
    to: JobStatus;
    lease: Lease;
    /** A new job token's hash, written with the claim. */
    tokenHash?: string;
    now: number;
  },
): Promise<boolean> {
  const result = await db
    .updateTable("jobs")
    .set({
      status: claim.to,
      lease_token: claim.lease.token,
      lease_holder: claim.lease.holder,
      lease_expires_at: claim.lease.expiresAt,
      ...(claim.to === "starting" ? { started_at: claim.now } : {}),
      ...(claim.tokenHash === undefined ? {} : { token_hash: claim.tokenHash }),
    })
    .where("id", "=", claim.id)
    .where("status", "in", claim.from)
    .where((eb) => eb.or([eb("lease_token", "is", null), eb("lease_expires_at", "<", claim.now)]))
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

export type JobPatch = Partial<
  Pick<
    JobsTable,
    | "status"
    | "session_id"
    | "exit_code"
    | "signal"
    | "error_class"
    | "error"
    | "finished_at"
    | "started_at"
    | "agent"
    | "model"
    | "tokens_in"
    | "tokens_out"
    | "cache_read_tokens"
    | "cache_write_tokens"
    | "cost_usd"
    | "reset_at"
    | "token_hash"
    | "lease_token"
    | "lease_holder"
    | "lease_expires_at"
  >
> & { fingerprints?: string[]; failures?: { gate: string; output: string }[] };

function patchValues(patch: JobPatch): Partial<JobsTable> {
  const { fingerprints, failures, ...rest } = patch;
  return {
    ...rest,
    ...(fingerprints === undefined ? {} : { fingerprints: JSON.stringify(fingerprints) }),
    ...(failures === undefined ? {} : { failures: JSON.stringify(failures) }),
  };
}

/**
 * Writes to a job this engine holds. Returns false, changing nothing, when `token` is no
 * longer the job's lease (another engine took it over) or the job is not in `from`.
 */
export async function updateLeasedJob(
  db: Db,
  id: string,
  token: string,
  patch: JobPatch,
  from?: readonly JobStatus[],
): Promise<boolean> {
  const values = patchValues(patch);
  const set = setColumns(values);
  const result = await runCached(
    db,
    `update leased job set ${set.names} from ${from?.length ?? "any"}`,
    [...set.values, id, token, ...(from ?? [])],
    () => {
      const query = db
        .updateTable("jobs")
        .set(values)
        .where("id", "=", id)
        .where("lease_token", "=", token);
      return from === undefined ? query : query.where("status", "in", from);
    },
  );
  return result.numAffectedRows === 1n;
}

/** Settles a job nobody holds (skipped, cancelled, failed as lost) if it is still in `from`. */
export async function settleJob(
  db: Db,
  id: string,
  from: readonly JobStatus[],
  patch: JobPatch & { status: JobStatus },
): Promise<boolean> {
  const result = await db
    .updateTable("jobs")
    .set({ ...patchValues(patch), lease_token: null, lease_holder: null, lease_expires_at: null })
    .where("id", "=", id)
    .where("status", "in", from)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

/** Extends every lease `holder` has. */
export async function heartbeatLeases(db: Db, holder: string, expiresAt: number): Promise<number> {
  const result = await db
    .updateTable("jobs")
    .set({ lease_expires_at: expiresAt })
    .where("lease_holder", "=", holder)
    .where("lease_token", "is not", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Gives up leases: all of `holder`'s, or only those on `jobIds`. */
export async function releaseLeases(
  db: Db,
  holder: string,
  jobIds?: readonly string[],
): Promise<void> {
  let query = db
    .updateTable("jobs")
    .set({ lease_token: null, lease_holder: null, lease_expires_at: null })
    .where("lease_holder", "=", holder);
  if (jobIds !== undefined) {
    if (jobIds.length === 0) {
      return;
    }
    query = query.where("id", "in", jobIds);
  }
  await query.execute();
}

/**
 * One statement that frees every lease that expired or whose holder is known to be dead, so
 * another engine can adopt those jobs. Returns how many were freed.
 */
export async function reapLeases(
  db: Db,
  now: number,
  deadHolders: readonly string[],
): Promise<number> {
  const result = await db
    .updateTable("jobs")
    .set({ lease_token: null, lease_holder: null, lease_expires_at: null })
    .where("lease_token", "is not", null)
    .where((eb) =>
      deadHolders.length === 0
        ? eb("lease_expires_at", "<", now)
        : eb.or([eb("lease_expires_at", "<", now), eb("lease_holder", "in", deadHolders)]),
    )
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Distinct holders of leases that have not expired. */
export async function listLeaseHolders(db: Db, now: number): Promise<string[]> {
  const rows = await db
    .selectFrom("jobs")
    .select("lease_holder")
    .distinct()
    .where("lease_token", "is not", null)
    .where("lease_expires_at", ">=", now)
    .execute();
  return rows.flatMap((r) => (r.lease_holder === null ? [] : [r.lease_holder]));
}

/** Active jobs (starting, running, checking) in total and by agent. */
export async function countActiveJobs(
  db: Db,
): Promise<{ total: number; perAgent: Record<string, number> }> {
  const { rows } = await runCached(db, "count active jobs", [...ACTIVE_JOB_STATUSES], () =>
    db
      .selectFrom("jobs")
      .select(["agent", (eb) => eb.fn.countAll<number>().as("n")])
      .where("status", "in", ACTIVE_JOB_STATUSES)
      .groupBy("agent"),
  );
  const perAgent: Record<string, number> = {};
  let total = 0;
  for (const row of rows) {
    total += Number(row.n);
    if (row.agent !== null) {
      perAgent[row.agent] = Number(row.n);
    }
  }
  return { total, perAgent };
}

export async function findJobByTokenHash(
  db: Db,
  jobId: string,
  tokenHash: string,
): Promise<Job | undefined> {
  const row = await db
    .selectFrom("jobs")
    .selectAll()
    .where("id", "=", jobId)
    .where("token_hash", "=", tokenHash)
    .executeTakeFirst();
  return row === undefined ? undefined : toJob(row);
}

export interface JobUsage {
  tokensIn: number;
  tokensOut: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  costUsd: number;
}

/** The usage columns of a job, as a patch. */
export function usagePatch(usage: JobUsage): JobPatch {
  return {
    tokens_in: usage.tokensIn,
    tokens_out: usage.tokensOut,
    cache_read_tokens: usage.cacheReadTokens,
    cache_write_tokens: usage.cacheWriteTokens,
    cost_usd: usage.costUsd,
  };
}

/**
 * Records what a running job's agent has spent so far (totals, read from its output). Only
 * while the job is active: a finished job's usage was settled with it.
 */
export async function recordJobUsage(db: Db, id: string, usage: JobUsage): Promise<void> {
  await db
    .updateTable("jobs")
    .set(patchValues(usagePatch(usage)))
    .where("id", "=", id)
    .where("status", "in", ACTIVE_JOB_STATUSES)
    .execute();
}

/** Sets the model a job runs, as its agent reported it, where routing left it open. */
export async function recordJobModel(db: Db, id: string, model: string): Promise<void> {
  await db
    .updateTable("jobs")
    .set({ model })
    .where("id", "=", id)
    .where("model", "is", null)
    .execute();
}
