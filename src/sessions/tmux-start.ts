/**
 * Starting a tmux session so that the log misses nothing.
 *
 * The race: `pipe-pane` can only be set on a pane that exists, and tmux pipes only what the
 * pane prints after the pipe is open, so a program that prints at once could lose its first
 * bytes. The pane therefore starts with a launcher that blocks on a FIFO (`<dir>/gate`) before
 * it runs anything (`tmux-launch.ts`). One tmux invocation creates the session, turns
 * `remain-on-exit` off and opens the pipe: the server runs the three commands back to back.
 * Only after tmux has confirmed all three does the runtime open the gate, and the program
 * starts. Opening the gate cannot miss the launcher either way round: a non-blocking open for
 * writing fails (ENXIO) until the launcher holds the FIFO open for reading, and once it
 * succeeds the launcher's blocked open returns, even though we close at once.
 */
import { closeSync, constants, openSync, rmSync } from "node:fs";
import { setTimeout as delay } from "node:timers/promises";
import { InternalError } from "../core/errors.js";
import { coerceError } from "../lib/coerce-error.js";
import { isSessionAlive } from "./is-session-alive.js";
import { makeFifo, prepareSessionDir, sessionStartError } from "./prepare-session-dir.js";
import { readProcStat } from "./proc-stat.js";
import type { SessionHandle, SessionSpec } from "./runtime.js";
import { sessionPaths } from "./session-paths.js";
import {
  classifyTmuxFailure,
  escapeTmuxFormat,
  tmuxError,
  type TmuxClient,
  type TmuxResult,
} from "./tmux-command.js";
import { makeLogPipeCommand, makeTmuxPaneArgv } from "./tmux-launch.js";
import { capturePane, paneTarget, sessionTarget } from "./tmux-session-query.js";

/** The pane's size while nobody is attached (an attached client resizes it to its terminal). */
const PANE_COLUMNS = "200";
const PANE_ROWS = "50";
/** How long `start` waits for the launcher to reach the gate. */
const GATE_TIMEOUT_MS = 10_000;
const GATE_RETRY_MS = 2;
/**
 * tmux exits when its last session ends; a command that reaches it as it exits fails with "server
 * exited unexpectedly" (or finds no server), having created nothing. That is retried.
 */
const START_ATTEMPTS = 5;
const START_RETRY_MS = 20;
/** tmux session names Baton uses: `.` and `:` would be rewritten by tmux or read as targets. */
export const TMUX_SESSION_NAME = /^[A-Za-z0-9_-]+$/;

/**
 * Starts `spec` as tmux session `spec.name` on `tmux`'s server (see the module comment) and
 * returns its handle once the program may run. Throws `ProcessExitError`, with what to fix, when
 * it cannot start (bad name or spec, tmux missing or failing, a duplicate name, a launcher that
 * died); in that case no session of that name is left behind, except one that existed before.
 */
export async function startTmuxSession(
  tmux: TmuxClient,
  spec: SessionSpec,
): Promise<SessionHandle> {
  if (!TMUX_SESSION_NAME.test(spec.name)) {
    throw sessionStartError(
      spec.name,
      "a tmux session name may hold only letters, digits, _ and - (tmux rewrites . and :)",
    );
  }
  prepareSessionDir(spec);
  const paths = sessionPaths(spec.dir);
  rmSync(paths.logClosed, { force: true });
  if (spec.stdin.kind === "file") {
    checkReadable(spec.name, spec.stdin.path);
  }
  try {
    // Created here with our mode; the pane's pipe only appends to it.
    closeSync(openSync(paths.log, "a", 0o600));
    await makeFifo(paths.gate);
    if (spec.stdin.kind === "fifo") {
      await makeFifo(paths.stdin);
    }
  } catch (error) {
    throw sessionStartError(
      spec.name,
      `cannot set up ${spec.dir}: ${coerceError(error).message}`,
      error,
    );
  }
  try {
    return await launch(tmux, spec);
  } finally {
    rmSync(paths.gate, { force: true });
  }
}

async function launch(tmux: TmuxClient, spec: SessionSpec): Promise<SessionHandle> {
  const { name } = spec;
  const commands = [
    [
      "new-session",
      "-d",
      "-P",
      "-F",
      "#{pane_pid}",
      "-s",
      name,
      "-x",
      PANE_COLUMNS,
      "-y",
      PANE_ROWS,
      "-c",
      escapeTmuxFormat(spec.cwd),
      "--",
      ...makeTmuxPaneArgv(spec),
    ],
    ["set-option", "-w", "-t", paneTarget(name), "remain-on-exit", "off"],
    ["pipe-pane", "-o", "-t", paneTarget(name), makeLogPipeCommand(spec.dir)],
  ];
  let result: TmuxResult = await tmux.runSequence(commands);
  for (let attempt = 1; attempt < START_ATTEMPTS && result.code !== 0; attempt += 1) {
    if (result.code === null || classifyTmuxFailure(result.stderr) !== "no-server") {
      break;
    }
    await delay(START_RETRY_MS);
    result = await tmux.runSequence(commands);
  }
  if (result.code !== 0) {
    if (!/^duplicate session/m.test(result.stderr)) {
      // new-session may have worked and a later command failed: leave nothing behind.
      await tmux.run(["kill-session", "-t", sessionTarget(name)]);
    }
    const error = tmuxError("creating its tmux session", result);
    throw sessionStartError(name, error.message, error);
  }
  const pid = Number(result.stdout.trim().split("\n")[0]);
  if (!Number.isInteger(pid) || pid <= 0) {
    await tmux.run(["kill-session", "-t", sessionTarget(name)]);
    throw new InternalError(
      `session ${name}: tmux printed ${JSON.stringify(result.stdout)} for #{pane_pid}`,
    );
  }
  const handle: SessionHandle = {
    name,
    runtime: "tmux",
    dir: spec.dir,
    logPath: sessionPaths(spec.dir).log,
    pid,
    // Read while the launcher waits at the gate, so the process is surely there.
    pidStartTime: readProcStat(pid)?.startTime ?? null,
    startedAt: Date.now(),
  };
  const failure = await openGate(sessionPaths(spec.dir).gate, handle);
  if (failure !== null) {
    // What the launcher printed (e.g. a stdin file that vanished), if its pane still shows.
    const screen = await capturePane(tmux, name, 20).catch(() => null);
    await tmux.run(["kill-session", "-t", sessionTarget(name)]);
    throw sessionStartError(
      name,
      failure +
        (screen === null || screen.trim() === "" ? "" : `; the pane showed: ${screen.trim()}`),
    );
  }
  return handle;
}

/**
 * Lets the launcher past its gate: opens the FIFO for writing without blocking, which succeeds
 * only once the launcher has it open for reading, and wakes it. Retries every 2 ms until then.
 * Resolves `null` once opened, or why it could not be: the launcher died, 10 s passed, or the
 * FIFO could not be opened.
 */
async function openGate(
  gate: string,
  handle: Pick<SessionHandle, "pid" | "pidStartTime">,
): Promise<string | null> {
  const deadline = Date.now() + GATE_TIMEOUT_MS;
  for (;;) {
    try {
      closeSync(openSync(gate, constants.O_WRONLY | constants.O_NONBLOCK));
      return null;
    } catch (error) {
      if (!(error instanceof Error && "code" in error && error.code === "ENXIO")) {
        return `cannot open the gate FIFO ${gate}: ${coerceError(error).message}`;
      }
    }
    if (!isSessionAlive(handle)) {
      return "the session's launcher ended before the program could start";
    }
    if (Date.now() > deadline) {
      return `the session's launcher did not reach its gate within ${GATE_TIMEOUT_MS} ms`;
    }
    await delay(GATE_RETRY_MS);
  }
}

function checkReadable(name: string, path: string): void {
  try {
    closeSync(openSync(path, constants.O_RDONLY | constants.O_NONBLOCK));
  } catch (error) {
    throw sessionStartError(
      name,
      `cannot open stdin file ${path}: ${coerceError(error).message}`,
      error,
    );
  }
}
