/**
 * An opt-in trace for the reaction benchmark (`BENCH_TRACE=1`): wall-clock marks (epoch ms,
 * sub-millisecond) of the steps between one job's exit and the next job's start, taken from the
 * outside — a wrapped runtime, `child_process.spawn` and better-sqlite3 statements patched in
 * this process — so `src/` stays untouched. Marks of a kind are kept in order; in a chain, the
 * k-th mark of a kind belongs to the k-th job.
 */
import { syncBuiltinESMExports, createRequire } from "node:module";
import { performance } from "node:perf_hooks";
import SqliteDatabase from "better-sqlite3";
import type { Runtime } from "../../src/sessions/runtime.js";

export type MarkKind =
  "exitSeen" | "settled" | "jobInserted" | "startCalled" | "spawnCalled" | "spawnReturned";

/** Milliseconds since the epoch, with sub-millisecond resolution. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

export interface Tracer {
  marks: Map<MarkKind, number[]>;
  mark(kind: MarkKind): void;
  /** Wraps a runtime so `start` and the resolution of `waitForExit` are marked. */
  wrapRuntime(runtime: Runtime): Runtime;
}

/**
 * Patches `child_process.spawn` (for every importer, via `syncBuiltinESMExports`) and
 * better-sqlite3's `Statement#run` to mark spawns, job inserts and job settles.
 */
export function installTracer(): Tracer {
  const marks = new Map<MarkKind, number[]>();
  const mark = (kind: MarkKind, at = epochMs()): void => {
    const list = marks.get(kind) ?? [];
    list.push(at);
    marks.set(kind, list);
  };

  const require = createRequire(import.meta.url);
  const childProcess = require("node:child_process") as { spawn: (...args: unknown[]) => unknown };
  const spawn = childProcess.spawn;
  childProcess.spawn = function (this: unknown, ...args: unknown[]) {
    // Only the sessions' and the reference's shells; git and other helpers are not links.
    if (args[0] !== "/bin/sh") {
      return spawn.apply(this, args);
    }
    mark("spawnCalled");
    try {
      return spawn.apply(this, args);
    } finally {
      mark("spawnReturned");
    }
  };
  syncBuiltinESMExports();

  const probe = new SqliteDatabase(":memory:");
  const statementProto = Object.getPrototypeOf(probe.prepare("SELECT 1")) as Record<
    string,
    unknown
  >;
  probe.close();
  const run = statementProto.run as (...args: unknown[]) => unknown;
  statementProto.run = function (this: { source: string }, ...args: unknown[]) {
    const result = run.apply(this, args);
    if (this.source.startsWith('insert into "jobs"')) {
      mark("jobInserted");
    } else if (this.source.startsWith('update "jobs" set "status" = ?, "exit_code" = ?')) {
      mark("settled");
    }
    return result;
  };

  return {
    marks,
    mark,
    wrapRuntime: (runtime) => ({
      name: runtime.name,
      start: (spec) => {
        mark("startCalled");
        return runtime.start(spec);
      },
      waitForExit: async (handle, signal) => {
        const exit = await runtime.waitForExit(handle, signal);
        mark("exitSeen");
        return exit;
      },
      observe: (handle) => runtime.observe(handle),
      kill: (handle, graceMs) => runtime.kill(handle, graceMs),
      steer: (handle, message) => runtime.steer(handle, message),
      peek: (handle, lines) => runtime.peek(handle, lines),
    }),
  };
}
