import type { Kysely, Migration } from "kysely";

/**
 * `sessions.inputs_sent`: messages delivered to a session's input after its start (steering),
 * so that a turn's end is not taken for the agent waiting while one of them is still unread.
 */
export const sessionInputsMigration: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .alterTable("sessions")
      .addColumn("inputs_sent", "integer", (c) => c.notNull().defaultTo(0))
      .execute();
  },
};
