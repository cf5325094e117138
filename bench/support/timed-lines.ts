/**
 * The stream-latency benchmark's line protocol. A writer program, run as a session's agent,
 * prints `ready`, waits for a go file, prints `tick <seq> <epoch ms>` lines at a steady rate,
 * then `done`, and exits once a stop file exists. A recorder reads such text back from any
 * stream (a reader's output, a pane capture) and keeps, per tick, how long after its stamp it
 * arrived. Both sides stamp with `performance.timeOrigin + performance.now()`: wall-clock
 * milliseconds with sub-millisecond resolution, comparable across processes on one machine.
 */

export const READY_LINE = "ready";
export const DONE_LINE = "done";
/** Files under `$BATON_HOME` that start the ticks and let the writer exit. */
export const GO_FILE = "stream-go";
export const STOP_FILE = "stream-stop";
/** The writer exits by itself after this long, so a bench that died leaves no writer behind. */
const WRITER_LIFETIME_MS = 120_000;
const TICK = /^tick (\d+) (\d+\.\d{3})$/;

export interface WriterOptions {
  lines: number;
  intervalMs: number;
}

/**
 * The writer's source, a CommonJS script for `node <file>`. Each tick is due at
 * `go + seq * intervalMs` (so the rate does not drift) and is stamped just before its
 * (synchronous, to a terminal) write. Pure.
 */
export function makeWriterProgram(options: WriterOptions): string {
  return `// The stream-latency benchmark's writer (bench/support/timed-lines.ts).
const { existsSync } = require("node:fs");
const { join } = require("node:path");
const { performance } = require("node:perf_hooks");
const LINES = ${options.lines};
const INTERVAL_MS = ${options.intervalMs};
const home = process.env.BATON_HOME;
const now = () => performance.timeOrigin + performance.now();
const whenExists = (file, then) => {
  const timer = setInterval(() => {
    if (existsSync(join(home, file))) {
      clearInterval(timer);
      then();
    }
  }, 5);
};
setTimeout(() => process.exit(3), ${WRITER_LIFETIME_MS});
process.stdout.write(${JSON.stringify(`${READY_LINE}\n`)});
whenExists(${JSON.stringify(GO_FILE)}, () => {
  const start = performance.now();
  let seq = 0;
  const tick = () => {
    process.stdout.write("tick " + seq + " " + now().toFixed(3) + "\\n");
    seq += 1;
    if (seq < LINES) {
      setTimeout(tick, Math.max(0, start + seq * INTERVAL_MS - performance.now()));
    } else {
      process.stdout.write(${JSON.stringify(`${DONE_LINE}\n`)});
      whenExists(${JSON.stringify(STOP_FILE)}, () => process.exit(0));
    }
  };
  tick();
});
`;
}

/** One tick as read back: its sequence number and its delay (arrival − stamp, ms). */
export interface Arrival {
  seq: number;
  delayMs: number;
}

/** A tick line, or `null` for any other line. Throws for a line that looks like a tick but is not one. */
export function parseTick(line: string): { seq: number; stampMs: number } | null {
  if (!line.includes("tick")) {
    return null;
  }
  const match = TICK.exec(line);
  if (match === null) {
    throw new Error(`a garbled tick line: ${JSON.stringify(line)}`);
  }
  return { seq: Number(match[1]), stampMs: Number(match[2]) };
}

/**
 * Reads the writer's output as it arrives, chunk by chunk: a line counts as arrived when its
 * newline does. Terminal line ends (`\r\n`) are fine. Throws for a garbled tick line.
 */
export class LineRecorder {
  /** Ticks in the order they arrived. */
  readonly arrivals: Arrival[] = [];
  #ready = false;
  #done = false;
  #pending = "";

  get ready(): boolean {
    return this.#ready;
  }

  get done(): boolean {
    return this.#done;
  }

  /** Takes `text` that arrived at `atMs` (epoch ms). */
  feed(text: string, atMs: number): void {
    const lines = (this.#pending + text).split("\n");
    this.#pending = lines.pop() ?? "";
    for (const raw of lines) {
      const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
      if (line === READY_LINE) {
        this.#ready = true;
      } else if (line === DONE_LINE) {
        this.#done = true;
      } else {
        const tick = parseTick(line);
        if (tick !== null) {
          this.arrivals.push({ seq: tick.seq, delayMs: atMs - tick.stampMs });
        }
      }
    }
  }
}

/**
 * Throws unless `seqs` is exactly `0, 1, …, lines − 1`: every tick once, in order. The message
 * names the missing and repeated ticks and the first one out of place.
 */
export function assertOnceInOrder(who: string, seqs: readonly number[], lines: number): void {
  const outOfPlace = seqs.findIndex((seq, i) => seq !== i);
  if (outOfPlace === -1 && seqs.length === lines) {
    return;
  }
  const counts = new Map<number, number>();
  for (const seq of seqs) {
    counts.set(seq, (counts.get(seq) ?? 0) + 1);
  }
  const missing: number[] = [];
  for (let seq = 0; seq < lines; seq += 1) {
    if (!counts.has(seq)) {
      missing.push(seq);
    }
  }
  const repeated = [...counts].filter(([, n]) => n > 1).map(([seq]) => seq);
  const first = (list: number[]): string =>
    list.length === 0 ? "none" : `${list.slice(0, 10).join(", ")}${list.length > 10 ? ", …" : ""}`;
  throw new Error(
    `${who}: expected ticks 0..${lines - 1} once each, in order, but got ${seqs.length} ticks; ` +
      `missing (${missing.length}): ${first(missing)}; repeated (${repeated.length}): ` +
      `${first(repeated)}` +
      (outOfPlace === -1 ? "" : `; first out of place: tick ${seqs[outOfPlace]} at ${outOfPlace}`),
  );
}
