import type { Generated, Insertable, Selectable } from "kysely";

/** Append-only: rows are never updated or deleted. `id` only grows. */
export interface EventsTable {
  id: Generated<number>;
  at: number;
  kind: string;
  project_id: string | null;
  task_number: number | null;
  pipeline_id: string | null;
  job_id: string | null;
  /** JSON object. */
  data: string;
}
export type EventRow = Selectable<EventsTable>;
export type NewEventRow = Insertable<EventsTable>;
