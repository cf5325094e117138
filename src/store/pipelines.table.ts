import type { Insertable, Selectable } from "kysely";
import type { PipelineStatus } from "../core/status.js";

export interface PipelinesTable {
  id: string;
  project_id: string;
  task_id: string;
  task_number: number;
  /** 1 for the task's first pipeline, 2 for the next one made with `pipeline create`, … */
  run: number;
  name: string;
  status: PipelineStatus;
  /** sha256 of the definition this pipeline runs (`pipeline_definitions`), fixed at creation. */
  definition_hash: string;
  branch: string | null;
  worktree_path: string | null;
  base_commit: string | null;
  /** JSON `RouteResult`: the agent and model routing chose, or null when it did not route. */
  route: string | null;
  /** Bumped by every change to the pipeline or its jobs; decisions are applied against it. */
  version: number;
  /** Why the pipeline failed, was blocked or was cancelled. */
  reason: string | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  updated_at: number;
}
export type PipelineRow = Selectable<PipelinesTable>;
export type NewPipelineRow = Insertable<PipelinesTable>;

/** JSON `PipelineSnapshot` texts, shared by every pipeline that runs the same definition. */
export interface PipelineDefinitionsTable {
  hash: string;
  definition: string;
  created_at: number;
}
