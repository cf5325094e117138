/**
 * Runs a short command from `baton.yaml` (a gate, an autofix) in the worktree: `sh -c` on the
 * configured string (trusted config, never task text), in its own process group, output to a
 * log file, killed as a group at its timeout. The group's pid goes to `pidFile` while it runs,
 * so an engine restarted after a crash can kill a gate the dead engine left behind.
 */
import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { readLogTail } from "../sessions/log-tail.js";

export interface ShellResult {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** The last few KiB of what the command printed. */
  outputTail: string;
  durationMs: number;
}

const KILL_GRACE_MS = 2000;
export const OUTPUT_TAIL_BYTES = 4000;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

/**
 * Runs `command` and resolves when it ended. Never rejects for the command's own failure (a
 * non-zero exit, a timeout): those come back in the result. Rejects only when it cannot start.
 */
export async function runShell(options: {
  /** A shell command string from `baton.yaml`, run with `sh -c`… */
  command?: string;
  /** …or an argv, run as is. */
  argv?: readonly string[];
  /** A file to feed on stdin (a judge's prompt); nothing otherwise. */
  stdinFile?: string;
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  logFile: string;
  pidFile: string;
  signal?: AbortSignal;
}): Promise<ShellResult> {
  mkdirSync(dirname(options.logFile), { recursive: true });
  const [program, ...args] = options.argv ?? ["/bin/sh", "-c", options.command ?? "true"];
  if (program === undefined) {
    throw new Error("runShell needs a command or a non-empty argv");
  }
  const log = openSync(options.logFile, "w");
  const stdin = options.stdinFile === undefined ? "ignore" : openSync(options.stdinFile, "r");
  const started = Date.now();
  let child;
  try {
    child = spawn(program, args, {
      cwd: options.cwd,
      env: options.env,
      stdio: [stdin, log, log],
      detached: true,
    });
  } finally {
    closeSync(log);
    if (typeof stdin === "number") {
      closeSync(stdin);
    }
  }
  const pid = child.pid;
  if (pid !== undefined) {
    writeFileSync(options.pidFile, String(pid));
  }
  let timedOut = false;
  let forceTimer: NodeJS.Timeout | undefined;
  const stop = (): void => {
    if (pid !== undefined) {
      killGroup(pid, "SIGTERM");
      forceTimer = setTimeout(() => killGroup(pid, "SIGKILL"), KILL_GRACE_MS);
      forceTimer.unref();
    }
  };
  const timer = setTimeout(() => {
    timedOut = true;
    stop();
  }, options.timeoutMs);
  const onAbort = (): void => stop();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const { code, signal } = await new Promise<{
      code: number | null;
      signal: NodeJS.Signals | null;
    }>((resolve, reject) => {
      child.once("error", reject);
      child.once("exit", (code, signal) => resolve({ code, signal }));
    });
    // Whatever the command left running in its group goes with it.
    if (pid !== undefined) {
      killGroup(pid, "SIGKILL");
    }
    return {
      exitCode: code,
      signal,
      timedOut,
      outputTail: await readLogTail(options.logFile, OUTPUT_TAIL_BYTES),
      durationMs: Date.now() - started,
    };
  } finally {
    clearTimeout(timer);
    clearTimeout(forceTimer);
    options.signal?.removeEventListener("abort", onAbort);
    rmSync(options.pidFile, { force: true });
  }
}
