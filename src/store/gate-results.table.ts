import type { Generated, Insertable, Selectable } from "kysely";

export interface GateResultsTable {
  id: Generated<number>;
  job_id: string;
  pipeline_id: string;
  stage_id: string;
  gate: string;
  passed: number;
  exit_code: number | null;
  /** 1 when this result came after the gate's autofix command ran. */
  autofixed: number;
  output_tail: string;
  fingerprint: string | null;
  duration_ms: number;
  created_at: number;
}
export type GateResultRow = Selectable<GateResultsTable>;
export type NewGateResultRow = Insertable<GateResultsTable>;
