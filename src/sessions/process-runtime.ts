/**
 * The `process` runtime: each session is a detached `/bin/sh` wrapper (see `wrapper-script.ts`)
 * that leads its own session and process group, writes the program's output to `<dir>/log`, and
 * records the program's exit in `<dir>/status`. Nothing ties the session to the engine (no pipes,
 * the child is `unref()`'d), so it outlives an engine that crashes or is SIGKILLed, and any later
 * `ProcessRuntime` adopts it from its `SessionHandle` alone.
 *
 * Per session, this instance tracks only the child it spawned, from `start` until the child's
 * `exit` event (fast exit detection while it lives). Sessions it did not start, or whose child
 * already exited, are handled from the session directory and `/proc`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { InternalError, ProcessExitError } from "../core/errors.js";
import { coerceError } from "../lib/coerce-error.js";
import { makeAbortError } from "./abort-error.js";
import { readExitRecord } from "./exit-record.js";
import { isSessionAlive } from "./is-session-alive.js";
import { killSession } from "./kill-session.js";
import { NO_OUTPUT, readLastLines, readLogActivity } from "./log-tail.js";
import {
  makeFifo,
  prepareSessionDir,
  sessionStartError,
  validateSessionSpec,
} from "./prepare-session-dir.js";
import { prepareSessionStart } from "./prepare-session-start.js";
import { readProcStat } from "./proc-stat.js";
import type {
  ExitRecord,
  ObserveOptions,
  Observation,
  Runtime,
  SessionHandle,
  SessionSpec,
  SteerResult,
} from "./runtime.js";
import { sessionPaths } from "./session-paths.js";
import { makeWrapperArgs } from "./wrapper-script.js";
import { createSpawner, type Spawner } from "./spawner.js";
import { steerFifo } from "./steer-fifo.js";
import { waitForAdoptedExit } from "./wait-for-adopted-exit.js";

const DEFAULT_POLL_INTERVAL_MS = 500;
const MIN_POLL_INTERVAL_MS = 10;

export interface ProcessRuntimeOptions {
  /**
   * How often an adopted session's liveness is checked while waiting for it; default 500 ms,
   * at least 10 ms.
   */
  pollIntervalMs?: number;
  /**
   * Start sessions through a small helper process (`spawner.ts`) instead of this one, so spawning
   * costs no time on the engine's thread however much memory it holds. Call `close()` when done.
   */
  spawner?: boolean;
}

/**
 * Creates a `process` runtime. Instances share nothing: a new one (in a new engine) adopts the
 * sessions of an old one from their handles.
 *
 * @example
 * const runtime = createProcessRuntime();
 * const handle = await runtime.start({ name, dir, argv: ["npm", "test"], cwd, env, stdin: { kind: "null" } });
 * const exit = await runtime.waitForExit(handle, AbortSignal.timeout(45 * MINUTE));
 */
export function createProcessRuntime(options: ProcessRuntimeOptions = {}): Runtime {
  const pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  return new ProcessRuntime(
    Math.max(MIN_POLL_INTERVAL_MS, pollIntervalMs),
    options.spawner === true ? createSpawner() : null,
  );
}

interface OwnChild {
  child: ChildProcess;
  dir: string;
  /** Pending `waitForExit` calls; the child is `ref()`'d while there are any. */
  waiters: number;
}

class ProcessRuntime implements Runtime {
  readonly name = "process" as const;
  readonly #pollIntervalMs: number;
  /** Children this instance spawned that have not exited yet, by pid. */
  readonly #children = new Map<number, OwnChild>();
  readonly #spawner: Spawner | null;
  /** Sessions started through the spawner, by pid, with their directory. */
  readonly #spawned = new Map<number, string>();

  constructor(pollIntervalMs: number, spawner: Spawner | null) {
    this.#pollIntervalMs = pollIntervalMs;
    this.#spawner = spawner;
  }

  close(): Promise<void> {
    this.#spawner?.close();
    return Promise.resolve();
  }

  async start(spec: SessionSpec): Promise<SessionHandle> {
    if (this.#spawner !== null) {
      return this.#startThroughSpawner(spec, this.#spawner);
    }
    const prepared = await prepareSessionStart(spec);
    let child: ChildProcess;
    try {
      child = spawn("/bin/sh", prepared.wrapperArgs, {
        cwd: spec.cwd,
        env: prepared.env,
        detached: true,
        stdio: [prepared.stdin, prepared.logFd, prepared.logFd],
      });
    } catch (thrown) {
      // Synchronous failures: invalid arguments, e.g. a NUL byte in argv or env.
      throw new ProcessExitError(
        `cannot start session ${spec.name}: ${coerceError(thrown).message}`,
        { exitCode: null, signal: null, stderrTail: "" },
        { cause: thrown },
      );
    } finally {
      prepared.close();
    }
    try {
      await once(child, "spawn");
    } catch (thrown) {
      throw new ProcessExitError(
        `cannot start session ${spec.name}: spawning /bin/sh in ${spec.cwd} failed: ` +
          `${coerceError(thrown).message}`,
        { exitCode: null, signal: null, stderrTail: "" },
        { cause: thrown },
      );
    }
    const pid = child.pid;
    if (pid === undefined) {
      throw new InternalError(`session ${spec.name}: the child spawned but has no pid`);
    }
    // Later errors (none are expected without pipes) must not crash the engine as unhandled.
    child.on("error", () => undefined);
    child.unref();
    this.#children.set(pid, { child, dir: spec.dir, waiters: 0 });
    child.once("exit", () => this.#children.delete(pid));
    return {
      name: spec.name,
      runtime: "process",
      dir: spec.dir,
      logPath: sessionPaths(spec.dir).log,
      pid,
      pidStartTime: readProcStat(pid)?.startTime ?? null,
      startedAt: Date.now(),
    };
  }

  async #startThroughSpawner(spec: SessionSpec, spawner: Spawner): Promise<SessionHandle> {
    const paths = sessionPaths(spec.dir);
    if (spec.stdin.kind === "fifo") {
      // The FIFO must exist before the spawner opens it; that needs the directory here.
      prepareSessionDir(spec);
      await makeFifo(paths.stdin);
    } else {
      validateSessionSpec(spec);
    }
    let pid: number;
    try {
      pid = await spawner.spawn({
        file: "/bin/sh",
        args: makeWrapperArgs(spec.dir, spec.env, spec.argv),
        cwd: spec.cwd,
        env: { ...spec.env, BATON_SESSION: spec.name },
        dir: spec.dir,
        remove: [paths.status],
        log: paths.log,
        stdin:
          spec.stdin.kind === "file"
            ? spec.stdin
            : spec.stdin.kind === "fifo"
              ? { kind: "fifo", path: paths.stdin }
              : { kind: "null" },
      });
    } catch (thrown) {
      throw sessionStartError(spec.name, coerceError(thrown).message, thrown);
    }
    this.#spawned.set(pid, spec.dir);
    return {
      name: spec.name,
      runtime: "process",
      dir: spec.dir,
      logPath: paths.log,
      pid,
      pidStartTime: readProcStat(pid)?.startTime ?? null,
      startedAt: Date.now(),
    };
  }

  async waitForExit(handle: SessionHandle, signal: AbortSignal): Promise<ExitRecord | null> {
    if (this.#spawner !== null && this.#spawned.get(handle.pid) === handle.dir) {
      const seen = await waitForSpawnerExit(this.#spawner, handle, signal);
      if (seen) {
        this.#spawned.delete(handle.pid);
        return readExitRecord(handle.dir);
      }
      // The spawner went away: watch the session the way any adopting engine would.
      return waitForAdoptedExit(handle, signal, this.#pollIntervalMs);
    }
    const own = this.#children.get(handle.pid);
    if (own === undefined || own.dir !== handle.dir) {
      return waitForAdoptedExit(handle, signal, this.#pollIntervalMs);
    }
    await waitForChildExit(own, handle.name, signal);
    return readExitRecord(handle.dir);
  }

  observe(handle: SessionHandle, options: ObserveOptions = {}): Promise<Observation> {
    const { lastOutputAt, logBytes } =
      options.outputTime === false ? NO_OUTPUT : readLogActivity(handle.logPath);
    return Promise.resolve({
      alive: options.quick === true ? pidExists(handle.pid) : isSessionAlive(handle),
      exit: readExitRecord(handle.dir),
      lastOutputAt,
      logBytes,
      human: "absent",
      humanActiveAt: null,
    });
  }

  kill(handle: SessionHandle, graceMs: number): Promise<void> {
    return killSession(handle, graceMs);
  }

  steer(handle: SessionHandle, message: string): Promise<SteerResult> {
    return steerFifo(handle, message);
  }

  peek(handle: SessionHandle, lines: number): Promise<string> {
    return readLastLines(handle.logPath, lines);
  }
}

/**
 * Resolves on the child's `exit` event, with no polling delay; rejects with an `AbortError` when
 * `signal` aborts. Holds the event loop open (`ref()`) while someone waits.
 */
function waitForChildExit(own: OwnChild, name: string, signal: AbortSignal): Promise<void> {
  const abortMessage = `waiting for session ${name} to exit was aborted`;
  if (signal.aborted) {
    return Promise.reject(makeAbortError(abortMessage, signal));
  }
  return new Promise<void>((resolve, reject) => {
    const { child } = own;
    const finish = (): void => {
      child.off("exit", onExit);
      signal.removeEventListener("abort", onAbort);
      own.waiters -= 1;
      if (own.waiters === 0) {
        child.unref();
      }
    };
    const onExit = (): void => {
      finish();
      resolve();
    };
    const onAbort = (): void => {
      finish();
      reject(makeAbortError(abortMessage, signal));
    };
    own.waiters += 1;
    if (own.waiters === 1) {
      child.ref();
    }
    child.once("exit", onExit);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Resolves with `true` when the spawner saw the session end, `false` if it went away first. */
function waitForSpawnerExit(
  spawner: Spawner,
  handle: SessionHandle,
  signal: AbortSignal,
): Promise<boolean> {
  const abortMessage = `waiting for session ${handle.name} to exit was aborted`;
  if (signal.aborted) {
    return Promise.reject(makeAbortError(abortMessage, signal));
  }
  return new Promise<boolean>((resolve, reject) => {
    const onAbort = (): void => {
      stop();
      reject(makeAbortError(abortMessage, signal));
    };
    const stop = spawner.watch(handle.pid, (seen) => {
      signal.removeEventListener("abort", onAbort);
      resolve(seen);
    });
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Whether a process with this pid exists (ours or not); no check of which process it is. */
function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (thrown) {
    return (thrown as NodeJS.ErrnoException).code === "EPERM";
  }
}
