import { readFileSync } from "node:fs";

/** The fields of `/proc/<pid>/stat` that sessions need. */
export interface ProcStat {
  pid: number;
  /** One letter: `R`, `S`, `D`, `Z` (zombie), `X` (dead), … */
  state: string;
  pgid: number;
  sid: number;
  /** Field 22, `starttime`: clock ticks after boot. Together with the pid it names one process. */
  startTime: string;
}

/**
 * Reads `/proc/<pid>/stat` (Linux). Returns `null` when the process does not exist (or there is
 * no `/proc`). Never throws.
 */
export function readProcStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "latin1");
  } catch {
    // No such process (ENOENT/ESRCH), or no /proc: either way there is nothing to report.
    return null;
  }
  return parseProcStat(pid, text);
}

/**
 * Parses the text of `/proc/<pid>/stat`. The command name (field 2) is parenthesised and may
 * itself hold spaces and parentheses, so fields are counted from the last `)`.
 * @internal
 */
export function parseProcStat(pid: number, text: string): ProcStat | null {
  const close = text.lastIndexOf(")");
  if (close < 0) {
    return null;
  }
  // rest[0] is field 3 (state), so field n is rest[n - 3].
  const rest = text.slice(close + 2).split(" ");
  const state = rest[0];
  const pgid = Number(rest[2]);
  const sid = Number(rest[3]);
  const startTime = rest[19];
  if (state === undefined || startTime === undefined || !Number.isInteger(pgid)) {
    return null;
  }
  return { pid, state, pgid, sid, startTime };
}

/** A process that has ended but was not reaped yet (`Z`) or is being torn down (`X`). */
export function isDeadState(state: string): boolean {
  return state === "Z" || state === "X";
}
