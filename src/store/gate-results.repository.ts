import type { GateResult } from "../core/records.js";
import type { Db } from "./db.js";
import type { GateResultRow, NewGateResultRow } from "./gate-results.table.js";

function toGateResult(row: GateResultRow): GateResult {
  return {
    id: Number(row.id),
    jobId: row.job_id,
    pipelineId: row.pipeline_id,
    stageId: row.stage_id,
    gate: row.gate,
    passed: row.passed === 1,
    exitCode: row.exit_code,
    autofixed: row.autofixed === 1,
    outputTail: row.output_tail,
    fingerprint: row.fingerprint,
    durationMs: Number(row.duration_ms),
    createdAt: row.created_at,
  };
}

export async function insertGateResult(db: Db, row: NewGateResultRow): Promise<void> {
  await db.insertInto("gate_results").values(row).execute();
}

export async function listGateResults(
  db: Db,
  filter: { pipelineId?: string; jobId?: string },
): Promise<GateResult[]> {
  let query = db.selectFrom("gate_results").selectAll();
  if (filter.pipelineId !== undefined) {
    query = query.where("pipeline_id", "=", filter.pipelineId);
  }
  if (filter.jobId !== undefined) {
    query = query.where("job_id", "=", filter.jobId);
  }
  const rows = await query.orderBy("id").execute();
  return rows.map(toGateResult);
}
