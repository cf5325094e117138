import { join } from "node:path";

/** The files of a session directory, as laid out in `runtime.ts`. */
export interface SessionPaths {
  log: string;
  /** The wrapper's pid on the first line, then its program's exit on the second. */
  status: string;
  stdin: string;
  /**
   * tmux only: a FIFO the session's launcher blocks on until the runtime has connected the pane
   * to the log; removed once the program runs.
   */
  gate: string;
  /**
   * tmux only: created by the pane's log pipe once it has written the last byte to `log`, so a
   * reader knows the log is complete.
   */
  logClosed: string;
}

/**
 * The paths of the files in session directory `dir`. Pure: touches no file. Each path is made
 * when it is read: a check-in asks thousands of sessions for one path each.
 */
export function sessionPaths(dir: string): SessionPaths {
  return {
    get log() {
      return join(dir, "log");
    },
    get status() {
      return join(dir, "status");
    },
    get stdin() {
      return join(dir, "stdin");
    },
    get gate() {
      return join(dir, "gate");
    },
    get logClosed() {
      return join(dir, "log-closed");
    },
  };
}
