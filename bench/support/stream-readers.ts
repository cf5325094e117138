/**
 * Readers of a session's live output for the stream-latency benchmark, each feeding a
 * `LineRecorder` as the bytes reach it: the real CLI (`node bin/baton.js session stream <task>`
 * as a child process, timed when its stdout reaches this process), or `followLog` on the log
 * file in this process (the part of `baton session stream` that reads the log, without the CLI).
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { StringDecoder } from "node:string_decoder";
import { coerceError } from "../../src/lib/coerce-error.js";
import { followLog } from "../../src/sessions/follow-log.js";
import { BATON_ROOT } from "../../test/helpers/cli.js";
import { LineRecorder } from "./timed-lines.js";
import { epochMs } from "./trace.js";

const BIN = join(BATON_ROOT, "bin", "baton.js");
const STDERR_TAIL_CHARS = 2_000;

export interface ReaderExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderrTail: string;
  /** A garbled tick line in its output, or a failure to run it at all. */
  error: Error | null;
}

export interface CliReader {
  readonly label: string;
  readonly recorder: LineRecorder;
  /** Resolves when the CLI has exited and its output is read; never rejects. */
  readonly closed: Promise<ReaderExit>;
  /** How it exited, once it has; `null` while it runs. */
  readonly exit: ReaderExit | null;
  /** SIGKILLs the CLI if it still runs and waits until it has exited. */
  kill(): Promise<void>;
}

/** Starts `node bin/baton.js ...args` with exactly `env`, its stdout going to a recorder. */
export function startCliReader(
  label: string,
  args: readonly string[],
  options: { cwd: string; env: Record<string, string> },
): CliReader {
  const recorder = new LineRecorder();
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    env: options.env,
    stdio: ["ignore", "pipe", "pipe"],
    shell: false,
  });
  const decoder = new StringDecoder("utf8");
  let failure: Error | null = null;
  child.stdout.on("data", (chunk: Buffer) => {
    const at = epochMs();
    try {
      recorder.feed(decoder.write(chunk), at);
    } catch (error) {
      // A garbled line: reported with the exit.
      failure ??= coerceError(error);
    }
  });
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (text: string) => {
    stderr = (stderr + text).slice(-STDERR_TAIL_CHARS);
  });
  const closed = new Promise<ReaderExit>((resolve) => {
    child.once("error", (error) => {
      failure ??= error;
    });
    child.once("close", (code, signal) => {
      resolve({ code, signal, stderrTail: stderr, error: failure });
    });
  });
  let exit: ReaderExit | null = null;
  void closed.then((value) => {
    exit = value;
  });
  return {
    label,
    recorder,
    closed,
    get exit() {
      return exit;
    },
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
      }
      await closed;
    },
  };
}

export interface LogReader {
  readonly label: string;
  readonly recorder: LineRecorder;
  /** Stops following; rejects with what `followLog` or the recorder threw. */
  stop(): Promise<void>;
}

/** Follows `logPath` with `followLog` from its start, in this process, until `stop()`. */
export function startLogReader(label: string, logPath: string): LogReader {
  const recorder = new LineRecorder();
  const controller = new AbortController();
  const decoder = new StringDecoder("utf8");
  const following = (async () => {
    for await (const chunk of followLog(logPath, { signal: controller.signal })) {
      recorder.feed(decoder.write(chunk), epochMs());
    }
  })();
  // stop() awaits it and so reports a failure; until then, no unhandled rejection.
  following.then(null, () => undefined);
  return {
    label,
    recorder,
    stop: async () => {
      controller.abort();
      await following;
    },
  };
}
