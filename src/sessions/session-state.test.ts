import { describe, expect, it } from "vitest";
import { sessionState, type SessionStateInput } from "./session-state.js";

const NOW = 1_700_000_000_000;
const QUIET_MS = 60_000;
const HUMAN_ACTIVE_MS = 120_000;

/** A live, recently writing session with no agent signals and nobody attached. */
function input(overrides: Partial<SessionStateInput>): SessionStateInput {
  return {
    exit: false,
    alive: true,
    lastOutputAt: NOW - 1_000,
    agentIdleAt: null,
    agentActiveAt: null,
    humanAttached: false,
    humanActiveAt: null,
    now: NOW,
    quietMs: QUIET_MS,
    humanActiveMs: HUMAN_ACTIVE_MS,
    ...overrides,
  };
}

describe("sessionState", () => {
  it.each<[string, Partial<SessionStateInput>, ReturnType<typeof sessionState>]>([
    ["writing output", {}, "active"],
    ["an exit record", { exit: true, alive: false }, "exited"],
    ["an exit record while the log is still being closed", { exit: true, alive: true }, "exited"],
    [
      "an exit record beats a typing human",
      { exit: true, humanAttached: true, humanActiveAt: NOW },
      "exited",
    ],
    ["no process and no record", { alive: false }, "gone"],
    [
      "no process, even with a human attached",
      { alive: false, humanAttached: true, humanActiveAt: NOW },
      "gone",
    ],
    ["an attached client typing now", { humanAttached: true, humanActiveAt: NOW }, "human_input"],
    [
      "an attached client active exactly humanActiveMs ago",
      { humanAttached: true, humanActiveAt: NOW - HUMAN_ACTIVE_MS },
      "human_input",
    ],
    [
      "an attached client quiet for longer",
      { humanAttached: true, humanActiveAt: NOW - HUMAN_ACTIVE_MS - 1 },
      "active",
    ],
    [
      "an attached client with unknown activity",
      { humanAttached: true, humanActiveAt: null },
      "active",
    ],
    [
      "recent activity of a client that detached",
      { humanAttached: false, humanActiveAt: NOW },
      "active",
    ],
    [
      "a typing human beats an idle agent",
      { humanAttached: true, humanActiveAt: NOW, agentIdleAt: NOW },
      "human_input",
    ],
    [
      "agent idle after its last activity",
      { agentActiveAt: NOW - 5_000, agentIdleAt: NOW - 1_000 },
      "idle",
    ],
    ["agent idle, never active", { agentIdleAt: NOW - 1_000 }, "idle"],
    [
      "agent active after its last idle",
      { agentIdleAt: NOW - 5_000, agentActiveAt: NOW - 1_000 },
      "active",
    ],
    [
      "agent idle and active at the same time",
      { agentIdleAt: NOW - 1_000, agentActiveAt: NOW - 1_000 },
      "active",
    ],
    [
      "agent active although the output is quiet",
      { agentActiveAt: NOW - 600_000, lastOutputAt: NOW - 600_000 },
      "active",
    ],
    [
      "agent idle although output is recent",
      { agentIdleAt: NOW - 2_000, lastOutputAt: NOW },
      "idle",
    ],
    ["no agent signal, quiet for quietMs", { lastOutputAt: NOW - QUIET_MS }, "idle"],
    [
      "no agent signal, quiet for less than quietMs",
      { lastOutputAt: NOW - QUIET_MS + 1 },
      "active",
    ],
    ["no agent signal and no output yet", { lastOutputAt: null }, "active"],
  ])("%s", (_what, overrides, expected) => {
    expect(sessionState(input(overrides))).toBe(expected);
  });
});
