import { execFile } from "node:child_process";
import { mkdirSync, rmSync, statSync } from "node:fs";
import { ProcessExitError } from "../core/errors.js";
import { coerceError } from "../lib/coerce-error.js";
import type { SessionSpec } from "./runtime.js";
import { sessionPaths } from "./session-paths.js";
import { findUnportableEnvNames } from "./wrapper-script.js";

/**
 * The error every runtime throws when a session cannot start: a `ProcessExitError` whose message
 * names the session and says what to fix.
 */
export function sessionStartError(name: string, why: string, cause?: unknown): ProcessExitError {
  return new ProcessExitError(
    `cannot start session ${name}: ${why}`,
    { exitCode: null, signal: null, stderrTail: "" },
    cause === undefined ? undefined : { cause },
  );
}

/**
 * The checks every runtime makes before it starts a session: argv is not empty, every
 * environment name can pass through the shell wrapper, `cwd` is a directory. Throws
 * `ProcessExitError`, with what to fix, when the session cannot start. Writes nothing.
 */
export function validateSessionSpec(spec: SessionSpec): void {
  if (spec.argv.length === 0 || spec.argv[0] === "") {
    throw sessionStartError(spec.name, "argv is empty; give the program to run as argv[0]");
  }
  const badNames = findUnportableEnvNames(spec.env);
  if (badNames.length > 0) {
    throw sessionStartError(
      spec.name,
      `environment variable name(s) ${badNames.map((n) => JSON.stringify(n)).join(", ")} ` +
        "cannot be passed through the session's shell wrapper; use letters, digits and _ only",
    );
  }
  if (!isDirectory(spec.cwd)) {
    throw sessionStartError(
      spec.name,
      `working directory ${spec.cwd} does not exist or is not a directory; create it first`,
    );
  }
}

/**
 * `validateSessionSpec`, then the directory set-up: creates the session directory (mode 0700
 * when new) and removes a previous run's `status` record (a restarted job may reuse its
 * directory). Throws `ProcessExitError`, with what to fix, when the session cannot start.
 */
export function prepareSessionDir(spec: SessionSpec): void {
  validateSessionSpec(spec);
  const paths = sessionPaths(spec.dir);
  try {
    mkdirSync(spec.dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw sessionStartError(
      spec.name,
      `cannot create session directory ${spec.dir}: ${coerceError(error).message}`,
      error,
    );
  }
  // A reused directory (a restarted job) must not show the previous run's record.
  rmSync(paths.status, { force: true });
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    // Missing or unreadable: not a usable working directory either way.
    return false;
  }
}

/** Creates a FIFO at `path` (mode 0600) with `mkfifo` (Node has none), replacing what was there. */
export function makeFifo(path: string): Promise<void> {
  rmSync(path, { force: true });
  return new Promise((resolve, reject) => {
    execFile("mkfifo", ["-m", "600", "--", path], (error, _stdout, stderr) => {
      if (error === null) {
        resolve();
      } else {
        reject(new Error(stderr.trim() || error.message, { cause: error }));
      }
    });
  });
}
