/**
 * Read-only queries behind `baton analytics`. Aggregation of durations happens in JS so the
 * same code gives the same answer on SQLite and PostgreSQL.
 */
import { sql } from "kysely";
import type { Db } from "./db.js";

export interface StageDuration {
  stage: string;
  runs: number;
  avg_ms: number;
  p50_ms: number;
  p95_ms: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) {
    return 0;
  }
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? 0;
}

/** Duration of finished jobs per stage (fix rounds and retries count as runs). */
export async function stageDurations(db: Db, projectId: string | null): Promise<StageDuration[]> {
  let query = db
    .selectFrom("jobs")
    .innerJoin("pipelines", "pipelines.id", "jobs.pipeline_id")
    .select(["jobs.stage_id", "jobs.started_at", "jobs.finished_at"])
    .where("jobs.started_at", "is not", null)
    .where("jobs.finished_at", "is not", null)
    .where("jobs.status", "in", ["succeeded", "failed"]);
  if (projectId !== null) {
    query = query.where("pipelines.project_id", "=", projectId);
  }
  const rows = await query.execute();
  const byStage = new Map<string, number[]>();
  for (const row of rows) {
    const list = byStage.get(row.stage_id) ?? [];
    list.push(Number(row.finished_at) - Number(row.started_at));
    byStage.set(row.stage_id, list);
  }
  return [...byStage.entries()]
    .map(([stage, durations]) => {
      const sorted = [...durations].sort((a, b) => a - b);
      return {
        stage,
        runs: sorted.length,
        avg_ms: Math.round(sorted.reduce((s, d) => s + d, 0) / sorted.length),
        p50_ms: percentile(sorted, 50),
        p95_ms: percentile(sorted, 95),
      };
    })
    .sort((a, b) => a.stage.localeCompare(b.stage));
}

export interface GateFailureRate {
  gate: string;
  stage: string;
  runs: number;
  failures: number;
  failure_rate: number;
}

export async function gateFailureRates(
  db: Db,
  projectId: string | null,
): Promise<GateFailureRate[]> {
  let query = db
    .selectFrom("gate_results")
    .innerJoin("pipelines", "pipelines.id", "gate_results.pipeline_id")
    .select(["gate_results.gate", "gate_results.stage_id", "gate_results.passed"]);
  if (projectId !== null) {
    query = query.where("pipelines.project_id", "=", projectId);
  }
  const rows = await query.execute();
  const by = new Map<string, GateFailureRate>();
  for (const row of rows) {
    const key = `${row.stage_id}/${row.gate}`;
    const entry = by.get(key) ?? {
      gate: row.gate,
      stage: row.stage_id,
      runs: 0,
      failures: 0,
      failure_rate: 0,
    };
    entry.runs += 1;
    entry.failures += row.passed === 1 ? 0 : 1;
    entry.failure_rate = Math.round((entry.failures / entry.runs) * 1000) / 1000;
    by.set(key, entry);
  }
  return [...by.values()].sort(
    (a, b) => b.failure_rate - a.failure_rate || a.gate.localeCompare(b.gate),
  );
}

export interface Throughput {
  day: string;
  completed: number;
  failed: number;
  cancelled: number;
}

export async function pipelineThroughput(
  db: Db,
  projectId: string | null,
  since: number | null,
): Promise<Throughput[]> {
  let query = db
    .selectFrom("pipelines")
    .select(["status", "finished_at"])
    .where("finished_at", "is not", null)
    .where("status", "in", ["completed", "failed", "cancelled"]);
  if (projectId !== null) {
    query = query.where("project_id", "=", projectId);
  }
  if (since !== null) {
    query = query.where("finished_at", ">=", since);
  }
  const rows = await query.execute();
  const byDay = new Map<string, Throughput>();
  for (const row of rows) {
    const day = new Date(Number(row.finished_at)).toISOString().slice(0, 10);
    const entry = byDay.get(day) ?? { day, completed: 0, failed: 0, cancelled: 0 };
    if (row.status === "completed" || row.status === "failed" || row.status === "cancelled") {
      entry[row.status] += 1;
    }
    byDay.set(day, entry);
  }
  return [...byDay.values()].sort((a, b) => a.day.localeCompare(b.day));
}

export interface GateFailure {
  task: number;
  stage: string;
  gate: string;
  exit_code: number | null;
  fingerprint: string | null;
  at: string;
  output_tail: string;
}

export async function recentGateFailures(
  db: Db,
  projectId: string | null,
  limit: number,
): Promise<GateFailure[]> {
  let query = db
    .selectFrom("gate_results")
    .innerJoin("pipelines", "pipelines.id", "gate_results.pipeline_id")
    .select([
      "pipelines.task_number",
      "gate_results.stage_id",
      "gate_results.gate",
      "gate_results.exit_code",
      "gate_results.fingerprint",
      "gate_results.created_at",
      "gate_results.output_tail",
    ])
    .where("gate_results.passed", "=", 0)
    .orderBy("gate_results.id", "desc")
    .limit(limit);
  if (projectId !== null) {
    query = query.where("pipelines.project_id", "=", projectId);
  }
  const rows = await query.execute();
  return rows.map((r) => ({
    task: r.task_number,
    stage: r.stage_id,
    gate: r.gate,
    exit_code: r.exit_code,
    fingerprint: r.fingerprint,
    at: new Date(Number(r.created_at)).toISOString(),
    output_tail: r.output_tail,
  }));
}

/** What `baton analytics cost --by` can group jobs by. */
export const COST_GROUPS = ["agent", "model", "stage", "day"] as const;
export type CostGroup = (typeof COST_GROUPS)[number];

export interface CostTotals {
  jobs: number;
  tokens_in: number;
  tokens_out: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  cost_usd: number;
}

/** One group: the values of the requested `by` keys (in that order), then the totals. */
export type CostRow = Partial<Record<CostGroup, string>> & CostTotals;

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Rounds a sum of dollars to a nano-dollar, so float summation order (which differs between
 * SQLite and PostgreSQL) never shows as `0.30000000000000004`.
 */
export function roundUsd(usd: number): number {
  return Math.round(usd * 1e9) / 1e9;
}

/** Adds `row` into `into` (mutates `into`). */
function addTotals(into: CostTotals, row: CostTotals): void {
  into.jobs += row.jobs;
  into.tokens_in += row.tokens_in;
  into.tokens_out += row.tokens_out;
  into.cache_read_tokens += row.cache_read_tokens;
  into.cache_write_tokens += row.cache_write_tokens;
  into.cost_usd = roundUsd(into.cost_usd + row.cost_usd);
}

/** Zero of everything, to add rows into. */
export function emptyCostTotals(): CostTotals {
  return {
    jobs: 0,
    tokens_in: 0,
    tokens_out: 0,
    cache_read_tokens: 0,
    cache_write_tokens: 0,
    cost_usd: 0,
  };
}

/** The sum of `rows` (a total line). Never throws; does not mutate `rows`. */
export function sumCostRows(rows: readonly CostTotals[]): CostTotals {
  const total = emptyCostTotals();
  for (const row of rows) {
    addTotals(total, row);
  }
  return total;
}

/**
 * Token usage and cost of the jobs that started (from `since`, epoch ms, on), grouped by each
 * combination of `by` (at least one key). A job counts on the UTC day it started; jobs that
 * never started (skipped, cancelled while queued) are left out. Jobs with no agent (command and
 * builtin stages) group under agent `-`, and jobs with no model under model `-`. Sorted by day
 * ascending when `by` has `day`, then by cost descending, then by the keys.
 *
 * SQL sums per agent, model, stage and day (integer division of epoch ms, the same on both
 * dialects); JS merges those into the requested groups.
 */
export async function costByGroup(
  db: Db,
  options: { projectId: string | null; by: readonly CostGroup[]; since: number | null },
): Promise<CostRow[]> {
  const dayIndex = sql<number | string>`(jobs.started_at / ${sql.lit(DAY_MS)})`;
  let query = db
    .selectFrom("jobs")
    .innerJoin("pipelines", "pipelines.id", "jobs.pipeline_id")
    .select((eb) => [
      "jobs.agent",
      "jobs.model",
      "jobs.stage_id",
      dayIndex.as("day_index"),
      eb.fn.countAll<number | string>().as("jobs"),
      eb.fn.sum<number | string>("jobs.tokens_in").as("tokens_in"),
      eb.fn.sum<number | string>("jobs.tokens_out").as("tokens_out"),
      eb.fn.sum<number | string>("jobs.cache_read_tokens").as("cache_read_tokens"),
      eb.fn.sum<number | string>("jobs.cache_write_tokens").as("cache_write_tokens"),
      eb.fn.sum<number | string>("jobs.cost_usd").as("cost_usd"),
    ])
    .where("jobs.started_at", "is not", null)
    .groupBy(["jobs.agent", "jobs.model", "jobs.stage_id", dayIndex]);
  if (options.projectId !== null) {
    query = query.where("pipelines.project_id", "=", options.projectId);
  }
  if (options.since !== null) {
    query = query.where("jobs.started_at", ">=", options.since);
  }
  const by = [...new Set(options.by)];
  const groups = new Map<string, CostRow>();
  for (const row of await query.execute()) {
    const values: Record<CostGroup, string> = {
      agent: row.agent ?? "-",
      model: row.model ?? "-",
      stage: row.stage_id,
      day: new Date(Number(row.day_index) * DAY_MS).toISOString().slice(0, 10),
    };
    const key = JSON.stringify(by.map((k) => values[k]));
    let group = groups.get(key);
    if (group === undefined) {
      group = { ...Object.fromEntries(by.map((k) => [k, values[k]])), ...emptyCostTotals() };
      groups.set(key, group);
    }
    addTotals(group, {
      jobs: Number(row.jobs),
      tokens_in: Number(row.tokens_in),
      tokens_out: Number(row.tokens_out),
      cache_read_tokens: Number(row.cache_read_tokens),
      cache_write_tokens: Number(row.cache_write_tokens),
      cost_usd: Number(row.cost_usd),
    });
  }
  const keysOf = (row: CostRow): string => by.map((k) => row[k] ?? "").join("\u0000");
  return [...groups.values()].sort(
    (a, b) =>
      (by.includes("day") ? (a.day ?? "").localeCompare(b.day ?? "") : 0) ||
      b.cost_usd - a.cost_usd ||
      keysOf(a).localeCompare(keysOf(b)),
  );
}
