import { readFileSync, statSync } from "node:fs";
import { constants } from "node:os";
import type { ExitRecord } from "./runtime.js";
import { sessionPaths } from "./session-paths.js";

/** The wrapper's pid line, then optionally its exit line: `<code>` or `<code> <epoch-ms>`. */
const STATUS = /^(\d+)\n(?:(\d{1,3})(?: (\d+))?\n)?/;

/** The `status` file's text, `null` when it cannot be read. */
function readStatus(dir: string): string | null {
  try {
    return readFileSync(sessionPaths(dir).status, "utf8");
  } catch {
    // Missing (the wrapper has not run yet, or never will) or unreadable: no record.
    return null;
  }
}

/**
 * The wrapper's pid from session directory `dir`, or `null` while there is none: the wrapper
 * has not written it yet, or never ran. Never throws.
 */
export function readSessionPid(dir: string): number | null {
  const match = STATUS.exec(readStatus(dir) ?? "");
  const pid = match === null ? 0 : Number(match[1]);
  return pid > 0 ? pid : null;
}

/**
 * Reads the wrapper's exit record from session directory `dir`. Returns `null` while there is
 * no complete record: the status file is missing, or has no newline-terminated exit line yet
 * (the wrapper appends it with one `write`, so a reader may catch the file just before). Never
 * throws.
 *
 * The exit line is `<code> <epoch-ms>` or just `<code>`; in the second form (what the process
 * wrapper writes, to spare a `date` process per job) the time is the file's modification time,
 * which the kernel sets at that same write.
 */
export function readExitRecord(dir: string): ExitRecord | null {
  const match = STATUS.exec(readStatus(dir) ?? "");
  if (match?.[2] === undefined) {
    return null;
  }
  let at = match[3] === undefined ? undefined : Number(match[3]);
  if (at === undefined) {
    try {
      at = Math.floor(statSync(sessionPaths(dir).status).mtimeMs);
    } catch {
      // Removed between the read and the stat: the record was read, so keep it with "now".
      at = Date.now();
    }
  }
  return exitRecordFromCode(Number(match[2]), at);
}

/**
 * Maps a POSIX shell's `$?` to an exit record: 0–128 is the program's exit code; above 128 the
 * program died of signal `code - 128` (when that names a signal).
 */
export function exitRecordFromCode(code: number, at: number): ExitRecord {
  if (code > 128) {
    const signal = signalName(code - 128);
    if (signal !== null) {
      return { exitCode: null, signal, at };
    }
  }
  return { exitCode: code, signal: null, at };
}

function signalName(signo: number): string | null {
  for (const [name, value] of Object.entries(constants.signals)) {
    if (value === signo) {
      return name;
    }
  }
  return null;
}
