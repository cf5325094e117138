/**
 * A runtime runs a job's process as a session that outlives the engine: its output goes to a
 * log file, not a pipe, and a small wrapper records its exit code in the session directory.
 * Any engine can later adopt the session from its record (`SessionHandle`) and wait for it,
 * observe it, steer it or kill it.
 *
 * Session directory layout (all paths inside `SessionSpec.dir`):
 *   log    everything the process wrote to stdout and stderr, appended as written
 *   status the wrapper's pid on its first line, written before the program starts; when the
 *          program ends, its exit as a second line, `<code>` (the time is the file's mtime) or
 *          `<code> <epoch-ms>`, appended in one write; a line without its newline is not
 *          complete yet
 *   stdin  a FIFO, when the session takes steering messages on its stdin
 */

export const RUNTIME_NAMES = ["process", "tmux"] as const;
export type RuntimeName = (typeof RUNTIME_NAMES)[number];

export interface SessionSpec {
  /** Unique, readable: `baton-<project>-<task>-<stage>-<seq>`; letters, digits, `-`, `_`, `.`. */
  name: string;
  /** Absolute path of the session directory; created by `start` if missing. */
  dir: string;
  /** The program and its arguments. Never a shell string: argv[0] is executed directly. */
  argv: string[];
  cwd: string;
  /** The complete environment of the program; nothing is inherited beyond it. */
  env: Record<string, string>;
  /**
   * The program's stdin: a file (the prompt), a FIFO in the session directory that stays open
   * for steering messages, or nothing (`/dev/null`).
   */
  stdin: { kind: "file"; path: string } | { kind: "fifo" } | { kind: "null" };
}

/** What the store keeps of a session, enough for any engine to adopt it later. */
export interface SessionHandle {
  name: string;
  runtime: RuntimeName;
  dir: string;
  logPath: string;
  /** The wrapper's pid, which leads the session's process group. */
  pid: number;
  /** The process start time read from the OS, to tell a reused pid apart; `null` if unknown. */
  pidStartTime: string | null;
  startedAt: number;
}

export interface ExitRecord {
  /** The program's exit code; for a program killed by a signal, `null`, with `signal` set. */
  exitCode: number | null;
  signal: string | null;
  at: number;
}

export interface Observation {
  /** The session's process (group leader) is still running. */
  alive: boolean;
  /** The wrapper's exit record, if the program has ended. */
  exit: ExitRecord | null;
  /** Modification time of the log file, or `null` if nothing was written yet. */
  lastOutputAt: number | null;
  /** Size of the log file in bytes. */
  logBytes: number;
  /** Whether a human is attached (tmux); `absent` for the process runtime. */
  human: "absent" | "present" | "error";
  /** Last keyboard or mouse activity of an attached client (tmux), or `null`. */
  humanActiveAt: number | null;
}

export interface ObserveOptions {
  /** Skip the checks that cost most; see `Runtime.observe`. */
  quick?: boolean;
  /** Whether `lastOutputAt` is wanted (it costs a stat of the log). Default true. */
  outputTime?: boolean;
}

export type SteerResult = { delivered: true } | { delivered: false; reason: string };

export interface Runtime {
  readonly name: RuntimeName;
  /**
   * Starts the session and returns once the program is running and its pid is known.
   * Throws `ProcessExitError` when the program cannot be started at all.
   */
  start(spec: SessionSpec): Promise<SessionHandle>;
  /**
   * Resolves when the session ends, with its exit record, or `null` when it vanished without
   * one (killed with its wrapper, machine restarted). Works for sessions started by this process
   * and for adopted ones. Rejects with an `AbortError` if `signal` aborts first.
   */
  waitForExit(handle: SessionHandle, signal: AbortSignal): Promise<ExitRecord | null>;
  /**
   * Looks at the session now. Never throws for a session that is gone. With `quick`, a runtime
   * may answer from cheaper checks (pid existence rather than its start time, no log mtime);
   * callers use it only where nothing would be done with a stale answer.
   */
  observe(handle: SessionHandle, options?: ObserveOptions): Promise<Observation>;
  /**
   * Stops the whole session: SIGTERM to its process group, then SIGKILL after `graceMs`.
   * Resolves when no process of the session is left. Safe to call on a session that ended.
   */
  kill(handle: SessionHandle, graceMs: number): Promise<void>;
  /** Delivers a message to the running program, if this session has a way to take one. */
  steer(handle: SessionHandle, message: string): Promise<SteerResult>;
  /** The last `lines` lines of the session's output. */
  peek(handle: SessionHandle, lines: number): Promise<string>;
  /** The argv that attaches the user's terminal to the session, where the runtime allows it. */
  attachCommand?(handle: SessionHandle): string[];
  /**
   * Names of the live sessions this runtime can see that Baton started (tmux: every session on
   * Baton's own socket), so records and reality can be compared both ways.
   */
  listLive?(): Promise<string[]>;
  /** Ends a live session known only by name (one with no record). */
  killByName?(name: string): Promise<void>;
  /** Releases what the runtime holds (helper processes); sessions keep running. */
  close?(): Promise<void>;
}
