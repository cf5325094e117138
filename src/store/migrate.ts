import { Migrator, type Kysely, type MigrationResultSet } from "kysely";
import type { Database } from "./db.js";
import type { DialectName } from "./dialect.js";
import { initialMigration } from "./migrations/0001_initial.js";
import { sessionInputsMigration } from "./migrations/0002_session_inputs.js";

/** All migrations, in order; names sort in the order they run. */
function migrationsFor(dialect: DialectName) {
  return {
    "0001_initial": initialMigration(dialect),
    "0002_session_inputs": sessionInputsMigration,
  };
}

/**
 * Brings the schema up to date. Never throws for a failed migration: the result carries the
 * error (kysely's `MigrationResultSet`).
 */
export async function migrateToLatest(
  db: Kysely<Database>,
  dialect: DialectName,
): Promise<MigrationResultSet> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(migrationsFor(dialect)) },
    migrationTableName: "baton_migrations",
    migrationLockTableName: "baton_migrations_lock",
  });
  return migrator.migrateToLatest();
}
