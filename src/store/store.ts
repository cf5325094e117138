import type { Kysely, Transaction } from "kysely";
import { AppError, ErrorCodes } from "../core/errors.js";
import type { Database } from "./db.js";
import {
  dialectOf,
  lockEventsForAppend,
  openDatabase,
  type DialectName,
  type StoreLocation,
} from "./dialect.js";
import { migrateToLatest } from "./migrate.js";

/**
 * The durable store: one database (a SQLite file by default, PostgreSQL when a URL is given),
 * migrated on open. Repositories are plain functions taking `store.db` or a transaction.
 */
export interface Store extends AsyncDisposable {
  readonly db: Kysely<Database>;
  readonly dialect: DialectName;
  /**
   * Runs `work` in one transaction (`BEGIN IMMEDIATE` on SQLite). Never await a child process
   * inside: SQLite has one connection per process and the write lock blocks other processes.
   */
  transaction<T>(work: (trx: Transaction<Database>) => Promise<T>): Promise<T>;
  /** Call at the start of a transaction that appends events (orders ids on PostgreSQL). */
  lockEvents(trx: Transaction<Database>): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens and migrates the store. Throws `AppError` (`INTERNAL`) when a migration fails, with
 * the failing migration's name.
 */
export async function openStore(location: StoreLocation): Promise<Store> {
  const dialect = dialectOf(location.url);
  const db = await openDatabase(location);
  try {
    const { error, results } = await migrateToLatest(db, dialect);
    if (error !== undefined) {
      const failed = results?.find((r) => r.status === "Error")?.migrationName ?? "unknown";
      throw new AppError(
        ErrorCodes.INTERNAL,
        `database migration ${failed} failed on ${describe(location)}`,
        {
          cause: error,
        },
      );
    }
  } catch (thrown) {
    await db.destroy();
    throw thrown;
  }
  let closed = false;
  const close = async (): Promise<void> => {
    if (!closed) {
      closed = true;
      await db.destroy();
    }
  };
  return {
    db,
    dialect,
    transaction: (work) => db.transaction().execute(work),
    lockEvents: (trx) => lockEventsForAppend(trx, dialect),
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** A location for messages, without a password. */
export function describe(location: StoreLocation): string {
  return location.url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@");
}
