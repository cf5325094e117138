/**
 * An opt-in SQL profile for the benchmarks (`BENCH_SQL_PROFILE=1`): times every better-sqlite3
 * `prepare` and statement execution in this process, by statement text, and prints the
 * statements that took the most time. It patches better-sqlite3's prototypes from the outside,
 * so it sees what the store really runs without touching `src/`.
 */
import SqliteDatabase from "better-sqlite3";
import { performance } from "node:perf_hooks";

interface Tally {
  calls: number;
  ms: number;
}

const EXECUTE_METHODS = ["run", "all", "get", "iterate"] as const;

/** Statement text with bound-parameter lists folded, so `in (?, ?, ?)` of any length is one key. */
function normalize(sql: string): string {
  return sql.replace(/\?(?:, \?)+/g, "?…").replace(/\s+/g, " ");
}

/** Installs the profile when `BENCH_SQL_PROFILE=1`; returns a printer, or null when off. */
export function installSqlProfile(): (() => void) | null {
  if (process.env.BENCH_SQL_PROFILE !== "1") {
    return null;
  }
  const tallies = new Map<string, Tally>();
  const add = (key: string, elapsed: number): void => {
    const tally = tallies.get(key) ?? { calls: 0, ms: 0 };
    tally.calls += 1;
    tally.ms += elapsed;
    tallies.set(key, tally);
  };
  const probe = new SqliteDatabase(":memory:");
  const statementProto = Object.getPrototypeOf(probe.prepare("SELECT 1")) as Record<
    string,
    unknown
  >;
  probe.close();
  for (const method of EXECUTE_METHODS) {
    const original = statementProto[method] as (...args: unknown[]) => unknown;
    statementProto[method] = function (this: { source: string }, ...args: unknown[]) {
      const started = performance.now();
      try {
        return original.apply(this, args);
      } finally {
        add(`${method.padEnd(7)} ${normalize(this.source)}`, performance.now() - started);
      }
    };
  }
  const databaseProto = SqliteDatabase.prototype as unknown as Record<string, unknown>;
  const prepare = databaseProto.prepare as (...args: unknown[]) => unknown;
  databaseProto.prepare = function (this: unknown, ...args: unknown[]) {
    const started = performance.now();
    try {
      return prepare.apply(this, args);
    } finally {
      add("prepare (all statements)", performance.now() - started);
    }
  };
  return () => {
    const rows = [...tallies].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25);
    const total = [...tallies.values()].reduce((sum, t) => sum + t.ms, 0);
    console.log(`\nSQL profile: ${total.toFixed(0)} ms in better-sqlite3 calls (top 25)`);
    for (const [sql, tally] of rows) {
      const per = (tally.ms / tally.calls).toFixed(3);
      console.log(
        `  ${tally.ms.toFixed(0).padStart(6)} ms ${String(tally.calls).padStart(7)} calls ${per.padStart(7)} ms/call  ${sql.slice(0, 150)}`,
      );
    }
  };
}
