import { watch, type FSWatcher } from "node:fs";
import { makeAbortError } from "./abort-error.js";
import { readExitRecord } from "./exit-record.js";
import { isSessionAlive } from "./is-session-alive.js";
import type { ExitRecord, SessionHandle } from "./runtime.js";

/**
 * Waits for a session this process did not start (or no longer tracks): watches the session
 * directory for the exit record, and polls every `pollIntervalMs` whether the wrapper still
 * runs (pid plus start time). Once it is gone, the exit record is read one last time: present,
 * it is the result; absent, the session vanished without one and the result is `null`.
 * Rejects with an `AbortError` when `signal` aborts. Every path closes the watcher, clears the
 * timer and removes the abort listener.
 */
export function waitForAdoptedExit(
  handle: Pick<SessionHandle, "name" | "dir" | "pid" | "pidStartTime">,
  signal: AbortSignal,
  pollIntervalMs: number,
): Promise<ExitRecord | null> {
  const abortMessage = `waiting for session ${handle.name} to exit was aborted`;
  if (signal.aborted) {
    return Promise.reject(makeAbortError(abortMessage, signal));
  }
  const early = checkEnded(handle);
  if (early !== undefined) {
    return Promise.resolve(early);
  }
  return new Promise<ExitRecord | null>((resolve, reject) => {
    let watcher: FSWatcher | undefined;
    let done = false;
    const cleanup = (): void => {
      done = true;
      watcher?.close();
      clearInterval(timer);
      signal.removeEventListener("abort", onAbort);
    };
    const settle = (result: ExitRecord | null | undefined): void => {
      if (result !== undefined && !done) {
        cleanup();
        resolve(result);
      }
    };
    const onAbort = (): void => {
      cleanup();
      reject(makeAbortError(abortMessage, signal));
    };
    const timer = setInterval(() => settle(checkEnded(handle)), pollIntervalMs);
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      watcher = watch(handle.dir, (_event, filename) => {
        if (filename === null || filename === "status") {
          settle(readExitRecord(handle.dir) ?? undefined);
        }
      });
      watcher.on("error", () => {
        // The directory went away or inotify failed: the liveness poll still ends the wait.
        watcher?.close();
        watcher = undefined;
      });
    } catch {
      // Same as above (e.g. inotify watch limit reached): polling alone is slower but correct.
      watcher = undefined;
    }
    // The record may have landed between the first check and the watch.
    settle(checkEnded(handle));
  });
}

/** The final result if the session has ended, `undefined` while it runs. */
function checkEnded(
  handle: Pick<SessionHandle, "dir" | "pid" | "pidStartTime">,
): ExitRecord | null | undefined {
  const record = readExitRecord(handle.dir);
  if (record !== null) {
    return record;
  }
  if (isSessionAlive(handle)) {
    return undefined;
  }
  // Gone: the wrapper writes the record before it exits, so a last read settles it.
  return readExitRecord(handle.dir);
}
