import { closeSync, openSync } from "node:fs";
import type { ProcessExitError } from "../core/errors.js";
import { coerceError } from "../lib/coerce-error.js";
import { makeFifo, prepareSessionDir, sessionStartError } from "./prepare-session-dir.js";
import type { SessionSpec } from "./runtime.js";
import { sessionPaths } from "./session-paths.js";
import { makeWrapperArgs } from "./wrapper-script.js";

/** Everything `spawn` needs for one session; `close()` releases the parent's copies of the fds. */
export interface PreparedStart {
  wrapperArgs: string[];
  env: Record<string, string>;
  stdin: number | "ignore";
  logFd: number;
  /** Closes the fds opened here. Call once, right after `spawn` (the child has its own copies). */
  close(): void;
}

/**
 * Checks a spec and sets up its session directory (`prepareSessionDir`), opens the stdin file or
 * makes the `stdin` FIFO, and opens `log` for appending. Throws `ProcessExitError`, with what to fix, when the
 * session cannot start; opens nothing in that case.
 */
export async function prepareSessionStart(spec: SessionSpec): Promise<PreparedStart> {
  const fail = (why: string, cause?: unknown): ProcessExitError =>
    sessionStartError(spec.name, why, cause);
  prepareSessionDir(spec);
  const paths = sessionPaths(spec.dir);

  let stdin: number | "ignore" = "ignore";
  if (spec.stdin.kind === "file") {
    try {
      stdin = openSync(spec.stdin.path, "r");
    } catch (error) {
      throw fail(`cannot open stdin file ${spec.stdin.path}: ${coerceError(error).message}`, error);
    }
  } else if (spec.stdin.kind === "fifo") {
    try {
      await makeFifo(paths.stdin);
      // Read-write, so this open does not wait for a writer; the wrapper inherits it as fd 0.
      stdin = openSync(paths.stdin, "r+");
    } catch (error) {
      throw fail(`cannot create stdin FIFO ${paths.stdin}: ${coerceError(error).message}`, error);
    }
  }

  let logFd: number;
  try {
    logFd = openSync(paths.log, "a", 0o600);
  } catch (error) {
    if (typeof stdin === "number") {
      closeSync(stdin);
    }
    throw fail(`cannot open log ${paths.log}: ${coerceError(error).message}`, error);
  }

  return {
    wrapperArgs: makeWrapperArgs(spec.dir, spec.env, spec.argv),
    env: { ...spec.env, BATON_SESSION: spec.name },
    stdin,
    logFd,
    close: () => {
      closeSync(logFd);
      if (typeof stdin === "number") {
        closeSync(stdin);
      }
    },
  };
}
