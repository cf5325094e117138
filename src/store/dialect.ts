/**
 * Everything that differs between SQLite and PostgreSQL lives here: opening the database,
 * BEGIN IMMEDIATE for SQLite, auto-increment columns, and the lock that keeps event ids in
 * commit order on PostgreSQL.
 */
import SqliteDatabase from "better-sqlite3";
import {
  CompiledQuery,
  Kysely,
  PostgresDialect,
  SqliteAdapter,
  SqliteDialect,
  SqliteDriver,
  sql,
  type ColumnDefinitionBuilder,
  type DialectAdapter,
  type SqliteStatement,
  type CreateTableBuilder,
  type DatabaseConnection,
  type Driver,
  type SqliteDialectConfig,
} from "kysely";
import type { Database, Db } from "./db.js";

export type DialectName = "sqlite" | "postgres";

export interface StoreLocation {
  /** A SQLite file path, or a `postgres://` URL. */
  url: string;
  /** PostgreSQL only: the schema to use (created if missing); default `public`. */
  schema?: string;
}

export function dialectOf(url: string): DialectName {
  return /^postgres(ql)?:\/\//.test(url) ? "postgres" : "sqlite";
}

/**
 * SQLite's default `BEGIN` takes the write lock only at the first write, so two processes that
 * both read then write can deadlock into SQLITE_BUSY. `BEGIN IMMEDIATE` takes it up front and
 * the busy timeout queues the other writer instead.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw("begin immediate"));
  }
}

/**
 * kysely runs SQLite migrations outside a transaction, guarded by a lock that only holds within
 * one process, so two processes opening a new store at once both create its tables and one
 * fails. SQLite's DDL is transactional: in one `BEGIN IMMEDIATE` transaction, reading which
 * migrations ran and running the rest is serialized across processes by the write lock.
 */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;
  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = Object.freeze({ ...config });
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }
  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}

const STATEMENT_CACHE_SIZE = 256;

/**
 * A query's rows as objects, built from better-sqlite3's raw arrays by an object literal
 * compiled for the statement's columns: for wide rows (a job has some 40 columns) that is
 * several times faster than letting better-sqlite3 add each column to each row by name, and a
 * check-in reads thousands of them. The literal holds only the column names, each quoted by
 * `JSON.stringify`; a name that comes twice keeps its last value, as better-sqlite3 does.
 */
function rowBuilder(columns: readonly string[]): (values: unknown[]) => unknown {
  const fields = columns.map((name, i) => `${JSON.stringify(name)}: v[${i}]`).join(", ");
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- see above: column names only
  return new Function("v", `return { ${fields} };`) as (values: unknown[]) => unknown;
}

/** `statement` for kysely, reading rows through `rowBuilder` when it returns any. */
function fastRows(statement: SqliteDatabase.Statement): SqliteStatement {
  if (!statement.reader) {
    return statement;
  }
  const build = rowBuilder(statement.columns().map((column) => column.name));
  statement.raw(true);
  return {
    reader: true,
    all: (parameters) => (statement.all(parameters) as unknown[][]).map(build),
    run: (parameters) => statement.run(parameters),
    *iterate(parameters) {
      for (const values of statement.iterate(parameters) as IterableIterator<unknown[]>) {
        yield build(values);
      }
    },
  };
}

/**
 * better-sqlite3 with prepared statements kept by their SQL text: kysely prepares every query
 * it runs, and preparing costs more than running the engine's small queries. Statements are
 * never used concurrently (kysely holds one connection behind a mutex).
 */
function withStatementCache(database: SqliteDatabase.Database): SqliteDialectConfig["database"] {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => {
      cache.clear();
      database.close();
    },
    prepare: (sql: string) => {
      let statement = cache.get(sql);
      if (statement === undefined) {
        statement = fastRows(database.prepare(sql));
        if (cache.size >= STATEMENT_CACHE_SIZE) {
          cache.delete(cache.keys().next().value as string);
        }
        cache.set(sql, statement);
      }
      return statement;
    },
  };
}

function openSqlite(file: string): Kysely<Database> {
  const database = new SqliteDatabase(file);
  // The busy timeout first: switching a new file to WAL needs a lock another process may hold.
  database.pragma("busy_timeout = 10000");
  database.pragma("journal_mode = WAL");
  database.pragma("synchronous = NORMAL");
  database.pragma("foreign_keys = ON");
  return new Kysely<Database>({
    dialect: new ImmediateSqliteDialect({ database: withStatementCache(database) }),
  });
}

/**
 * The narrow part of `pg` Baton uses, so the module is only loaded when PostgreSQL is.
 * (As kysely does for better-sqlite3: the structural type keeps `pg` optional.)
 */
interface PgModule {
  Pool: new (config: Record<string, unknown>) => unknown;
  types: { getTypeParser: (oid: number, format?: string) => (value: string) => unknown };
}

const INT8_OID = 20;

async function openPostgres(url: string, schema: string): Promise<Kysely<Database>> {
  const pg = ((await import("pg")) as unknown as { default: PgModule }).default;
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) {
    throw new Error(
      `invalid PostgreSQL schema name '${schema}': use lower-case letters, digits and _`,
    );
  }
  const pool = pg.Pool;
  const created = new pool({
    connectionString: url,
    max: 4,
    options: `-c search_path=${schema}`,
    // Timestamps are epoch milliseconds in bigint columns; they fit a JS number.
    types: {
      getTypeParser: (oid: number, format?: string) =>
        oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format),
    },
  });
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({
      pool: created as ConstructorParameters<typeof PostgresDialect>[0]["pool"],
    }),
  });
  if (schema !== "public") {
    await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
  }
  return db;
}

/** Opens the store's database. The caller owns it and must `destroy()` it. */
export async function openDatabase(location: StoreLocation): Promise<Kysely<Database>> {
  return dialectOf(location.url) === "postgres"
    ? openPostgres(location.url, location.schema ?? "public")
    : openSqlite(location.url);
}

/** An auto-increment integer primary key: `integer autoincrement` or `bigserial`. */
export function addSerialId<T extends string>(
  dialect: DialectName,
  table: CreateTableBuilder<T, never>,
): CreateTableBuilder<T, "id"> {
  return dialect === "postgres"
    ? table.addColumn("id", "bigserial", (c: ColumnDefinitionBuilder) => c.primaryKey())
    : table.addColumn("id", "integer", (c: ColumnDefinitionBuilder) =>
        c.primaryKey().autoIncrement(),
      );
}

/**
 * PostgreSQL hands out `bigserial` ids at insert time but commits in any order, so a reader
 * could see id 7 before id 6 exists and skip it for good. Every transaction that appends events
 * takes this lock first, which makes ids visible in order. SQLite has one writer at a time.
 */
export async function lockEventsForAppend(db: Db, dialect: DialectName): Promise<void> {
  if (dialect === "postgres") {
    await sql`select pg_advisory_xact_lock(727274)`.execute(db);
  }
}
