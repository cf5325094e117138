import type { Generated } from "kysely";

export interface WebhookDeliveriesTable {
  id: Generated<number>;
  delivery_id: string | null;
  event_type: string;
  action: string | null;
  payload_hash: string;
  repo: string;
  processed_at: number | null;
  error: string | null;
  retry_count: number;
  created_at: number;
}

/** Queue settings and other switches, one JSON value per key. */
export interface SettingsTable {
  key: string;
  value: string;
  updated_at: number;
}

/** Agents that may start no session until `until`: a rate limit, until it resets. */
export interface AgentPausesTable {
  agent: string;
  until: number;
  reason: string;
  /** The job whose session hit the limit. */
  job_id: string | null;
  updated_at: number;
}

export interface SchedulesTable {
  id: string;
  project_id: string;
  name: string;
  cron: string;
  task_title: string;
  task_body: string;
  labels: string;
  enabled: number;
  last_run_at: number | null;
  next_run_at: number | null;
  created_at: number;
}
