/**
 * The `tmux` runtime: one tmux session per job on Baton's own tmux server (`tmux -L <socket>`),
 * so a person can `attach` and watch or take over, while Baton never lists, touches or kills a
 * user's own tmux sessions. The pane runs the same wrapper as the `process` runtime (status file
 * with pid and exit, TERM-trapping), behind a launcher that fixes the environment and waits for the
 * log (see `tmux-launch.ts`); `pipe-pane` copies everything the terminal shows to `<dir>/log`.
 *
 * A session's life: `starting` (tmux session created, launcher blocked on the gate FIFO, pane
 * connected to the log) → `running` (gate opened: the wrapper runs the program) → `exited` (the
 * wrapper appended the exit to `status`; the pane closes with the program, as `remain-on-exit`
 * is off) → `complete` (the log pipe drained and created `log-closed`). `waitForExit` and `observe` report
 * the exit only once the log is complete, so whoever reads the log after an exit reads all of
 * it; until then the session counts as alive.
 *
 * Instances keep no per-session state: everything comes from the handle, the session directory,
 * `/proc` and the tmux server, so any instance adopts sessions another one started.
 */
import { MINUTE } from "../core/duration.js";
import { readExitRecord } from "./exit-record.js";
import { isSessionAlive } from "./is-session-alive.js";
import { killSession } from "./kill-session.js";
import { isLogComplete, waitForLogComplete } from "./log-closed.js";
import { NO_OUTPUT, readLastLines, readLogActivity } from "./log-tail.js";
import { readProcStat } from "./proc-stat.js";
import type {
  ExitRecord,
  Observation,
  ObserveOptions,
  Runtime,
  SessionHandle,
  SessionSpec,
  SteerResult,
} from "./runtime.js";
import { findSessionProcesses } from "./session-processes.js";
import { sessionState, type ObservedSessionState } from "./session-state.js";
import {
  classifyTmuxFailure,
  createTmuxClient,
  tmuxError,
  type TmuxClient,
} from "./tmux-command.js";
import {
  capturePane,
  lastPaneLines,
  listAttachedClients,
  paneTarget,
  sessionTarget,
} from "./tmux-session-query.js";
import { startTmuxSession, TMUX_SESSION_NAME } from "./tmux-start.js";
import { readsFifo, steerFifo } from "./steer-fifo.js";
import { steerTmuxSession } from "./tmux-steer.js";
import { waitForAdoptedExit } from "./wait-for-adopted-exit.js";

const DEFAULT_POLL_INTERVAL_MS = 500;
const MIN_POLL_INTERVAL_MS = 10;
const DEFAULT_QUIET_MS = MINUTE;
const DEFAULT_HUMAN_ACTIVE_MS = 2 * MINUTE;
/** Grace between SIGTERM and SIGKILL for `killByName`, which has no caller-given grace. */
const KILL_BY_NAME_GRACE_MS = 2_000;

export interface TmuxRuntimeOptions {
  /** Name of Baton's tmux server socket (`tmux -L <socket>`): letters, digits, `.`, `_`, `-`. */
  socket: string;
  /** Silence after which a session without agent signals counts as idle; default 1 minute. */
  quietMs?: number;
  /** How recent an attached client's activity must be to count as typing; default 2 minutes. */
  humanActiveMs?: number;
  /** How often a waited-for session's liveness is checked; default 500 ms, at least 10 ms. */
  pollIntervalMs?: number;
}

/** Agent-reported activity that refines `TmuxRuntime.state`; both `null` when unknown. */
export interface AgentSignals {
  idleAt: number | null;
  activeAt: number | null;
}

/** The `tmux` runtime, plus a state reading that uses its quiet and human-activity windows. */
export interface TmuxRuntime extends Runtime {
  readonly name: "tmux";
  /** The tmux socket name of Baton's server. */
  readonly socket: string;
  /** `["tmux", "-L", socket, "attach-session", "-t", "=<name>"]`. */
  attachCommand(handle: SessionHandle): string[];
  /** Names of every session on Baton's tmux server; `[]` when no server runs. */
  listLive(): Promise<string[]>;
  /**
   * Kills session `name` on Baton's server: its processes as `kill` does (SIGTERM, SIGKILL after
   * 2 s), then the tmux session. Does nothing for a name with no session.
   */
  killByName(name: string): Promise<void>;
  /**
   * Observes the session and classifies it with `sessionState`, using this runtime's `quietMs`
   * and `humanActiveMs`. Never throws for a session that is gone.
   */
  state(handle: SessionHandle, agent?: AgentSignals, now?: number): Promise<ObservedSessionState>;
}

/**
 * Creates a `tmux` runtime on Baton's tmux server `socket`. Every tmux command it runs carries
 * `-L <socket>` (and `-f /dev/null`, so the server Baton starts ignores `~/.tmux.conf`).
 * Throws `InternalError` for an invalid socket name.
 *
 * @example
 * const runtime = createTmuxRuntime({ socket: "baton" });
 * const handle = await runtime.start({ name, dir, argv: ["claude"], cwd, env, stdin: { kind: "null" } });
 * // a person: tmux -L baton attach-session -t =<name>
 */
export function createTmuxRuntime(options: TmuxRuntimeOptions): TmuxRuntime {
  return new TmuxRuntimeImpl(
    createTmuxClient(options.socket),
    Object.freeze({
      quietMs: options.quietMs ?? DEFAULT_QUIET_MS,
      humanActiveMs: options.humanActiveMs ?? DEFAULT_HUMAN_ACTIVE_MS,
      pollIntervalMs: Math.max(
        MIN_POLL_INTERVAL_MS,
        options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS,
      ),
    }),
  );
}

interface Settings {
  quietMs: number;
  humanActiveMs: number;
  pollIntervalMs: number;
}

class TmuxRuntimeImpl implements TmuxRuntime {
  readonly name = "tmux" as const;
  readonly #tmux: TmuxClient;
  readonly #settings: Readonly<Settings>;

  constructor(tmux: TmuxClient, settings: Readonly<Settings>) {
    this.#tmux = tmux;
    this.#settings = settings;
  }

  get socket(): string {
    return this.#tmux.socket;
  }

  start(spec: SessionSpec): Promise<SessionHandle> {
    return startTmuxSession(this.#tmux, spec);
  }

  async waitForExit(handle: SessionHandle, signal: AbortSignal): Promise<ExitRecord | null> {
    const record = await waitForAdoptedExit(handle, signal, this.#settings.pollIntervalMs);
    await waitForLogComplete(handle.dir, record?.at ?? Date.now(), signal);
    return record;
  }

  async observe(handle: SessionHandle, options: ObserveOptions = {}): Promise<Observation> {
    // Even a quick look asks tmux who is attached: whether a person holds the session decides
    // what the engine may do with it.
    const clients = await listAttachedClients(this.#tmux, handle.name);
    const record = readExitRecord(handle.dir);
    const exit = record !== null && isLogComplete(handle.dir, record, Date.now()) ? record : null;
    const wrapperAlive = isSessionAlive(handle);
    // When tmux cannot answer, the wrapper alone says whether the session runs.
    const sessionExists = clients.kind === "error" ? wrapperAlive : clients.kind === "listed";
    const { lastOutputAt, logBytes } =
      options.outputTime === false ? NO_OUTPUT : readLogActivity(handle.logPath);
    const activity =
      clients.kind === "listed" ? clients.activityAt.filter((at): at is number => at !== null) : [];
    return {
      // An exit recorded while the log is still filling is not reported yet: still alive.
      alive: exit === null && (record !== null || (sessionExists && wrapperAlive)),
      exit,
      lastOutputAt,
      logBytes,
      human:
        clients.kind === "error"
          ? "error"
          : clients.kind === "listed" && clients.activityAt.length > 0
            ? "present"
            : "absent",
      humanActiveAt: activity.length === 0 ? null : Math.max(...activity),
    };
  }

  async state(
    handle: SessionHandle,
    agent: AgentSignals = { idleAt: null, activeAt: null },
    now: number = Date.now(),
  ): Promise<ObservedSessionState> {
    const seen = await this.observe(handle);
    return sessionState({
      exit: seen.exit !== null,
      alive: seen.alive,
      lastOutputAt: seen.lastOutputAt,
      agentIdleAt: agent.idleAt,
      agentActiveAt: agent.activeAt,
      humanAttached: seen.human === "present",
      humanActiveAt: seen.humanActiveAt,
      now,
      quietMs: this.#settings.quietMs,
      humanActiveMs: this.#settings.humanActiveMs,
    });
  }

  async kill(handle: SessionHandle, graceMs: number): Promise<void> {
    const running = findSessionProcesses(handle).processes.length > 0;
    await killSession(handle, graceMs);
    const hadTmuxSession = await this.#killTmuxSession(handle.name);
    if (running || hadTmuxSession) {
      // The pane's log pipe is a process of the session too: wait until it has finished.
      const record = readExitRecord(handle.dir);
      const never = new AbortController().signal;
      await waitForLogComplete(handle.dir, record?.at ?? Date.now(), never);
    }
  }

  /** Into the session's stdin FIFO where it reads one (a headless agent), else typed. */
  steer(handle: SessionHandle, message: string): Promise<SteerResult> {
    return readsFifo(handle)
      ? steerFifo(handle, message)
      : steerTmuxSession(this.#tmux, handle, message);
  }

  async peek(handle: SessionHandle, lines: number): Promise<string> {
    if (lines <= 0) {
      return "";
    }
    const screen = await capturePane(this.#tmux, handle.name, lines);
    if (screen !== null) {
      return lastPaneLines(screen, lines);
    }
    // The session is gone: its log holds what the terminal showed, with CRLF line ends.
    return (await readLastLines(handle.logPath, lines)).replace(/\r\n/g, "\n");
  }

  attachCommand(handle: SessionHandle): string[] {
    return ["tmux", "-L", this.#tmux.socket, "attach-session", "-t", sessionTarget(handle.name)];
  }

  async listLive(): Promise<string[]> {
    const result = await this.#tmux.run(["list-sessions", "-F", "#{session_name}"]);
    if (result.code === 0) {
      return result.stdout.split("\n").filter((line) => line !== "");
    }
    if (classifyTmuxFailure(result.stderr) === "no-server") {
      return [];
    }
    throw tmuxError(`listing the sessions on tmux socket ${this.#tmux.socket}`, result);
  }

  async killByName(name: string): Promise<void> {
    if (!TMUX_SESSION_NAME.test(name)) {
      return; // No session Baton started can have this name.
    }
    const result = await this.#tmux.run([
      "list-panes",
      "-s",
      "-t",
      paneTarget(name),
      "-F",
      "#{pane_pid}",
    ]);
    if (result.code !== 0) {
      if (classifyTmuxFailure(result.stderr) !== "other") {
        return;
      }
      throw tmuxError(`finding the processes of session ${name}`, result);
    }
    const pids = result.stdout
      .split("\n")
      .filter((line) => /^\d+$/.test(line))
      .map(Number);
    await Promise.all(
      pids.map((pid) =>
        killSession(
          { name, pid, pidStartTime: readProcStat(pid)?.startTime ?? null },
          KILL_BY_NAME_GRACE_MS,
        ),
      ),
    );
    await this.#killTmuxSession(name);
  }

  /**
   * `kill-session`; fine when the session or the whole server is already gone. Resolves whether
   * there was a session to kill.
   */
  async #killTmuxSession(name: string): Promise<boolean> {
    const result = await this.#tmux.run(["kill-session", "-t", sessionTarget(name)]);
    if (result.code !== 0 && classifyTmuxFailure(result.stderr) === "other") {
      throw tmuxError(`killing tmux session ${name}`, result);
    }
    return result.code === 0;
  }
}
