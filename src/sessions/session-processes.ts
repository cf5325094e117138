import { readdirSync, readFileSync } from "node:fs";
import { isDeadState, readProcStat, type ProcStat } from "./proc-stat.js";
import type { SessionHandle } from "./runtime.js";

/** What is left of a session right now. */
export interface SessionProcesses {
  /** Live (non-zombie) processes of the session, the wrapper included while it runs. */
  processes: ProcStat[];
  /**
   * Whether process group `handle.pid` is known to be the session's: its leader is the
   * session's wrapper (same start time), or a process carrying the session's marker is in it.
   * Only then may the group as a whole be signalled.
   */
  groupIsSession: boolean;
}

/**
 * Finds every live process of a session by scanning `/proc` (Linux): the wrapper (checked by
 * pid and start time), the members of its process group, and processes that left the group
 * (`setsid`, `setpgid`) but carry `BATON_SESSION=<name>` in their environment, which every
 * descendant inherits unless it rewrites its environment. Only processes of our own uid have a
 * readable environment, which is all a session can start. Processes born before the session are
 * skipped, so a reused pid or an older process is never taken for the session's.
 * Never throws; returns an empty result without `/proc`.
 */
export function findSessionProcesses(
  handle: Pick<SessionHandle, "name" | "pid" | "pidStartTime">,
): SessionProcesses {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    // No /proc (not Linux): nothing can be found this way.
    return { processes: [], groupIsSession: false };
  }
  const bornAfter = handle.pidStartTime === null ? null : Number(handle.pidStartTime);
  const marker = `BATON_SESSION=${handle.name}`;
  let groupIsSession = false;
  const marked: ProcStat[] = [];
  const groupOnly: ProcStat[] = [];
  for (const entry of entries) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) {
      continue;
    }
    const stat = readProcStat(pid);
    if (stat === null || isDeadState(stat.state)) {
      continue;
    }
    if (bornAfter !== null && Number(stat.startTime) < bornAfter) {
      continue;
    }
    if (pid === handle.pid) {
      // Start time is at least the wrapper's; equal means it is the wrapper itself.
      if (handle.pidStartTime === null || stat.startTime === handle.pidStartTime) {
        groupIsSession = true;
        marked.push(stat);
      }
      continue;
    }
    if (hasMarker(pid, marker)) {
      marked.push(stat);
      if (stat.pgid === handle.pid) {
        groupIsSession = true;
      }
    } else if (stat.pgid === handle.pid) {
      groupOnly.push(stat);
    }
  }
  return { processes: groupIsSession ? [...marked, ...groupOnly] : marked, groupIsSession };
}

function hasMarker(pid: number, marker: string): boolean {
  let environ: string;
  try {
    environ = readFileSync(`/proc/${pid}/environ`, "utf8");
  } catch {
    // Another user's process (EACCES) or gone (ENOENT/ESRCH): not one of ours.
    return false;
  }
  return environ.split("\0").includes(marker);
}
