/**
 * Runs every benchmark, one after the other, each in its own process (a fresh heap, so one
 * benchmark's memory does not slow the next one's process spawns), passes their output through,
 * and ends with a summary of the headline figures and one JSON line
 * (`{"bench":"all","results":[...]}`).
 *
 * Exits 1 when a benchmark fails (crashes, or its run goes wrong); a missed target only shows in
 * the summary, unless `BENCH_STRICT=1`.
 *
 * Run: npx vite-node bench/run-all.ts
 */
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { printJson, printTable, type Row } from "./support/report.js";

const BENCHMARKS = [
  "dag.bench.ts",
  "reaction.bench.ts",
  "check-in.bench.ts",
  "stream-latency.bench.ts",
] as const;

interface Outcome {
  file: string;
  code: number | null;
  /** The benchmark's JSON line, parsed, if it printed one. */
  result: Record<string, unknown> | null;
}

function viteNodeBin(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve("vite-node/package.json")), "vite-node.mjs");
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function runOne(file: string): Promise<Outcome> {
  const benchDir = dirname(fileURLToPath(import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [viteNodeBin(), join(benchDir, file)], {
      cwd: dirname(benchDir),
      stdio: ["ignore", "pipe", "inherit"],
    });
    let result: Record<string, unknown> | null = null;
    let pending = "";
    const take = (line: string): void => {
      process.stdout.write(`${line}\n`);
      if (line.startsWith('{"bench":')) {
        const parsed: unknown = JSON.parse(line);
        result = isRecord(parsed) ? parsed : null;
      }
    };
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      const lines = (pending + chunk).split("\n");
      pending = lines.pop() ?? "";
      lines.forEach(take);
    });
    child.once("error", reject);
    child.once("close", (code) => {
      if (pending !== "") {
        take(pending);
      }
      resolve({ file, code, result });
    });
  });
}

/** A number of the result with `digits` decimals, or `-`. */
function num(result: Record<string, unknown> | null, key: string, digits = 1): string {
  const value = result?.[key];
  return typeof value === "number" ? value.toFixed(digits) : "-";
}

function summaryRow(outcome: Outcome): Row {
  const r = outcome.result;
  if (outcome.code !== 0 || r === null) {
    return { what: outcome.file, value: "FAILED", note: `exit code ${outcome.code}` };
  }
  const met = r.met ?? r.met_now;
  const status = met === true ? "met" : "MISSED";
  switch (r.bench) {
    case "dag":
      return {
        what: "dag: engine / bare",
        value: `${num(r, "engine_over_bare", 2)}x`,
        note: `target <= ${num(r, "target_now")} now (${status}), <= ${num(r, "target_design")} design (${r.met_design === true ? "met" : "MISSED"}); engine ${num(r, "engine_ms")} ms, bare ${num(r, "bare_ms")} ms, make ${num(r, "make_ms")} ms`,
      };
    case "reaction":
      return {
        what: "reaction: p99",
        value: `${num(r, "p99_ms")} ms`,
        note: `target <= ${num(r, "target_p99_ms")} ms (${status}); p50 ${num(r, "p50_ms")} ms; bare p99 ${num(r, "ref_p99_ms")} ms, ratio ${num(r, "p99_ratio", 2)}x`,
      };
    case "check-in":
      return {
        what: "check-in: 10,000 pipelines",
        value: `${num(r, "check_in_ms")} ms`,
        note: `target <= ${num(r, "target_ms")} ms (${status}); ${num(r, "over_rows", 2)}x rows ref; every pipeline live: ${num(r, "all_live_check_in_ms")} ms, ${num(r, "all_live_over_join", 2)}x join ref`,
      };
    case "stream-latency":
      return {
        what: "stream-latency: p99",
        value: `${num(r, "p99_ms")} ms`,
        note: `target <= ${num(r, "target_p99_ms")} ms (${status}); p50 ${num(r, "p50_ms")} ms; 2 s poll p99 ${num(r, "ref_p99_ms")} ms, ${num(r, "poll_over_stream_p99")}x sooner`,
      };
    default:
      return { what: outcome.file, value: "?", note: "unknown result" };
  }
}

const outcomes: Outcome[] = [];
for (const file of BENCHMARKS) {
  outcomes.push(await runOne(file));
}
printTable("summary", outcomes.map(summaryRow));
printJson("all", { results: outcomes.map((o) => o.result ?? { file: o.file, failed: true }) });

const failed = outcomes.some((o) => o.code !== 0 || o.result === null);
const missed = outcomes.some((o) => (o.result?.met ?? o.result?.met_now) !== true);
if (failed || (process.env.BENCH_STRICT === "1" && missed)) {
  process.exitCode = 1;
}
