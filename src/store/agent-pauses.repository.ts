/**
 * Agents paused by a rate limit, and the round-robin router's turn. A pause only ever moves
 * later: two sessions limited at once leave the later reset.
 */
import { sql } from "kysely";
import { runCached } from "./cached-query.js";
import type { Db } from "./db.js";

export interface AgentPause {
  agent: string;
  until: number;
  reason: string;
  jobId: string | null;
}

/** Pauses `agent` until `until`, unless it is already paused longer. */
export async function pauseAgent(db: Db, pause: AgentPause, now: number): Promise<void> {
  await db
    .insertInto("agent_pauses")
    .values({
      agent: pause.agent,
      until: pause.until,
      reason: pause.reason,
      job_id: pause.jobId,
      updated_at: now,
    })
    .onConflict((oc) =>
      oc
        .column("agent")
        .doUpdateSet({
          until: pause.until,
          reason: pause.reason,
          job_id: pause.jobId,
          updated_at: now,
        })
        .where("agent_pauses.until", "<", pause.until),
    )
    .execute();
}

/** Pauses still in force at `now`, by agent. */
export async function activePauses(db: Db, now: number): Promise<AgentPause[]> {
  const { rows } = await runCached(db, "active pauses", [now], () =>
    db.selectFrom("agent_pauses").selectAll().where("until", ">", now),
  );
  return rows.map((r) => ({
    agent: r.agent,
    until: Number(r.until),
    reason: r.reason,
    jobId: r.job_id,
  }));
}

/**
 * Takes the project's next round-robin turn (0, 1, 2, …) in one atomic statement, so two
 * tasks added at once never get the same turn.
 */
export async function takeRouterTurn(db: Db, projectId: string, now: number): Promise<number> {
  const key = `router.turn.${projectId}`;
  const row = await db
    .insertInto("settings")
    .values({ key, value: "1", updated_at: now })
    .onConflict((oc) =>
      oc.column("key").doUpdateSet({
        value: sql<string>`cast(cast(settings.value as integer) + 1 as text)`,
        updated_at: now,
      }),
    )
    .returning("value")
    .executeTakeFirstOrThrow();
  return Number(row.value) - 1;
}
