import { isDeadState, readProcStat } from "./proc-stat.js";
import type { SessionHandle } from "./runtime.js";

/**
 * Whether the session's wrapper (the leader of its process group) is still running: its pid
 * exists, is not a zombie, and — when the handle knows it — has the same start time, so a pid
 * the OS reused for another process reads as not alive. Never throws.
 */
export function isSessionAlive(handle: Pick<SessionHandle, "pid" | "pidStartTime">): boolean {
  const stat = readProcStat(handle.pid);
  if (stat === null || isDeadState(stat.state)) {
    return false;
  }
  return handle.pidStartTime === null || stat.startTime === handle.pidStartTime;
}
