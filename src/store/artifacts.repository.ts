import type { Artifact } from "../core/records.js";
import type { ArtifactRow } from "./artifacts.table.js";
import type { Db } from "./db.js";

function toArtifact(row: ArtifactRow): Artifact {
  return {
    id: row.id,
    jobId: row.job_id,
    pipelineId: row.pipeline_id,
    stageId: row.stage_id,
    path: row.path,
    kind: row.kind,
    sha256: row.sha256,
    size: Number(row.size),
    content: row.content,
    createdAt: row.created_at,
  };
}

export async function insertArtifacts(db: Db, rows: readonly ArtifactRow[]): Promise<void> {
  if (rows.length > 0) {
    await db
      .insertInto("artifacts")
      .values([...rows])
      .execute();
  }
}

export async function listArtifacts(
  db: Db,
  filter: { pipelineId?: string; jobIds?: readonly string[] },
): Promise<Artifact[]> {
  let query = db.selectFrom("artifacts").selectAll();
  if (filter.pipelineId !== undefined) {
    query = query.where("pipeline_id", "=", filter.pipelineId);
  }
  if (filter.jobIds !== undefined) {
    if (filter.jobIds.length === 0) {
      return [];
    }
    query = query.where("job_id", "in", filter.jobIds);
  }
  const rows = await query.orderBy("created_at").orderBy("path").execute();
  return rows.map(toArtifact);
}

/** Records that `jobId` was given these artifacts. Recording twice is harmless. */
export async function recordConsumption(
  db: Db,
  jobId: string,
  artifactIds: readonly string[],
  now: number,
): Promise<void> {
  if (artifactIds.length > 0) {
    await db
      .insertInto("artifact_consumption")
      .values(artifactIds.map((id) => ({ artifact_id: id, job_id: jobId, created_at: now })))
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
}

export async function listConsumption(db: Db, jobId: string): Promise<string[]> {
  const rows = await db
    .selectFrom("artifact_consumption")
    .select("artifact_id")
    .where("job_id", "=", jobId)
    .execute();
  return rows.map((r) => r.artifact_id);
}
