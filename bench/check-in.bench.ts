/**
 * DESIGN §9: one check-in over 10,000 open pipelines with nothing to do, ≤ 100 ms.
 *
 * The state is built directly in the store with the repositories: 10,000 tasks, each with a
 * `running` pipeline (three stages in a chain: work → check → finish) whose first stage has one
 * `running` job, no lease, and a live session well within its timeouts. Every session record
 * points at ONE real process (`sleep 600` started with the process runtime, killed at the end),
 * so liveness checks see a live process and every pipeline's verdict is `skip`.
 *
 * Timed: `engine.checkIn()` of a fresh check-in-mode engine (as `baton check-in` makes), once as
 * a warm-up, then the median of 5 runs. Every run must return 10,000 `skip` actions.
 *
 * References in the same run, each the median of 5 after a warm-up, on a second (bare)
 * better-sqlite3 connection to the same file:
 * - rows: `SELECT *` of the 10,000 open pipelines' rows (what the brief asks for);
 * - floor: one join of the open pipelines (all columns) with their tasks, active jobs and
 *   sessions, plus, per session, the least today's liveness check does (read
 *   `/proc/<pid>/stat` for the start time, test for the exit file). With the current schema and
 *   liveness check a check-in cannot do less, so engine / floor is the engine's overhead.
 * - lean (for information): the same join reading only the columns `decide` needs (no
 *   pipeline definition), with `kill(pid, 0)` instead of the `/proc` read: what a check-in
 *   could cost with a leaner read and a cheaper liveness check.
 *
 * After the figures, one run of each piece of a check-in called from the outside (queries,
 * session observation, the rest of `SnapshotLoader.load`, `decide`) shows where the time goes.
 *
 * Run: npx vite-node bench/check-in.bench.ts
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import SqliteDatabase from "better-sqlite3";
import { OPEN_PIPELINE_STATUSES } from "../src/core/status.js";
import { decide } from "../src/core/scheduler.js";
import { Engine, type CheckInAction } from "../src/engine/engine.js";
import { observeSession, SnapshotLoader } from "../src/engine/snapshot.js";
import type { SessionHandle } from "../src/sessions/runtime.js";
import { countActiveJobs, listJobs, listLeaseHolders } from "../src/store/jobs.repository.js";
import { countRunningPipelines, listPipelines } from "../src/store/pipelines.repository.js";
import { listProjects } from "../src/store/projects.repository.js";
import { listSessionsByIds } from "../src/store/sessions.repository.js";
import { readQueueSettings } from "../src/store/settings.repository.js";
import { listTasksByIds } from "../src/store/tasks.repository.js";
import { makeEngineEnv, type EngineEnv } from "../test/helpers/engine-env.js";
import { makeCollectingLogger } from "./support/drive.js";
import {
  insertOpenPipelines,
  OPEN_PIPELINES_CONFIG,
  startSharedSession,
} from "./support/open-pipelines.js";
import {
  median,
  ms,
  printJson,
  printTable,
  ratio,
  round3,
  verdict,
  type Row,
} from "./support/report.js";
import { installSqlProfile } from "./support/sql-profile.js";

const PIPELINES = 10_000;
const RUNS = 5;
const TARGET_MS = 100;

async function timeCheckIn(env: EngineEnv): Promise<{ ms: number; actions: CheckInAction[] }> {
  const engine = new Engine(env.ctx, { mode: "check-in" });
  try {
    const started = performance.now();
    const actions = await engine.checkIn();
    return { ms: performance.now() - started, actions };
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
    // ESRCH: no such process (EPERM would mean it exists but is not ours; not the case here).
    return false;
  }
}

function measureReferences(file: string): { rowsMs: number; floorMs: number; leanMs: number } {
  const db = new SqliteDatabase(file, { readonly: true });
  try {
    const rows = db.prepare(
      "SELECT * FROM pipelines WHERE status IN ('pending', 'running', 'blocked') ORDER BY created_at, id",
    );
    const joined = db.prepare(
      `SELECT p.*, t.title, j.id AS job_id, j.status AS job_status, j.stage_id, j.lease_token,
              s.pid, s.pid_start_time, s.dir, s.state, s.started_at AS session_started_at
         FROM pipelines p
         JOIN tasks t ON t.id = p.task_id
         LEFT JOIN jobs j ON j.pipeline_id = p.id
         LEFT JOIN sessions s ON s.id = j.session_id
                             AND j.status IN ('starting', 'running', 'checking')
        WHERE p.status IN ('pending', 'running', 'blocked')
        ORDER BY p.created_at, p.id, j.seq`,
    );
    const lean = db.prepare(
      `SELECT p.id, p.task_number, p.status, p.version, j.id AS job_id, j.stage_id,
              j.status AS job_status, j.lease_token, j.lease_holder, j.lease_expires_at,
              s.pid, s.dir, s.state, s.started_at, s.steered_at, s.human_ms
         FROM pipelines p
         LEFT JOIN jobs j ON j.pipeline_id = p.id
         LEFT JOIN sessions s ON s.id = j.session_id
                             AND j.status IN ('starting', 'running', 'checking')
        WHERE p.status IN ('pending', 'running', 'blocked')`,
    );
    const rowsMs = timeMedian(() => {
      if (rows.all().length !== PIPELINES) {
        throw new Error("the rows reference did not read every pipeline");
      }
    });
    const floorMs = timeMedian(() => {
      let alive = 0;
      for (const row of joined.all() as { pid: number | null; dir: string | null }[]) {
        if (row.pid !== null && row.dir !== null) {
          const stat = readFileSync(`/proc/${row.pid}/stat`, "latin1");
          if (stat.length > 0 && !existsSync(join(row.dir, "exit"))) {
            alive += 1;
          }
        }
      }
      if (alive !== PIPELINES) {
        throw new Error(`the floor reference saw ${alive} live sessions`);
      }
    });
    const leanMs = timeMedian(() => {
      let alive = 0;
      for (const row of lean.all() as { pid: number | null; dir: string | null }[]) {
        if (row.pid !== null && row.dir !== null && pidExists(row.pid)) {
          if (!existsSync(join(row.dir, "exit"))) {
            alive += 1;
          }
        }
      }
      if (alive !== PIPELINES) {
        throw new Error(`the lean reference saw ${alive} live sessions`);
      }
    });
    return { rowsMs, floorMs, leanMs };
  } finally {
    db.close();
  }
}

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const value = await work();
  return [value, performance.now() - started];
}

/**
 * Where a check-in's time goes, one run of each piece, called from the outside: the queries
 * `SnapshotLoader.load` makes, the session observations, the rest of `SnapshotLoader.load` (assembling the
 * per-pipeline view), and `decide`. For diagnosis; not part of the figure.
 */
async function phaseRows(env: EngineEnv): Promise<Row[]> {
  const { ctx } = env;
  const db = ctx.store.db;
  const now = ctx.clock();
  const [, reapMs] = await timed(() => listLeaseHolders(db, now));
  const [pipelines, pipelinesMs] = await timed(() =>
    listPipelines(db, { statuses: OPEN_PIPELINE_STATUSES }),
  );
  const ids = pipelines.map((p) => p.id);
  const [, tasksMs] = await timed(() =>
    listTasksByIds(db, [...new Set(pipelines.map((p) => p.taskId))]),
  );
  const [jobs, jobsMs] = await timed(() => listJobs(db, ids));
  const [, smallMs] = await timed(() =>
    Promise.all([
      listProjects(db),
      countActiveJobs(db),
      countRunningPipelines(db),
      readQueueSettings(db),
    ]),
  );
  const sessionIds = jobs.flatMap((j) => (j.sessionId === null ? [] : [j.sessionId]));
  const [sessions, sessionsMs] = await timed(() => listSessionsByIds(db, sessionIds));
  const runtime = ctx.runtimes.process;
  const [, observeMs] = await timed(async () => {
    for (const session of sessions) {
      // As the check-in looks at them: well within their limits, so quickly.
      await observeSession(runtime, session, {
        limits: { timeoutMs: 60 * 60_000, stallTimeoutMs: 60 * 60_000 },
        idleAfterMs: null,
        now,
      });
    }
  });
  const [snap, snapshotMs] = await timed(() =>
    new SnapshotLoader(ctx).load({}, "bench-phases", now),
  );
  const [, decideMs] = await timed(() => Promise.resolve(decide(snap.state, now)));
  const queriesMs = pipelinesMs + tasksMs + jobsMs + smallMs + sessionsMs;
  const rest = snapshotMs - queriesMs - observeMs;
  return [
    { what: "  reap: listLeaseHolders", value: ms(reapMs) },
    { what: "  loadSnapshot, whole", value: ms(snapshotMs) },
    { what: "    listPipelines", value: ms(pipelinesMs), note: `${pipelines.length} rows` },
    { what: "    listTasksByIds", value: ms(tasksMs) },
    { what: "    listJobs", value: ms(jobsMs), note: `${jobs.length} rows` },
    { what: "    listSessionsByIds", value: ms(sessionsMs), note: `${sessions.length} rows` },
    { what: "    projects, counts, settings", value: ms(smallMs) },
    {
      what: "    observeSession x sessions",
      value: ms(observeMs),
      note: "pid exists, exit file test",
    },
    { what: "    the rest (assembling)", value: ms(rest), note: "loadSnapshot minus the above" },
    { what: "  decide", value: ms(decideMs) },
  ];
}

async function main(): Promise<void> {
  const env = await makeEngineEnv({ dialect: "sqlite", config: OPEN_PIPELINES_CONFIG });
  const logger = makeCollectingLogger();
  env.ctx.logger = logger;
  const runtime = env.ctx.runtimes.process;
  let session: SessionHandle | undefined;
  try {
    session = await startSharedSession(env);
    const setupStarted = performance.now();
    await insertOpenPipelines(env, session, PIPELINES);
    const setupMs = performance.now() - setupStarted;

    const warm = await timeCheckIn(env);
    assertAllSkips(warm.actions);
    const times: number[] = [];
    for (let i = 0; i < RUNS; i += 1) {
      const run = await timeCheckIn(env);
      assertAllSkips(run.actions);
      times.push(run.ms);
    }
    if (logger.problems.length > 0) {
      throw new Error(`the engine reported problems:\n${logger.problems.slice(0, 10).join("\n")}`);
    }
    const refs = measureReferences(env.store.url);
    const phases = await phaseRows(env);

    const checkInMs = median(times) ?? Number.NaN;
    const overRows = checkInMs / refs.rowsMs;
    const overFloor = checkInMs / refs.floorMs;
    printTable(
      `check-in: one check-in over ${PIPELINES} open pipelines with nothing to do (median of ${RUNS}, after a warm-up)`,
      [
        {
          what: "engine.checkIn()",
          value: ms(checkInMs),
          note: `target <= ${TARGET_MS} ms: ${verdict(checkInMs, TARGET_MS)}; runs ${times.map((t) => t.toFixed(0)).join(", ")} ms; warm-up ${warm.ms.toFixed(0)} ms; ${PIPELINES} skips`,
        },
        {
          what: "ref rows",
          value: ms(refs.rowsMs),
          note: "bare better-sqlite3: SELECT * of the open pipelines' rows",
        },
        {
          what: "ref floor",
          value: ms(refs.floorMs),
          note: "bare join pipelines+tasks+jobs+sessions, + per session a /proc stat read and an exit-file test",
        },
        {
          what: "lean (for information)",
          value: ms(refs.leanMs),
          note: "bare join of only the columns decide needs (no definition), + per session kill(pid, 0) and an exit-file test",
        },
        { what: "engine / rows", value: ratio(overRows) },
        { what: "engine / floor", value: ratio(overFloor) },
        { what: "state setup", value: ms(setupMs), note: "not part of the figure" },
        { what: "where the time goes (one run each):", value: "" },
        ...phases,
      ],
    );
    printJson("check-in", {
      pipelines: PIPELINES,
      check_in_ms: round3(checkInMs),
      runs_ms: times.map(round3),
      warmup_ms: round3(warm.ms),
      ref_rows_ms: round3(refs.rowsMs),
      ref_floor_ms: round3(refs.floorMs),
      over_rows: round3(overRows),
      over_floor: round3(overFloor),
      lean_ms: round3(refs.leanMs),
      target_ms: TARGET_MS,
      met: checkInMs <= TARGET_MS,
    });
  } finally {
    if (session !== undefined) {
      await runtime?.kill(session, 1000);
    }
    await env.cleanup();
  }
}

const printSqlProfile = installSqlProfile();
try {
  await main();
  printSqlProfile?.();
} catch (thrown) {
  console.error(thrown);
  process.exitCode = 1;
}
