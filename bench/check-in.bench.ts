/**
 * DESIGN §9: one check-in over 10,000 open pipelines with nothing to do, ≤ 100 ms.
 *
 * The state is a queue left to run overnight, built directly in the store with the
 * repositories (see `support/open-pipelines.ts`): 10,000 open pipelines under
 * `max_running_pipelines: 200` and `max_running_jobs: 100`, all of them waiting on something
 * other than the engine:
 * - 100 running, each with its job's session alive (100 real processes, `sleep 600` started
 *   with the process runtime, each in its own session directory) and well within its timeouts;
 * - 50 running whose retry waits out its backoff;
 * - 50 blocked, waiting for a person;
 * - 9,800 pending, waiting for a pipeline slot.
 *
 * Timed: `engine.checkIn()` of a fresh check-in-mode engine (as `baton check-in` makes), once
 * as a warm-up, then the median of 5 runs. Every run must return 10,000 `skip` actions.
 * Reference in the same run, the median of 5 after a warm-up: a bare better-sqlite3 `SELECT *`
 * of the 10,000 open pipelines' rows, on a second connection to the same file.
 *
 * For information, not the target's case: the same check-in when every one of the 10,000
 * pipelines has a running job with a live session (all pointing at one shared process, since
 * 10,000 agents cannot run at once), against a bare join of the pipelines, their jobs and
 * sessions with the same liveness test per session (`kill(pid, 0)` and an exit-file test).
 *
 * Run: npx vite-node bench/check-in.bench.ts
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import SqliteDatabase from "better-sqlite3";
import { Engine, type CheckInAction } from "../src/engine/engine.js";
import type { SessionHandle } from "../src/sessions/runtime.js";
import { makeEngineEnv, type EngineEnv } from "../test/helpers/engine-env.js";
import { makeCollectingLogger } from "./support/drive.js";
import {
  insertOpenPipelines,
  openPipelinesConfig,
  startLiveSession,
  type OpenPipelineShape,
} from "./support/open-pipelines.js";
import { median, ms, printJson, printTable, ratio, round3, verdict } from "./support/report.js";
import { installSqlProfile } from "./support/sql-profile.js";

const PIPELINES = 10_000;
const LIVE = 100;
const BACKOFF = 50;
const BLOCKED = 50;
const RUNS = 5;
const WORST_RUNS = 3;
const TARGET_MS = 100;

async function timeCheckIn(env: EngineEnv): Promise<number> {
  const engine = new Engine(env.ctx, { mode: "check-in" });
  try {
    const started = performance.now();
    const actions = await engine.checkIn();
    const elapsed = performance.now() - started;
    assertAllSkips(actions);
    return elapsed;
  } finally {
    await engine.close();
  }
}

function assertAllSkips(actions: readonly CheckInAction[]): void {
  const skips = actions.filter((a) => a.action === "skip").length;
  if (skips !== PIPELINES || actions.length !== PIPELINES) {
    const other = actions.find((a) => a.action !== "skip");
    throw new Error(
      `expected ${PIPELINES} skip actions, got ${skips} skips of ${actions.length} actions` +
        (other === undefined ? "" : `; e.g. ${JSON.stringify(other)}`),
    );
  }
}

/** Check-ins of `env` after a warm-up: every run's time, and their median. */
async function timeCheckIns(
  env: EngineEnv,
  runs: number,
): Promise<{ median: number; runs: number[] }> {
  await timeCheckIn(env);
  const times: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    times.push(await timeCheckIn(env));
  }
  return { median: median(times) ?? Number.NaN, runs: times };
}

/** Median time of `RUNS` calls of `work` after one warm-up call. */
function timeMedian(work: () => void): number {
  work();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i += 1) {
    const started = performance.now();
    work();
    times.push(performance.now() - started);
  }
  return median(times) ?? Number.NaN;
}

/** True when a process with this pid exists (signal 0 checks without sending anything). */
function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function withBareDb<T>(file: string, work: (db: SqliteDatabase.Database) => T): T {
  const db = new SqliteDatabase(file, { readonly: true });
  try {
    return work(db);
  } finally {
    db.close();
  }
}

/** The reference: `SELECT *` of the open pipelines' rows. */
function timeRows(file: string): number {
  return withBareDb(file, (db) => {
    const rows = db.prepare(
      "SELECT * FROM pipelines WHERE status IN ('pending', 'running', 'blocked')",
    );
    return timeMedian(() => {
      if (rows.all().length !== PIPELINES) {
        throw new Error("the rows reference did not read every pipeline");
      }
    });
  });
}

/** The worst case's reference: the open pipelines with their jobs and live sessions. */
function timeLiveJoin(file: string): number {
  return withBareDb(file, (db) => {
    const joined = db.prepare(
      `SELECT p.*, j.*, s.*
         FROM pipelines p
         LEFT JOIN jobs j ON j.pipeline_id = p.id
         LEFT JOIN sessions s ON s.id = j.session_id
                             AND j.status IN ('starting', 'running', 'checking')
        WHERE p.status IN ('pending', 'running', 'blocked')
        ORDER BY p.created_at, p.id, j.seq`,
    );
    joined.raw(true);
    const columns = joined.columns();
    const pid = columns.findIndex((c) => c.table === "sessions" && c.name === "pid");
    const dir = columns.findIndex((c) => c.table === "sessions" && c.name === "dir");
    return timeMedian(() => {
      let alive = 0;
      for (const row of joined.all() as unknown[][]) {
        const [p, d] = [row[pid], row[dir]];
        if (typeof p === "number" && typeof d === "string" && pidExists(p)) {
          alive += existsSync(join(d, "exit")) ? 0 : 1;
        }
      }
      if (alive !== PIPELINES) {
        throw new Error(`the join reference saw ${alive} live sessions`);
      }
    });
  });
}

/** The queue of the target's case; returns the live sessions it started. */
async function buildQueue(env: EngineEnv): Promise<SessionHandle[]> {
  const sessions: SessionHandle[] = [];
  for (let i = 0; i < LIVE; i += 1) {
    sessions.push(await startLiveSession(env, `baton-bench-live-${i}`));
  }
  const shapes: OpenPipelineShape[] = [
    ...sessions.map((session) => ({ kind: "live" as const, session })),
    ...Array.from({ length: BACKOFF }, () => ({ kind: "backoff" as const })),
    ...Array.from({ length: BLOCKED }, () => ({ kind: "blocked" as const })),
  ];
  while (shapes.length < PIPELINES) {
    shapes.push({ kind: "pending" });
  }
  await insertOpenPipelines(env, shapes);
  return sessions;
}

/** Runs `work` on a fresh environment of `config`, killing the sessions it reports at the end. */
async function withEnv<T>(
  config: string,
  work: (env: EngineEnv, sessions: SessionHandle[]) => Promise<T>,
): Promise<T> {
  const env = await makeEngineEnv({ dialect: "sqlite", config });
  const logger = makeCollectingLogger();
  env.ctx.logger = logger;
  const sessions: SessionHandle[] = [];
  try {
    const result = await work(env, sessions);
    if (logger.problems.length > 0) {
      throw new Error(`the engine reported problems:\n${logger.problems.slice(0, 10).join("\n")}`);
    }
    return result;
  } finally {
    const runtime = env.ctx.runtimes.process;
    if (runtime !== undefined) {
      await Promise.all(sessions.map((s) => runtime.kill(s, 1000)));
    }
    await env.cleanup();
  }
}

async function main(): Promise<void> {
  const queue = await withEnv(
    openPipelinesConfig({ pipelines: LIVE + BACKOFF + BLOCKED, jobs: LIVE }),
    async (env, sessions) => {
      sessions.push(...(await buildQueue(env)));
      const times = await timeCheckIns(env, RUNS);
      return { ...times, rowsMs: timeRows(env.store.url) };
    },
  );
  const worst = await withEnv(
    openPipelinesConfig({ pipelines: PIPELINES, jobs: PIPELINES }),
    async (env, sessions) => {
      const shared = await startLiveSession(env, "baton-bench-shared");
      sessions.push(shared);
      await insertOpenPipelines(
        env,
        Array.from({ length: PIPELINES }, () => ({ kind: "live" as const, session: shared })),
      );
      const times = await timeCheckIns(env, WORST_RUNS);
      return { ...times, joinMs: timeLiveJoin(env.store.url) };
    },
  );

  const overRows = queue.median / queue.rowsMs;
  const worstOverJoin = worst.median / worst.joinMs;
  const runs = (times: number[]): string => times.map((t) => t.toFixed(0)).join(", ");
  printTable(
    `check-in: one check-in over ${PIPELINES} open pipelines with nothing to do (median of ${RUNS}, after a warm-up)`,
    [
      {
        what: "engine.checkIn()",
        value: ms(queue.median),
        note: `target <= ${TARGET_MS} ms: ${verdict(queue.median, TARGET_MS)}; runs ${runs(queue.runs)} ms; ${LIVE} live sessions, ${BACKOFF} in backoff, ${BLOCKED} blocked, ${PIPELINES - LIVE - BACKOFF - BLOCKED} pending`,
      },
      {
        what: "ref rows",
        value: ms(queue.rowsMs),
        note: "bare better-sqlite3: SELECT * of the open pipelines' rows",
      },
      { what: "engine / rows", value: ratio(overRows) },
      { what: "for information: every pipeline with a live session", value: "" },
      {
        what: "  engine.checkIn()",
        value: ms(worst.median),
        note: `median of ${WORST_RUNS}; runs ${runs(worst.runs)} ms`,
      },
      {
        what: "  ref join",
        value: ms(worst.joinMs),
        note: "bare join of pipelines, jobs and sessions, + per session kill(pid, 0) and an exit-file test",
      },
      { what: "  engine / join", value: ratio(worstOverJoin) },
    ],
  );
  printJson("check-in", {
    pipelines: PIPELINES,
    live_sessions: LIVE,
    check_in_ms: round3(queue.median),
    runs_ms: queue.runs.map(round3),
    ref_rows_ms: round3(queue.rowsMs),
    over_rows: round3(overRows),
    all_live_check_in_ms: round3(worst.median),
    all_live_ref_join_ms: round3(worst.joinMs),
    all_live_over_join: round3(worstOverJoin),
    target_ms: TARGET_MS,
    met: queue.median <= TARGET_MS,
  });
}

const printSqlProfile = installSqlProfile();
try {
  await main();
  printSqlProfile?.();
} catch (thrown) {
  console.error(thrown);
  process.exitCode = 1;
}
