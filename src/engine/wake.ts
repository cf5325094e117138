/**
 * A cross-process wake-up: a CLI command that changes a pipeline (spawn, retry, abort) touches
 * a file in `BATON_HOME/wake`; engines that drive pipelines (`serve`, `run`) watch the
 * directory and react at once instead of at their next tick. The store stays the truth: a
 * missed wake-up only delays work until the periodic tick.
 */
import { mkdirSync, watch, writeFileSync, type FSWatcher } from "node:fs";
import { join } from "node:path";

export function notifyEngines(wakeDir: string, pipelineId: string): void {
  try {
    mkdirSync(wakeDir, { recursive: true });
    writeFileSync(join(wakeDir, pipelineId), String(Date.now()));
  } catch {
    // Best effort: engines also tick periodically.
  }
}

/** Calls `onWake(pipelineId)` for every touch; returns the function that stops watching. */
export function watchWakeups(wakeDir: string, onWake: (pipelineId: string) => void): () => void {
  mkdirSync(wakeDir, { recursive: true });
  let watcher: FSWatcher | undefined = watch(wakeDir, (_event, file) => {
    if (file !== null) {
      onWake(file.toString());
    }
  });
  watcher.on("error", () => {
    // A watcher can fail on exotic filesystems; the periodic tick still runs.
  });
  watcher.unref();
  return () => {
    watcher?.close();
    watcher = undefined;
  };
}
