import { createHash } from "node:crypto";
import { InternalError } from "../core/errors.js";
import type { PipelineSnapshot, RouteResult } from "../core/pipeline-def.js";
import type { Pipeline, PipelineHead } from "../core/records.js";
import type { PipelineStatus } from "../core/status.js";
import { runCached } from "./cached-query.js";
import type { Db } from "./db.js";
import { isObject, parseJsonColumn } from "./json.js";
import type { PipelineRow } from "./pipelines.table.js";

function isSnapshot(value: unknown): value is PipelineSnapshot {
  return (
    isObject(value) &&
    isObject(value.pipeline) &&
    Array.isArray(value.pipeline.stages) &&
    isObject(value.agents) &&
    isObject(value.defaults)
  );
}

function isRoute(value: unknown): value is RouteResult {
  return isObject(value) && typeof value.agent === "string";
}

/** Parses a stored definition text. Throws `InternalError` for text Baton did not write. */
function parseDefinition(text: string, hash: string): PipelineSnapshot {
  return parseJsonColumn(text, `pipeline_definitions.definition ${hash}`, isSnapshot);
}

/** The sha256 a definition is stored under. */
export function definitionHash(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** A pipeline row with its definition, parsed through `parse` (which may share results). */
export function toPipeline(row: PipelineRow, snapshot: PipelineSnapshot): Pipeline {
  return {
    ...toPipelineHead(row, snapshot),
    run: row.run,
    name: row.name,
    branch: row.branch,
    worktreePath: row.worktree_path,
    baseCommit: row.base_commit,
    reason: row.reason,
    finishedAt: row.finished_at,
    updatedAt: row.updated_at,
  };
}

/** The columns `toPipelineHead` reads. */
export const PIPELINE_HEAD_COLUMNS = [
  "id",
  "project_id",
  "task_id",
  "task_number",
  "status",
  "definition_hash",
  "route",
  "version",
  "created_at",
  "started_at",
] as const satisfies readonly (keyof PipelineRow)[];

export type PipelineHeadRow = Pick<PipelineRow, (typeof PIPELINE_HEAD_COLUMNS)[number]>;

export function toPipelineHead(row: PipelineHeadRow, snapshot: PipelineSnapshot): PipelineHead {
  return {
    id: row.id,
    projectId: row.project_id,
    taskId: row.task_id,
    taskNumber: row.task_number,
    status: row.status,
    snapshot,
    route:
      row.route === null ? null : parseJsonColumn(row.route, `pipelines.route ${row.id}`, isRoute),
    version: row.version,
    createdAt: row.created_at,
    startedAt: row.started_at,
  };
}

/** Definitions read per query, well under SQLite's bound-parameter limit. */
const DEFINITION_CHUNK = 500;

/**
 * The definitions stored under `hashes`, parsed. Hashes not stored are missing from the result.
 */
export async function readDefinitions(
  db: Db,
  hashes: readonly string[],
): Promise<Map<string, PipelineSnapshot>> {
  const parsed = new Map<string, PipelineSnapshot>();
  const distinct = [...new Set(hashes)];
  for (let i = 0; i < distinct.length; i += DEFINITION_CHUNK) {
    const rows = await db
      .selectFrom("pipeline_definitions")
      .select(["hash", "definition"])
      .where("hash", "in", distinct.slice(i, i + DEFINITION_CHUNK))
      .execute();
    for (const { hash, definition } of rows) {
      parsed.set(hash, parseDefinition(definition, hash));
    }
  }
  return parsed;
}

/**
 * Rows with their definitions, which many pipelines share: each distinct one is read and
 * parsed once, rather than copied out of the store for every row.
 */
async function withDefinitions(db: Db, rows: readonly PipelineRow[]): Promise<Pipeline[]> {
  const parsed = await readDefinitions(
    db,
    rows.map((row) => row.definition_hash),
  );
  return rows.map((row) => {
    const snapshot = parsed.get(row.definition_hash);
    if (snapshot === undefined) {
      throw new InternalError(
        `pipeline ${row.id} runs definition ${row.definition_hash}, which is not stored`,
      );
    }
    return toPipeline(row, snapshot);
  });
}

export interface NewPipeline {
  id: string;
  projectId: string;
  taskId: string;
  taskNumber: number;
  run: number;
  name: string;
  snapshot: PipelineSnapshot;
  /** How the task was routed when the pipeline was made; none by default. */
  route?: RouteResult | null;
  now: number;
}

/** Inserts a pipeline (and its definition, unless one with the same text is stored). */
export async function insertPipeline(db: Db, p: NewPipeline): Promise<Pipeline> {
  const definition = JSON.stringify(p.snapshot);
  const hash = definitionHash(definition);
  await db
    .insertInto("pipeline_definitions")
    .values({ hash, definition, created_at: p.now })
    .onConflict((oc) => oc.column("hash").doNothing())
    .execute();
  const row: PipelineRow = {
    id: p.id,
    project_id: p.projectId,
    task_id: p.taskId,
    task_number: p.taskNumber,
    run: p.run,
    name: p.name,
    status: "pending",
    definition_hash: hash,
    branch: null,
    worktree_path: null,
    base_commit: null,
    route: p.route === undefined || p.route === null ? null : JSON.stringify(p.route),
    version: 1,
    reason: null,
    created_at: p.now,
    started_at: null,
    finished_at: null,
    updated_at: p.now,
  };
  await db.insertInto("pipelines").values(row).execute();
  return toPipeline(row, p.snapshot);
}

export async function getPipelineById(db: Db, id: string): Promise<Pipeline | undefined> {
  const row = await db.selectFrom("pipelines").selectAll().where("id", "=", id).executeTakeFirst();
  return row === undefined ? undefined : (await withDefinitions(db, [row]))[0];
}

/** The task's most recent pipeline (highest `run`). */
export async function findLatestPipelineForTask(
  db: Db,
  taskId: string,
): Promise<Pipeline | undefined> {
  const row = await db
    .selectFrom("pipelines")
    .selectAll()
    .where("task_id", "=", taskId)
    .orderBy("run", "desc")
    .limit(1)
    .executeTakeFirst();
  return row === undefined ? undefined : (await withDefinitions(db, [row]))[0];
}

export async function listPipelines(
  db: Db,
  filter: { projectId?: string; statuses?: readonly PipelineStatus[]; ids?: readonly string[] },
): Promise<Pipeline[]> {
  let query = db.selectFrom("pipelines").selectAll("pipelines");
  if (filter.projectId !== undefined) {
    query = query.where("pipelines.project_id", "=", filter.projectId);
  }
  if (filter.statuses !== undefined) {
    query = query.where("pipelines.status", "in", filter.statuses);
  }
  if (filter.ids !== undefined) {
    if (filter.ids.length === 0) {
      return [];
    }
    query = query.where("pipelines.id", "in", filter.ids);
  }
  const rows = await query.orderBy("pipelines.created_at").orderBy("pipelines.id").execute();
  return withDefinitions(db, rows);
}

/**
 * Compare-and-set on the pipeline's version: bumps it only if it is still `expected`. Every
 * applied decision starts with this, so two engines never both act on the same state.
 */
export async function bumpPipelineVersion(
  db: Db,
  id: string,
  expected: number,
  now: number,
): Promise<boolean> {
  const result = await runCached(
    db,
    "bump pipeline version",
    [expected + 1, now, id, expected],
    () =>
      db
        .updateTable("pipelines")
        .set({ version: expected + 1, updated_at: now })
        .where("id", "=", id)
        .where("version", "=", expected),
  );
  return result.numAffectedRows === 1n;
}

/** Bumps the version whatever it is; for changes made under a job lease. */
export async function touchPipeline(db: Db, id: string, now: number): Promise<void> {
  await runCached(db, "touch pipeline", [1, now, id], () =>
    db
      .updateTable("pipelines")
      .set((eb) => ({ version: eb("version", "+", 1), updated_at: now }))
      .where("id", "=", id),
  );
}

/**
 * Moves a pipeline to `status` if it is in one of `from`; returns whether it moved. Also sets
 * `reason` and the start or finish time that goes with the new status.
 */
export async function setPipelineStatus(
  db: Db,
  id: string,
  change: {
    from: readonly PipelineStatus[];
    to: PipelineStatus;
    reason: string | null;
    now: number;
  },
): Promise<boolean> {
  const finished = ["completed", "failed", "cancelled"].includes(change.to);
  const result = await db
    .updateTable("pipelines")
    .set((eb) => ({
      status: change.to,
      reason: change.reason,
      updated_at: change.now,
      version: eb("version", "+", 1),
      ...(change.to === "running"
        ? { started_at: eb.fn.coalesce("started_at", eb.val(change.now)) }
        : {}),
      ...(finished ? { finished_at: change.now } : { finished_at: null }),
    }))
    .where("id", "=", id)
    .where("status", "in", change.from)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}

export async function setPipelineWorktree(
  db: Db,
  id: string,
  worktree: { branch: string; path: string; baseCommit: string; now: number },
): Promise<void> {
  await db
    .updateTable("pipelines")
    .set({
      branch: worktree.branch,
      worktree_path: worktree.path,
      base_commit: worktree.baseCommit,
      updated_at: worktree.now,
    })
    .where("id", "=", id)
    .execute();
}

/** How many pipelines are running or blocked (they hold a pipeline slot). */
export async function countRunningPipelines(db: Db): Promise<number> {
  const statuses = ["running", "blocked"] as const;
  const { rows } = await runCached(db, "count running pipelines", [...statuses], () =>
    db
      .selectFrom("pipelines")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("status", "in", statuses),
  );
  return Number(rows[0]?.n ?? 0);
}

/** Forgets a removed worktree (the branch name stays, so the work can be found). */
export async function clearPipelineWorktree(db: Db, id: string, now: number): Promise<void> {
  await db
    .updateTable("pipelines")
    .set({ worktree_path: null, updated_at: now })
    .where("id", "=", id)
    .execute();
}

/** The pipeline's current row, reusing the definition already parsed (it never changes). */
export async function refreshPipeline(db: Db, pipeline: Pipeline): Promise<Pipeline> {
  const row = await db
    .selectFrom("pipelines")
    .selectAll()
    .where("id", "=", pipeline.id)
    .executeTakeFirst();
  return row === undefined ? pipeline : toPipeline(row, pipeline.snapshot);
}

/** Records how the task was routed, unless it was already; returns whether it wrote. */
export async function setPipelineRoute(
  db: Db,
  id: string,
  route: RouteResult,
  now: number,
): Promise<boolean> {
  const result = await db
    .updateTable("pipelines")
    .set((eb) => ({
      route: JSON.stringify(route),
      version: eb("version", "+", 1),
      updated_at: now,
    }))
    .where("id", "=", id)
    .where("route", "is", null)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}
