import type { Insertable, Selectable } from "kysely";

export interface ProjectsTable {
  id: string;
  /** Unique, readable; used in worktree paths and session names. */
  name: string;
  /** Absolute path of the checkout holding `baton.yaml`. */
  root_path: string;
  /** The next task number to hand out. */
  next_task_number: number;
  created_at: number;
}
export type ProjectRow = Selectable<ProjectsTable>;
export type NewProjectRow = Insertable<ProjectsTable>;
