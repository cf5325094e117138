import type { Insertable, Selectable } from "kysely";
import type { JobKind, JobRole, JobTrigger } from "../core/job.js";
import type { ErrorClass, JobStatus } from "../core/status.js";

export interface JobsTable {
  id: string;
  pipeline_id: string;
  /** Creation order within the pipeline, from 1. */
  seq: number;
  stage_id: string;
  role: JobRole;
  kind: JobKind;
  parent_job_id: string | null;
  member: string | null;
  trigger: JobTrigger;
  attempt: number;
  fix_round: number;
  agent: string | null;
  model: string | null;
  status: JobStatus;
  not_before: number | null;
  routed_from: string | null;
  /** JSON `JobContext`. */
  context: string;
  /** sha256 of the job's `BATON_JOB_TOKEN`, which authorises `baton job spawn`. */
  token_hash: string;
  lease_token: string | null;
  /** `host:pid:start` of the engine holding the lease. */
  lease_holder: string | null;
  lease_expires_at: number | null;
  session_id: string | null;
  exit_code: number | null;
  signal: string | null;
  error_class: ErrorClass | null;
  error: string | null;
  /** JSON array of the failing gates' fingerprints. */
  fingerprints: string;
  /** JSON array of `{gate, output}` for the failing gates. */
  failures: string;
  tokens_in: number;
  tokens_out: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  cost_usd: number;
  /** For a rate-limited job: when the limit resets. */
  reset_at: number | null;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
}
export type JobRow = Selectable<JobsTable>;
export type NewJobRow = Insertable<JobsTable>;

export interface JobDepsTable {
  job_id: string;
  depends_on: string;
  /** success | failure | always */
  condition: string;
}
