/**
 * Stores for tests: a fresh SQLite file per call, and, when `BATON_TEST_DATABASE_URL` is set, a
 * fresh PostgreSQL schema per call, dropped on cleanup.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import type { DialectName } from "../../src/store/dialect.js";
import { openStore, type Store } from "../../src/store/store.js";

export const TEST_DATABASE_URL = process.env.BATON_TEST_DATABASE_URL;

/** The dialects every store test runs against. */
export const DIALECTS: DialectName[] =
  TEST_DATABASE_URL === undefined ? ["sqlite"] : ["sqlite", "postgres"];

export interface TestStore {
  store: Store;
  /** The URL (SQLite path or PostgreSQL URL) other processes can open. */
  url: string;
  /** PostgreSQL schema, for other processes to use the same one. */
  schema?: string;
  cleanup(): Promise<void>;
}

export async function openTestStore(dialect: DialectName): Promise<TestStore> {
  if (dialect === "postgres") {
    if (TEST_DATABASE_URL === undefined) {
      throw new Error("BATON_TEST_DATABASE_URL is not set");
    }
    const schema = `t_${randomBytes(6).toString("hex")}`;
    const store = await openStore({ url: TEST_DATABASE_URL, schema });
    return {
      store,
      url: TEST_DATABASE_URL,
      schema,
      cleanup: async () => {
        await sql`drop schema ${sql.id(schema)} cascade`.execute(store.db);
        await store.close();
      },
    };
  }
  const dir = await mkdtemp(join(tmpdir(), "baton-store-"));
  const url = join(dir, "baton.db");
  const store = await openStore({ url });
  return {
    store,
    url,
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
