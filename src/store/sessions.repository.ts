import type { Session } from "../core/records.js";
import { runCached, setColumns } from "./cached-query.js";
import type { Db } from "./db.js";
import { sql } from "kysely";
import type { NewSessionRow, SessionRow, SessionsTable } from "./sessions.table.js";

export function toSession(row: SessionRow): Session {
  return {
    id: row.id,
    jobId: row.job_id,
    pipelineId: row.pipeline_id,
    name: row.name,
    runtime: row.runtime,
    host: row.host,
    dir: row.dir,
    logPath: row.log_path,
    pid: row.pid,
    pidStartTime: row.pid_start_time,
    state: row.state,
    startedAt: row.started_at,
    lastOutputAt: row.last_output_at,
    steeredAt: row.steered_at,
    wrapUpAt: row.wrapup_at,
    exitedAt: row.exited_at,
    exitCode: row.exit_code,
    signal: row.signal,
    humanMs: Number(row.human_ms),
    humanSince: row.human_since,
    agentIdleAt: row.agent_idle_at,
    agentActiveAt: row.agent_active_at,
    agentSessionId: row.agent_session_id,
    inputsSent: Number(row.inputs_sent),
  };
}

/** What a session is recorded with when it starts; what it does later starts out empty. */
export type StartedSession = Pick<
  NewSessionRow,
  | "id"
  | "job_id"
  | "pipeline_id"
  | "name"
  | "runtime"
  | "host"
  | "dir"
  | "log_path"
  | "pid"
  | "pid_start_time"
  | "started_at"
>;

/** Records a session that has just started, in state `started`. */
export async function insertSession(db: Db, session: StartedSession): Promise<void> {
  const row: NewSessionRow = {
    ...session,
    state: "started",
    last_output_at: null,
    steered_at: null,
    wrapup_at: null,
    exited_at: null,
    exit_code: null,
    signal: null,
    human_ms: 0,
    human_since: null,
    agent_idle_at: null,
    agent_active_at: null,
    agent_session_id: null,
  };
  await runCached(db, `insert session ${Object.keys(row).join(",")}`, Object.values(row), () =>
    db.insertInto("sessions").values(row),
  );
}

export async function updateSession(
  db: Db,
  id: string,
  patch: Partial<Omit<SessionsTable, "id" | "job_id" | "pipeline_id" | "name" | "inputs_sent">>,
): Promise<void> {
  const set = setColumns(patch);
  await runCached(db, `update session set ${set.names}`, [...set.values, id], () =>
    db.updateTable("sessions").set(patch).where("id", "=", id),
  );
}

/** Adds `delta` to the messages counted as delivered to the session's input. */
export async function countSessionInputs(db: Db, id: string, delta: 1 | -1): Promise<void> {
  await db
    .updateTable("sessions")
    .set({ inputs_sent: sql<number>`inputs_sent + ${delta}` })
    .where("id", "=", id)
    .execute();
}

export async function getSessionById(db: Db, id: string): Promise<Session | undefined> {
  const row = await db.selectFrom("sessions").selectAll().where("id", "=", id).executeTakeFirst();
  return row === undefined ? undefined : toSession(row);
}

export async function findSessionByName(db: Db, name: string): Promise<Session | undefined> {
  const row = await db
    .selectFrom("sessions")
    .selectAll()
    .where("name", "=", name)
    .executeTakeFirst();
  return row === undefined ? undefined : toSession(row);
}

/** Sessions by id, for the jobs of a snapshot. */
export async function listSessionsByIds(db: Db, ids: readonly string[]): Promise<Session[]> {
  const sessions: Session[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    if (chunk.length > 0) {
      const { rows } = await runCached(db, `sessions by id ${chunk.length}`, chunk, () =>
        db.selectFrom("sessions").selectAll().where("id", "in", chunk),
      );
      sessions.push(...rows.map(toSession));
    }
  }
  return sessions;
}

export async function listSessions(
  db: Db,
  filter: { pipelineIds?: readonly string[]; states?: readonly string[] },
): Promise<Session[]> {
  let query = db.selectFrom("sessions").selectAll();
  if (filter.pipelineIds !== undefined) {
    if (filter.pipelineIds.length === 0) {
      return [];
    }
    query = query.where("pipeline_id", "in", filter.pipelineIds);
  }
  if (filter.states !== undefined) {
    query = query.where("state", "in", filter.states);
  }
  const rows = await query.orderBy("started_at").execute();
  return rows.map(toSession);
}
