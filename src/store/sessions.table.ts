import type { Generated, Insertable, Selectable } from "kysely";

export interface SessionsTable {
  id: string;
  job_id: string;
  pipeline_id: string;
  /** Unique and readable: `baton-<project>-<task>-<stage>-<seq>`. */
  name: string;
  runtime: string;
  host: string;
  dir: string;
  log_path: string;
  pid: number | null;
  pid_start_time: string | null;
  /** started | active | idle | exited | human_input | steer | lost */
  state: string;
  started_at: number;
  last_output_at: number | null;
  steered_at: number | null;
  /** When Baton sent the wrap-up message at a limit. */
  wrapup_at: number | null;
  exited_at: number | null;
  exit_code: number | null;
  signal: string | null;
  /** Time a human held the session, which does not count against timeouts. */
  human_ms: number;
  human_since: number | null;
  /** The agent's own signals (hooks, its output): last time it said it waits, and it works. */
  agent_idle_at: number | null;
  agent_active_at: number | null;
  /** The agent CLI's own session id, from its output. */
  agent_session_id: string | null;
  /** Messages delivered to the session's input after it started (steering). */
  inputs_sent: Generated<number>;
}
export type SessionRow = Selectable<SessionsTable>;
export type NewSessionRow = Insertable<SessionsTable>;
