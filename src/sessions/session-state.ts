/** The state of a session as far as its runtime can tell from the outside. */
export type ObservedSessionState = "exited" | "human_input" | "idle" | "active" | "gone";

export interface SessionStateInput {
  /** The wrapper's exit record exists (and, for tmux, the log is complete). */
  exit: boolean;
  /** The session's process is running (see `Observation.alive`). */
  alive: boolean;
  /** Last time the session wrote output (log mtime, ms); `null` if it never did. */
  lastOutputAt: number | null;
  /** Last time the agent itself said it waits for input (e.g. a turn-end event), or `null`. */
  agentIdleAt: number | null;
  /** Last time the agent itself said it is working (e.g. a turn start, a tool call), or `null`. */
  agentActiveAt: number | null;
  /** A client (a person) is attached to the session. */
  humanAttached: boolean;
  /** Last keyboard or mouse activity of an attached client (ms), or `null`. */
  humanActiveAt: number | null;
  now: number;
  /** Silence after which a session with no agent signals counts as idle. */
  quietMs: number;
  /** How recent an attached client's activity must be to count as a person typing. */
  humanActiveMs: number;
}

/**
 * Classifies a session, first match wins:
 *
 * 1. `exited`: the wrapper recorded how the program ended;
 * 2. `gone`: no process and no record (killed with its wrapper, machine restarted);
 * 3. `human_input`: an attached client was active within `humanActiveMs`;
 * 4. `idle`: the agent signalled idle more recently than it signalled activity; or, when the
 *    agent gave no signal at all, its output has been quiet for at least `quietMs` (a session
 *    that never wrote anything is not called idle: there is no quiet period to measure);
 * 5. `active` otherwise.
 *
 * Pure: reads no clock and does no I/O.
 *
 * @example
 * sessionState({ exit: false, alive: true, lastOutputAt: now - 90_000, agentIdleAt: null,
 *   agentActiveAt: null, humanAttached: false, humanActiveAt: null, now,
 *   quietMs: 60_000, humanActiveMs: 120_000 }); // "idle"
 */
export function sessionState(input: SessionStateInput): ObservedSessionState {
  if (input.exit) {
    return "exited";
  }
  if (!input.alive) {
    return "gone";
  }
  if (
    input.humanAttached &&
    input.humanActiveAt !== null &&
    input.now - input.humanActiveAt <= input.humanActiveMs
  ) {
    return "human_input";
  }
  if (input.agentIdleAt !== null || input.agentActiveAt !== null) {
    const idle =
      input.agentIdleAt !== null &&
      (input.agentActiveAt === null || input.agentIdleAt > input.agentActiveAt);
    return idle ? "idle" : "active";
  }
  if (input.lastOutputAt !== null && input.now - input.lastOutputAt >= input.quietMs) {
    return "idle";
  }
  return "active";
}
