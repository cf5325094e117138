import { existsSync } from "node:fs";
import { setTimeout as delay } from "node:timers/promises";
import { makeAbortError } from "./abort-error.js";
import type { ExitRecord } from "./runtime.js";
import { sessionPaths } from "./session-paths.js";

/**
 * How long after a tmux session's exit record its log may still be filling: the pane closes
 * once tmux has read everything the program wrote, then the log pipe drains into the file and
 * marks it closed, which takes milliseconds. Past this, the log is taken as complete even
 * without the mark (the pipe was killed, or the directory was tampered with).
 */
export const LOG_CLOSE_WAIT_MS = 5_000;
const LOG_CLOSE_POLL_MS = 5;

/**
 * Whether a tmux session's log holds everything it will ever hold: the log pipe marked it
 * closed, or `record` (the session's exit) is older than `LOG_CLOSE_WAIT_MS`. Never throws.
 */
export function isLogComplete(dir: string, record: ExitRecord | null, now: number): boolean {
  if (existsSync(sessionPaths(dir).logClosed)) {
    return true;
  }
  return record !== null && now >= record.at + LOG_CLOSE_WAIT_MS;
}

/**
 * Waits until the log of the tmux session in `dir` is complete (see `isLogComplete`), at most
 * until `LOG_CLOSE_WAIT_MS` after `since` (the exit time, or when the wait began). Resolves
 * `true` when the log pipe marked the log closed, `false` at the deadline. Rejects with an
 * `AbortError` when `signal` aborts. Polls every 5 ms: the wait is short and ends the session.
 */
export async function waitForLogComplete(
  dir: string,
  since: number,
  signal: AbortSignal,
): Promise<boolean> {
  const closed = sessionPaths(dir).logClosed;
  const deadline = since + LOG_CLOSE_WAIT_MS;
  for (;;) {
    if (existsSync(closed)) {
      return true;
    }
    if (Date.now() >= deadline) {
      return false;
    }
    try {
      await delay(LOG_CLOSE_POLL_MS, undefined, { signal });
    } catch {
      // Only an abort rejects the delay.
      throw makeAbortError(`waiting for the log in ${dir} to be complete was aborted`, signal);
    }
  }
}
