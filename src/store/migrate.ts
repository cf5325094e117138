import { Migrator, sql, type Kysely, type MigrationResultSet } from "kysely";
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
  const migrations = migrationsFor(dialect);
  // Up to date, the usual case: a read says so, without the write lock the migrator takes
  // (on SQLite, a reader would otherwise queue behind a busy engine's writes).
  const applied = await appliedMigrations(db);
  if (applied !== null && Object.keys(migrations).every((name) => applied.has(name))) {
    return { results: [] };
  }
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(migrations) },
    migrationTableName: "baton_migrations",
    migrationLockTableName: "baton_migrations_lock",
  });
  return migrator.migrateToLatest();
}

/** Names of the migrations already run, or `null` before the first (no table yet). */
async function appliedMigrations(db: Kysely<Database>): Promise<Set<string> | null> {
  try {
    const { rows } = await sql<{ name: string }>`select name from baton_migrations`.execute(db);
    return new Set(rows.map((row) => row.name));
  } catch {
    return null;
  }
}
