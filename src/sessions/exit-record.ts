import { existsSync, readFileSync, statSync } from "node:fs";
import { constants } from "node:os";
import type { ExitRecord } from "./runtime.js";
import { sessionPaths } from "./session-paths.js";

/**
 * Reads the wrapper's exit record from session directory `dir`. Returns `null` while there is
 * no complete record: the file is missing, empty, or not yet terminated by a newline (the
 * wrapper writes it with one `write`, so a reader may catch it only between create and write).
 * Never throws.
 *
 * The file holds `<code> <epoch-ms>\n` or just `<code>\n`; in the second form (what the process
 * wrapper writes, to spare a `date` process per job) the time is the file's modification time,
 * which the kernel sets at that same write.
 */
export function readExitRecord(dir: string): ExitRecord | null {
  const path = sessionPaths(dir).exit;
  // Most sessions looked at are still running: the cheap test first, not a failed read.
  if (!existsSync(path)) {
    return null;
  }
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    // Missing (the program still runs, or the wrapper died) or unreadable: no record.
    return null;
  }
  const match = /^(\d{1,3})(?: (\d+))?\n$/.exec(text);
  if (match === null) {
    return null;
  }
  let at = match[2] === undefined ? undefined : Number(match[2]);
  if (at === undefined) {
    try {
      at = Math.floor(statSync(path).mtimeMs);
    } catch {
      // Removed between the read and the stat: the record was read, so keep it with "now".
      at = Date.now();
    }
  }
  return exitRecordFromCode(Number(match[1]), at);
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
