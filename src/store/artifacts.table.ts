import type { Insertable, Selectable } from "kysely";

export interface ArtifactsTable {
  id: string;
  job_id: string;
  pipeline_id: string;
  stage_id: string;
  /** Relative to the worktree, posix separators. */
  path: string;
  kind: string;
  sha256: string;
  size: number;
  /** The text, for small text files; `null` otherwise. */
  content: string | null;
  created_at: number;
}
export type ArtifactRow = Selectable<ArtifactsTable>;
export type NewArtifactRow = Insertable<ArtifactsTable>;

export interface ArtifactConsumptionTable {
  artifact_id: string;
  job_id: string;
  created_at: number;
}
