/**
 * DESIGN §9: reaction — a job exits → its dependent starts, p99 ≤ 50 ms.
 *
 * A chain of 200 command stages (stage i needs stage i - 1), driven by the real engine (drive
 * mode, process runtime, SQLite). Each command stamps the wall clock (`date +%s%N`) as its
 * first and last action, into a file under `$BATON_HOME` (which Baton gives every session), so
 * the delay of link i is: first stamp of job i + 1 − last stamp of job i. That covers the
 * command's shell exiting, the session wrapper recording the exit, the engine noticing,
 * finalizing, deciding and starting the next session, and the next wrapper and shell starting.
 *
 * Reference in the same run: the same chain and commands run by a bare Node loop (exit event →
 * spawn of the next command), measured the same way.
 *
 * `BENCH_TRACE=1` adds a breakdown of each link into steps (see `support/trace.ts`).
 *
 * Run: npx vite-node bench/reaction.bench.ts
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listJobs } from "../src/store/jobs.repository.js";
import { makeEngineEnv } from "../test/helpers/engine-env.js";
import { driveToEnd, makeCollectingLogger } from "./support/drive.js";
import { chainId, makeBatonYaml, makeChain, runBareLoop, type Node } from "./support/graph.js";
import {
  ms,
  percentile,
  printJson,
  printTable,
  ratio,
  round3,
  verdict,
  type Row,
} from "./support/report.js";
import { installSqlProfile } from "./support/sql-profile.js";
import { installTracer, type MarkKind, type Tracer } from "./support/trace.js";

const LENGTH = 200;
const TARGET_P99_MS = 50;
const ENGINE_TIMEOUT_MS = 60_000;
const STAMPS = "reaction-stamps";

/** The command of one link: stamp, stamp, into `$BATON_HOME/reaction-stamps`. */
function command(node: Node): string {
  const file = `"$BATON_HOME/${STAMPS}"`;
  return `date "+${node.id} start %s%N" >> ${file}; date "+${node.id} end %s%N" >> ${file}`;
}

/** Each job's first and last stamp (epoch ms), in chain order. */
interface Stamps {
  start: number[];
  end: number[];
}

async function readStamps(stampsFile: string): Promise<Stamps> {
  const byKey = new Map<string, number>();
  for (const line of (await readFile(stampsFile, "utf8")).split("\n")) {
    const [id, what, ns] = line.split(" ");
    if (id !== undefined && what !== undefined && ns !== undefined) {
      // Whole milliseconds as a Number, the rest added back, so no precision is lost.
      const value = BigInt(ns);
      byKey.set(`${id} ${what}`, Number(value / 1_000_000n) + Number(value % 1_000_000n) / 1e6);
    }
  }
  const stamps: Stamps = { start: [], end: [] };
  for (let i = 0; i < LENGTH; i += 1) {
    const start = byKey.get(`${chainId(i)} start`);
    const end = byKey.get(`${chainId(i)} end`);
    if (start === undefined || end === undefined) {
      throw new Error(`missing stamps of ${chainId(i)} in ${stampsFile}`);
    }
    stamps.start.push(start);
    stamps.end.push(end);
  }
  return stamps;
}

/** Delays (ms) from each job's last stamp to the next job's first stamp. */
function linkDelays(stamps: Stamps): number[] {
  const delays: number[] = [];
  for (let i = 0; i + 1 < LENGTH; i += 1) {
    delays.push((stamps.start[i + 1] ?? Number.NaN) - (stamps.end[i] ?? Number.NaN));
  }
  return delays;
}

interface Run {
  delays: number[];
  stamps: Stamps;
  marks: Map<MarkKind, number[]> | null;
  wallMs: number | null;
}

async function runReference(nodes: readonly Node[], tracer: Tracer | null): Promise<Run> {
  const home = await mkdtemp(join(tmpdir(), "baton-bench-reaction-"));
  try {
    tracer?.marks.clear();
    const result = await runBareLoop(
      nodes,
      1,
      (node) => ["/bin/sh", "-c", command(node)],
      { PATH: process.env.PATH, HOME: process.env.HOME, LANG: "C.UTF-8", BATON_HOME: home },
      () => tracer?.mark("exitSeen"),
    );
    if (result.failures > 0) {
      throw new Error(`the bare loop saw ${result.failures} failing commands`);
    }
    const stamps = await readStamps(join(home, STAMPS));
    const marks = tracer === null ? null : new Map(tracer.marks);
    return { delays: linkDelays(stamps), stamps, marks, wallMs: result.wallMs };
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

async function runEngine(nodes: readonly Node[], tracer: Tracer | null): Promise<Run> {
  const env = await makeEngineEnv({
    dialect: "sqlite",
    config: makeBatonYaml(nodes, { maxRunningJobs: 2, maxRunningPipelines: 1 }, command),
  });
  const logger = makeCollectingLogger();
  env.ctx.logger = logger;
  const runtime = env.ctx.runtimes.process;
  if (tracer !== null && runtime !== undefined) {
    env.ctx.runtimes.process = tracer.wrapRuntime(runtime);
  }
  try {
    const { pipeline } = await env.addTask("Reaction benchmark");
    tracer?.marks.clear();
    const driven = await driveToEnd(env.ctx, pipeline, ENGINE_TIMEOUT_MS);
    const jobs = await listJobs(env.ctx.store.db, [pipeline.id]);
    const succeeded = jobs.filter((j) => j.status === "succeeded").length;
    if (driven.pipeline.status !== "completed" || succeeded !== nodes.length) {
      throw new Error(
        `engine run went wrong: pipeline ${driven.pipeline.status}, ${succeeded} of ` +
          `${nodes.length} jobs succeeded\n${logger.problems.slice(0, 10).join("\n")}`,
      );
    }
    const stamps = await readStamps(join(env.home, STAMPS));
    const marks = tracer === null ? null : new Map(tracer.marks);
    return { delays: linkDelays(stamps), stamps, marks, wallMs: driven.wallMs };
  } finally {
    await env.cleanup();
  }
}

/** A step of a link: from a point of job i (or i + 1) to a later point. */
interface Step {
  name: string;
  from: (run: Run, i: number) => number | undefined;
  to: (run: Run, i: number) => number | undefined;
}

const mark =
  (kind: MarkKind, offset: number) =>
  (run: Run, i: number): number | undefined =>
    run.marks?.get(kind)?.[i + offset];
const cmdEnd = (run: Run, i: number): number | undefined => run.stamps.end[i];
const cmdStart = (run: Run, i: number): number | undefined => run.stamps.start[i + 1];

const ENGINE_STEPS: Step[] = [
  { name: "command end → exit seen by engine", from: cmdEnd, to: mark("exitSeen", 0) },
  { name: "exit seen → job settled (finalize)", from: mark("exitSeen", 0), to: mark("settled", 0) },
  {
    name: "settled → next job inserted (pass)",
    from: mark("settled", 0),
    to: mark("jobInserted", 1),
  },
  {
    name: "inserted → runtime.start called",
    from: mark("jobInserted", 1),
    to: mark("startCalled", 1),
  },
  {
    name: "runtime.start → spawn() called",
    from: mark("startCalled", 1),
    to: mark("spawnCalled", 1),
  },
  { name: "spawn() (synchronous)", from: mark("spawnCalled", 1), to: mark("spawnReturned", 1) },
  { name: "spawn returned → command start", from: mark("spawnReturned", 1), to: cmdStart },
];

const REFERENCE_STEPS: Step[] = [
  { name: "command end → exit event", from: cmdEnd, to: mark("exitSeen", 0) },
  { name: "exit event → spawn() called", from: mark("exitSeen", 0), to: mark("spawnCalled", 1) },
  { name: "spawn() (synchronous)", from: mark("spawnCalled", 1), to: mark("spawnReturned", 1) },
  { name: "spawn returned → command start", from: mark("spawnReturned", 1), to: cmdStart },
];

function stepRows(label: string, run: Run, steps: readonly Step[]): Row[] {
  return steps.map((step) => {
    const values: number[] = [];
    for (let i = 0; i + 1 < LENGTH; i += 1) {
      const from = step.from(run, i);
      const to = step.to(run, i);
      if (from !== undefined && to !== undefined) {
        values.push(to - from);
      }
    }
    return {
      what: `${label}: ${step.name}`,
      value: ms(percentile(values, 50)),
      note: `p99 ${ms(percentile(values, 99))} (${values.length} links)`,
    };
  });
}

async function main(): Promise<void> {
  const tracer = process.env.BENCH_TRACE === "1" ? installTracer() : null;
  const nodes = makeChain(LENGTH);
  const reference = await runReference(nodes, tracer);
  const engine = await runEngine(nodes, tracer);

  const p50 = percentile(engine.delays, 50);
  const p99 = percentile(engine.delays, 99);
  const max = percentile(engine.delays, 100);
  const refP50 = percentile(reference.delays, 50);
  const refP99 = percentile(reference.delays, 99);
  const p50Ratio = p50 === null || refP50 === null ? null : p50 / refP50;
  const p99Ratio = p99 === null || refP99 === null ? null : p99 / refP99;
  printTable(
    `reaction: a job exits → its dependent's command starts, chain of ${LENGTH} command jobs (${LENGTH - 1} links)`,
    [
      { what: "engine p50", value: ms(p50) },
      {
        what: "engine p99",
        value: ms(p99),
        note: `target <= ${TARGET_P99_MS} ms: ${verdict(p99, TARGET_P99_MS)}`,
      },
      { what: "engine max", value: ms(max), note: `whole chain ${ms(engine.wallMs)}` },
      { what: "bare loop p50", value: ms(refP50), note: "exit event → spawn → command start" },
      { what: "bare loop p99", value: ms(refP99), note: `whole chain ${ms(reference.wallMs)}` },
      { what: "engine / bare p50", value: ratio(p50Ratio) },
      { what: "engine / bare p99", value: ratio(p99Ratio) },
    ],
  );
  if (tracer !== null) {
    printTable("reaction trace: p50 of each step of a link (BENCH_TRACE=1)", [
      ...stepRows("engine", engine, ENGINE_STEPS),
      ...stepRows("bare", reference, REFERENCE_STEPS),
    ]);
  }
  printJson("reaction", {
    links: engine.delays.length,
    p50_ms: round3(p50),
    p99_ms: round3(p99),
    max_ms: round3(max),
    ref_p50_ms: round3(refP50),
    ref_p99_ms: round3(refP99),
    p50_ratio: round3(p50Ratio),
    p99_ratio: round3(p99Ratio),
    target_p99_ms: TARGET_P99_MS,
    met: p99 !== null && p99 <= TARGET_P99_MS,
    engine_chain_ms: round3(engine.wallMs),
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
