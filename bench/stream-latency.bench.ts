/**
 * Live-output latency of `baton session stream`: a line printed in a tmux session → that line
 * on the stdout of each of 4 simultaneous `baton session stream` CLIs, p99 ≤ 100 ms.
 *
 * A real CLI project (a git repository with `baton.yaml`, `BATON_HOME` in a temp dir) whose one
 * stage runs a writer agent in Baton's tmux runtime, on a private tmux server
 * (`BATON_TMUX_SOCKET`). `baton task add` and `baton check-in` start the session; 4 readers run
 * `node bin/baton.js session stream 1` (so build first), and, for the breakdown, one more follows
 * the session's log with `followLog` in this process (the CLI's reading, without the CLI). Once
 * every reader shows the writer's `ready`, the writer prints 200 lines 50 ms apart (20 lines/s
 * for 10 s), each stamped with the wall clock; every reader records, per line, arrival − stamp.
 * Each reader must get every line exactly once and in order, and each CLI must exit 0 once the
 * session has ended; otherwise the bench fails.
 *
 * Reference in the same run, on the same session: the 2-second pane poll other tools use —
 * `tmux capture-pane` every 2 s; a line's delay runs from its stamp to the end of the first
 * capture that showed it.
 *
 * `BENCH_TRACE=1` adds the 10 slowest lines, with each reader's delay for them.
 *
 * Run: npm run build && npx vite-node bench/stream-latency.bench.ts
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { z } from "zod";
import { assertBuilt } from "../test/helpers/cli.js";
import { startPanePoller } from "./support/pane-poller.js";
import { withReleasers, type Release } from "./support/releasers.js";
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
import { startCliReader, startLogReader, type CliReader } from "./support/stream-readers.js";
import {
  assertOnceInOrder,
  GO_FILE,
  makeWriterProgram,
  STOP_FILE,
  type LineRecorder,
} from "./support/timed-lines.js";
import { makeTmuxCliProject, type TmuxCliProject } from "./support/tmux-cli-project.js";

const LINES = 200;
const INTERVAL_MS = 50;
const CLI_READERS = 4;
const POLL_INTERVAL_MS = 2_000;
/** Scrollback each capture includes: more than a poll interval's lines (40) ever scroll by. */
const POLL_HISTORY_LINES = 200;
const TARGET_P99_MS = 100;
const READY_TIMEOUT_MS = 15_000;
/** How long after the last line is due every reader and the poller may take to have it. */
const ARRIVAL_GRACE_MS = POLL_INTERVAL_MS + 8_000;
const EXIT_TIMEOUT_MS = 10_000;
const WRITER_FILE = "bench-writer.cjs";

const CONFIG = `version: 1
defaults:
  agent: writer
  runtime: tmux
  timeout: 5m
agents:
  writer:
    command: ["node", "${WRITER_FILE}", "{prompt_file}"]
pipelines:
  default:
    stages:
      - { id: work, prompt: p.md }
`;

const sessionList = z.object({
  sessions: z.array(z.object({ name: z.string(), runtime: z.string(), state: z.string() })),
});

interface Reader {
  label: string;
  recorder: LineRecorder;
}

/** Runs `baton ...args`; throws with its output unless it exits 0. Resolves its stdout. */
async function cli(env: TmuxCliProject, args: string[]): Promise<string> {
  const result = await env.run(args);
  if (result.code !== 0) {
    throw new Error(
      `baton ${args.join(" ")} exited ${result.code ?? result.signal}:\n${result.stdout}${result.stderr}`,
    );
  }
  return result.stdout;
}

/** Polls `check` every 10 ms; resolves whether it held within `timeoutMs`. */
async function waitUntil(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) {
      return false;
    }
    await delay(10);
  }
  return true;
}

/** Why the CLI readers that have exited did, for an error message. */
function exitedReaders(readers: readonly CliReader[]): string {
  const exited = readers.filter((r) => r.exit !== null);
  return exited
    .map((r) => `\n${r.label} exited ${r.exit?.code ?? r.exit?.signal}: ${r.exit?.stderrTail}`)
    .join("");
}

/** Starts the writer's session; resolves its tmux session name and log file. */
async function startSession(env: TmuxCliProject): Promise<{ name: string; logPath: string }> {
  await cli(env, ["task", "add", "Stream latency"]);
  await cli(env, ["check-in", "--json"]);
  const { sessions } = sessionList.parse(JSON.parse(await cli(env, ["session", "list", "--json"])));
  const [session] = sessions;
  if (session?.runtime !== "tmux") {
    throw new Error(`expected one tmux session after check-in, got ${JSON.stringify(sessions)}`);
  }
  return {
    name: session.name,
    logPath: join(env.project.home, "sessions", session.name, "log"),
  };
}

function delays(reader: Reader): number[] {
  return reader.recorder.arrivals.map((a) => a.delayMs);
}

/**
 * The lines slowest to reach some CLI, each with every reader's delay: a line late everywhere,
 * the in-process `followLog` included, was late before the log (writer, tmux, the log pipe) or
 * in this process; one late at a single CLI was late in that CLI.
 */
function slowestLines(readers: readonly Reader[], follow: readonly number[]): Row[] {
  const byLine = (seq: number): number[] =>
    readers.map((r) => r.recorder.arrivals[seq]?.delayMs ?? Number.NaN);
  const seqs = Array.from({ length: LINES }, (_, seq) => seq);
  return seqs
    .sort((a, b) => Math.max(...byLine(b)) - Math.max(...byLine(a)))
    .slice(0, 10)
    .sort((a, b) => a - b)
    .map((seq) => ({
      what: `line ${seq}`,
      value: ms(Math.max(...byLine(seq))),
      note: `CLIs ${byLine(seq)
        .map((d) => d.toFixed(1))
        .join(" / ")} ms; followLog ${ms(follow[seq] ?? null)}`,
    }));
}

function readerRow(reader: Reader): Row {
  const values = delays(reader);
  return {
    what: `${reader.label} p99`,
    value: ms(percentile(values, 99)),
    note: `p50 ${ms(percentile(values, 50))}, max ${ms(percentile(values, 100))}; ${values.length} lines once, in order`,
  };
}

async function measure(defer: (release: Release) => void): Promise<void> {
  assertBuilt();
  const env = await makeTmuxCliProject({
    config: CONFIG,
    files: {
      "p.md": "Print the lines.\n",
      [WRITER_FILE]: makeWriterProgram({ lines: LINES, intervalMs: INTERVAL_MS }),
    },
  });
  defer(() => env.cleanup());
  const session = await startSession(env);

  const readers: CliReader[] = [];
  for (let i = 1; i <= CLI_READERS; i += 1) {
    const reader = startCliReader(`stream ${i}`, ["session", "stream", "1"], {
      cwd: env.project.root,
      env: env.env,
    });
    defer(() => reader.kill());
    readers.push(reader);
  }
  const logReader = startLogReader("followLog", session.logPath);
  defer(() => logReader.stop());
  const all: Reader[] = [...readers, logReader];
  const ready = await waitUntil(
    () => all.every((r) => r.recorder.ready) || readers.some((r) => r.exit !== null),
    READY_TIMEOUT_MS,
  );
  const notReady = all.filter((r) => !r.recorder.ready).map((r) => r.label);
  if (!ready || notReady.length > 0) {
    throw new Error(
      `the readers ${notReady.join(", ")} did not show the writer's "ready" line ` +
        `(log ${session.logPath})${exitedReaders(readers)}`,
    );
  }

  const poller = startPanePoller({
    tmux: env.tmux,
    session: session.name,
    intervalMs: POLL_INTERVAL_MS,
    historyLines: POLL_HISTORY_LINES,
  });
  defer(() => poller.stop());
  await writeFile(join(env.project.home, GO_FILE), "");
  await waitUntil(
    () => all.every((r) => r.recorder.arrivals.length >= LINES) && poller.firstSeen.size >= LINES,
    LINES * INTERVAL_MS + ARRIVAL_GRACE_MS,
  );
  await poller.stop();
  // The writer exits; each CLI ends once it sees the session has (the command's `until`).
  await writeFile(join(env.project.home, STOP_FILE), "");
  const exited = await waitUntil(() => readers.every((r) => r.exit !== null), EXIT_TIMEOUT_MS);
  await logReader.stop();

  for (const reader of all) {
    assertOnceInOrder(
      reader.label,
      reader.recorder.arrivals.map((a) => a.seq),
      LINES,
    );
  }
  const failed = readers.filter((r) => r.exit?.code !== 0 || r.exit.error !== null);
  if (!exited || failed.length > 0) {
    throw new Error(
      `every \`baton session stream\` should exit 0 once the session ended; ` +
        `${readers.filter((r) => r.exit === null).length} still ran after ${EXIT_TIMEOUT_MS} ms` +
        `${exitedReaders(failed)}`,
    );
  }
  if (poller.firstSeen.size !== LINES) {
    throw new Error(
      `the 2 s pane poll saw ${poller.firstSeen.size} of ${LINES} lines in ` +
        `${poller.captureMs.length} captures; is ${POLL_HISTORY_LINES} lines of scrollback too few?`,
    );
  }
  report(readers, logReader, [...poller.firstSeen.values()], poller.captureMs);
}

function report(
  readers: readonly Reader[],
  logReader: Reader,
  pollDelays: readonly number[],
  captureMs: readonly number[],
): void {
  const stream = readers.flatMap(delays);
  const p50 = percentile(stream, 50);
  const p99 = percentile(stream, 99);
  const max = percentile(stream, 100);
  const follow = delays(logReader);
  const extra = readers.flatMap((r) =>
    r.recorder.arrivals.map((a) => a.delayMs - (follow[a.seq] ?? Number.NaN)),
  );
  const refP50 = percentile(pollDelays, 50);
  const refP99 = percentile(pollDelays, 99);
  const p50Ratio = p50 === null || refP50 === null ? null : refP50 / p50;
  const p99Ratio = p99 === null || refP99 === null ? null : refP99 / p99;
  printTable(
    `stream latency: a line printed in a tmux session → on the stdout of each of ${readers.length} ` +
      `\`baton session stream\` CLIs; ${LINES} lines, ${1000 / INTERVAL_MS} lines/s`,
    [
      ...readers.map(readerRow),
      { what: `all ${readers.length} CLIs p50`, value: ms(p50) },
      {
        what: `all ${readers.length} CLIs p99`,
        value: ms(p99),
        note: `target <= ${TARGET_P99_MS} ms: ${verdict(p99, TARGET_P99_MS)}`,
      },
      { what: `all ${readers.length} CLIs max`, value: ms(max), note: `${stream.length} lines` },
      {
        what: "followLog in this process p99",
        value: ms(percentile(follow, 99)),
        note: `p50 ${ms(percentile(follow, 50))}, max ${ms(percentile(follow, 100))}: the log alone, no CLI`,
      },
      {
        what: "CLI − followLog, same line, p50",
        value: ms(percentile(extra, 50)),
        note: `p99 ${ms(percentile(extra, 99))}: what the CLI adds to reading the log`,
      },
      {
        what: `${POLL_INTERVAL_MS / 1000} s capture-pane poll p50`,
        value: ms(refP50),
        note: `${captureMs.length} captures, p50 ${ms(percentile(captureMs, 50))} each`,
      },
      { what: `${POLL_INTERVAL_MS / 1000} s capture-pane poll p99`, value: ms(refP99) },
      { what: "poll / stream p50", value: ratio(p50Ratio), note: "how many times sooner" },
      { what: "poll / stream p99", value: ratio(p99Ratio) },
    ],
  );
  if (process.env.BENCH_TRACE === "1") {
    printTable(
      "stream latency trace: the 10 slowest lines (BENCH_TRACE=1)",
      slowestLines(readers, follow),
    );
  }
  printJson("stream-latency", {
    readers: readers.length,
    lines: LINES,
    lines_per_s: 1000 / INTERVAL_MS,
    p50_ms: round3(p50),
    p99_ms: round3(p99),
    max_ms: round3(max),
    reader_p99_ms: readers.map((r) => round3(percentile(delays(r), 99))),
    follow_log_p50_ms: round3(percentile(follow, 50)),
    follow_log_p99_ms: round3(percentile(follow, 99)),
    cli_extra_p50_ms: round3(percentile(extra, 50)),
    ref_p50_ms: round3(refP50),
    ref_p99_ms: round3(refP99),
    poll_over_stream_p50: round3(p50Ratio),
    poll_over_stream_p99: round3(p99Ratio),
    target_p99_ms: TARGET_P99_MS,
    met: p99 !== null && p99 <= TARGET_P99_MS,
  });
}

try {
  await withReleasers(measure);
} catch (thrown) {
  console.error(thrown);
  process.exitCode = 1;
}
