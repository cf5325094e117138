import { setTimeout as delay } from "node:timers/promises";
import { isDeadState, readProcStat, type ProcStat } from "./proc-stat.js";
import type { SessionHandle } from "./runtime.js";
import { findSessionProcesses, type SessionProcesses } from "./session-processes.js";

/** How often a kill checks whether the session is gone. */
const KILL_POLL_MS = 20;
/** After SIGKILL, how long processes may take to vanish before the kill gives up. */
const KILL_SETTLE_MS = 5_000;

/**
 * Stops every process of a session: SIGTERM to its process group and to each process found by
 * `findSessionProcesses` (which catches those that left the group); waits up to `graceMs` for all
 * of them to end; then SIGKILLs whatever is left. Resolves once no process of the session is
 * left; resolves at once for a session that already ended. Rejects only if processes survive
 * SIGKILL for 5 s (stuck in the kernel). Guards against pid reuse through the handle's start
 * time.
 */
export async function killSession(
  handle: Pick<SessionHandle, "name" | "pid" | "pidStartTime">,
  graceMs: number,
): Promise<void> {
  let found = findSessionProcesses(handle);
  if (found.processes.length === 0) {
    return;
  }
  signalSession(handle.pid, found, "SIGTERM");
  const graceEnd = Date.now() + Math.max(0, graceMs);
  let watched = found.processes;
  for (let left = graceEnd - Date.now(); left > 0; left = graceEnd - Date.now()) {
    await delay(Math.min(KILL_POLL_MS, left));
    watched = watched.filter(isStillRunning);
    if (watched.length > 0) {
      continue;
    }
    // The ones we signalled are gone; look again for any that started meanwhile.
    found = findSessionProcesses(handle);
    if (found.processes.length === 0) {
      return;
    }
    signalSession(handle.pid, found, "SIGTERM");
    watched = found.processes;
  }
  const settleEnd = Date.now() + KILL_SETTLE_MS;
  for (;;) {
    found = findSessionProcesses(handle);
    if (found.processes.length === 0) {
      return;
    }
    if (Date.now() > settleEnd) {
      const pids = found.processes.map((p) => p.pid).join(", ");
      throw new Error(
        `session ${handle.name}: process(es) ${pids} survived SIGKILL for ${KILL_SETTLE_MS} ms; ` +
          "they are probably stuck in the kernel (state D); check them with `ps -o pid,stat,cmd`",
      );
    }
    signalSession(handle.pid, found, "SIGKILL");
    await delay(KILL_POLL_MS);
  }
}

function signalSession(groupId: number, found: SessionProcesses, signal: NodeJS.Signals): void {
  if (found.groupIsSession) {
    sendSignal(-groupId, signal);
  }
  for (const proc of found.processes) {
    sendSignal(proc.pid, signal);
  }
}

function sendSignal(target: number, signal: NodeJS.Signals): void {
  try {
    process.kill(target, signal);
  } catch {
    // ESRCH: it ended since we looked. EPERM: not ours to signal. Neither stops the kill.
  }
}

function isStillRunning(proc: ProcStat): boolean {
  const now = readProcStat(proc.pid);
  return now !== null && !isDeadState(now.state) && now.startTime === proc.startTime;
}
