import type { BatonEvent } from "../core/records.js";
import { runCached } from "./cached-query.js";
import type { Db } from "./db.js";
import type { EventRow } from "./events.table.js";
import { isObject, parseJsonColumn } from "./json.js";

export interface NewEvent {
  kind: string;
  projectId?: string | null;
  taskNumber?: number | null;
  pipelineId?: string | null;
  jobId?: string | null;
  data?: Record<string, unknown>;
}

function toEvent(row: EventRow): BatonEvent {
  return {
    id: Number(row.id),
    at: row.at,
    kind: row.kind,
    projectId: row.project_id,
    taskNumber: row.task_number,
    pipelineId: row.pipeline_id,
    jobId: row.job_id,
    data: parseJsonColumn(row.data, `events.data of event ${row.id}`, isObject),
  };
}

/**
 * Appends events. On PostgreSQL call `lockEventsForAppend` earlier in the same transaction so
 * ids become visible in order.
 */
export async function appendEvents(
  db: Db,
  events: readonly NewEvent[],
  now: number,
): Promise<void> {
  if (events.length === 0) {
    return;
  }
  const rows = events.map((e) => ({
    at: now,
    kind: e.kind,
    project_id: e.projectId ?? null,
    task_number: e.taskNumber ?? null,
    pipeline_id: e.pipelineId ?? null,
    job_id: e.jobId ?? null,
    data: JSON.stringify(e.data ?? {}),
  }));
  await runCached(db, `insert events ${rows.length}`, rows.flatMap(Object.values), () =>
    db.insertInto("events").values(rows),
  );
}

export async function listEvents(
  db: Db,
  filter: {
    afterId?: number;
    pipelineId?: string;
    kinds?: readonly string[];
    since?: number;
    limit?: number;
  },
): Promise<BatonEvent[]> {
  let query = db.selectFrom("events").selectAll();
  if (filter.afterId !== undefined) {
    query = query.where("id", ">", filter.afterId);
  }
  if (filter.pipelineId !== undefined) {
    query = query.where("pipeline_id", "=", filter.pipelineId);
  }
  if (filter.kinds !== undefined) {
    query = query.where("kind", "in", filter.kinds);
  }
  if (filter.since !== undefined) {
    query = query.where("at", ">=", filter.since);
  }
  const rows = await query
    .orderBy("id")
    .limit(filter.limit ?? 10_000)
    .execute();
  return rows.map(toEvent);
}
