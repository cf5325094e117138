import { runCached } from "./cached-query.js";
import type { Db } from "./db.js";

/** The queue's settings (DESIGN §6). Missing keys take these defaults. */
export interface QueueSettings {
  /** No new pipelines or jobs start; running ones finish. */
  paused: boolean;
  /** Overrides `limits.max_running_jobs` when set. */
  maxConcurrent: number | null;
  /** A failed pipeline pauses the queue. */
  stopOnFailure: boolean;
}

export const DEFAULT_QUEUE_SETTINGS: QueueSettings = {
  paused: false,
  maxConcurrent: null,
  stopOnFailure: false,
};

const KEYS = {
  paused: "queue.paused",
  maxConcurrent: "queue.max_concurrent",
  stopOnFailure: "queue.stop_on_failure",
} as const;

export async function readQueueSettings(db: Db): Promise<QueueSettings> {
  const keys = Object.values(KEYS);
  const { rows } = await runCached(db, "queue settings", keys, () =>
    db.selectFrom("settings").selectAll().where("key", "in", keys),
  );
  const values = new Map(rows.map((r) => [r.key, JSON.parse(r.value) as unknown]));
  const paused = values.get(KEYS.paused);
  const max = values.get(KEYS.maxConcurrent);
  const stop = values.get(KEYS.stopOnFailure);
  return {
    paused: typeof paused === "boolean" ? paused : DEFAULT_QUEUE_SETTINGS.paused,
    maxConcurrent: typeof max === "number" && max > 0 ? max : null,
    stopOnFailure: typeof stop === "boolean" ? stop : DEFAULT_QUEUE_SETTINGS.stopOnFailure,
  };
}

export async function writeQueueSettings(
  db: Db,
  patch: Partial<QueueSettings>,
  now: number,
): Promise<void> {
  for (const [name, value] of Object.entries(patch)) {
    const key = KEYS[name as keyof QueueSettings];
    await db
      .insertInto("settings")
      .values({ key, value: JSON.stringify(value), updated_at: now })
      .onConflict((oc) =>
        oc.column("key").doUpdateSet({ value: JSON.stringify(value), updated_at: now }),
      )
      .execute();
  }
}
