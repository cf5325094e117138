/**
 * The check-in decision tree for one live session (DESIGN §3, step 2), as a pure function of
 * the facts a runtime observed and the time.
 *
 * Session states: started → active ⇄ idle, active → steer → active, any → human_input while a
 * person types, any → exited when the wrapper recorded an exit code.
 */
import { MINUTE } from "./duration.js";

export const SESSION_STATES = [
  "started",
  "active",
  "idle",
  "exited",
  "human_input",
  "steer",
] as const;
export type SessionState = (typeof SESSION_STATES)[number];

/** What a runtime observed about a session, gathered by the engine before deciding. */
export interface SessionFacts {
  /** `unknown` when the runtime reported a state Baton does not know. */
  state: SessionState | "unknown";
  /** The session's record points at nothing: no process, no tmux session, no exit record. */
  orphaned: boolean;
  /** `error` when detection itself failed; then a human is assumed present. */
  human: "absent" | "present" | "error";
  startedAt: number;
  /** Last time the session wrote output; `null` if it never did. */
  lastOutputAt: number | null;
  /** Last time anyone steered it (Baton or a person); `null` if never. */
  steeredAt: number | null;
  /** When Baton sent it the wrap-up message at a limit; `null` if it has not. */
  wrapUpAt: number | null;
  /** Time a human held the session, which does not count against the timeouts. */
  humanMs: number;
}

export interface SessionLimits {
  timeoutMs: number;
  stallTimeoutMs: number;
  graceMs: number;
}

export type SessionVerdict =
  | { action: "skip"; reason: string }
  | { action: "advance"; reason: string }
  | { action: "clear"; reason: string }
  | { action: "steer"; reason: string; limit: "timeout" | "stall" }
  | { action: "kill"; reason: string; limit: "timeout" | "stall" };

/** A wrap-up steer is not repeated within this window. */
export const STEER_REPEAT_WINDOW_MS = 10 * MINUTE;

export const WRAP_UP_MESSAGE =
  "You have reached this stage's time limit. Wrap up now: commit or save your work, write a " +
  "short summary of what is done and what is left, and exit.";

/**
 * Decides what to do with one session. Never throws; never reads the clock.
 *
 * Order: orphaned → clear; human detection failed or a human attached → skip; exited or idle →
 * advance; a human typing → skip; working and within its limits → skip; past a limit → steer
 * once, skip while steered within the last 10 minutes, kill when the grace period after the
 * steer is over; any other state → skip.
 */
export function judgeSession(
  facts: SessionFacts,
  limits: SessionLimits,
  now: number,
): SessionVerdict {
  if (facts.orphaned) {
    return { action: "clear", reason: "session record points at nothing; clearing it" };
  }
  if (facts.human === "error") {
    return { action: "skip", reason: "human detection failed; assuming a human is present" };
  }
  if (facts.human === "present") {
    return { action: "skip", reason: "a human is attached to the session" };
  }
  switch (facts.state) {
    case "exited":
      return { action: "advance", reason: "session exited" };
    case "idle":
      return { action: "advance", reason: "session is idle" };
    case "human_input":
      return { action: "skip", reason: "a human is typing in the session" };
    case "started":
    case "active":
    case "steer":
      return judgeWorking(facts, limits, now);
    case "unknown":
      return { action: "skip", reason: "session state unknown; not interfering" };
  }
}

function judgeWorking(facts: SessionFacts, limits: SessionLimits, now: number): SessionVerdict {
  const timeoutAt = facts.startedAt + facts.humanMs + limits.timeoutMs;
  const stallAt =
    Math.max(facts.lastOutputAt ?? facts.startedAt, facts.startedAt) +
    facts.humanMs +
    limits.stallTimeoutMs;
  const limit: "timeout" | "stall" | null =
    now >= timeoutAt ? "timeout" : now >= stallAt ? "stall" : null;
  if (limit === null) {
    const left = Math.min(timeoutAt, stallAt) - now;
    return {
      action: "skip",
      reason: `session working, ${Math.ceil(left / 1000)}s before its limit`,
    };
  }
  const what = limit === "timeout" ? "timeout" : "stall timeout";
  if (facts.wrapUpAt !== null) {
    // Asked to wrap up and still past a limit: the grace period decides. (Its own echo of the
    // message, or a last word, does not buy it more time.)
    const since = now - facts.wrapUpAt;
    if (since >= limits.graceMs) {
      return {
        action: "kill",
        limit,
        reason: `past its ${what} and the grace period after the wrap-up steer`,
      };
    }
    return {
      action: "skip",
      reason: `past its ${what}; asked to wrap up ${Math.round(since / 1000)}s ago, waiting for it`,
    };
  }
  if (facts.steeredAt !== null && now - facts.steeredAt < STEER_REPEAT_WINDOW_MS) {
    return { action: "skip", reason: `past its ${what}; steered in the last 10 minutes` };
  }
  return { action: "steer", limit, reason: `past its ${what}; asking it to wrap up` };
}
