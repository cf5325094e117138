import type { Insertable, Selectable } from "kysely";
import type { TaskStatus } from "../core/status.js";

export interface TasksTable {
  id: string;
  project_id: string;
  /** `#42`: numbered per project. */
  number: number;
  title: string;
  body: string;
  /** JSON array of strings. */
  labels: string;
  /** local | github | review | spawn | schedule */
  source: string;
  /** The source's own reference (issue URL, schedule id), if any. */
  source_ref: string | null;
  status: TaskStatus;
  /** The pipeline definition to run; `null` means the config's default. */
  pipeline_name: string | null;
  /** Agent asked for with `--agent`; `null` lets the stages choose. */
  agent: string | null;
  created_at: number;
  updated_at: number;
}
export type TaskRow = Selectable<TasksTable>;
export type NewTaskRow = Insertable<TasksTable>;
