import { describe, expect, it } from "vitest";
import { MINUTE, SECOND } from "./duration.js";
import { judgeSession, type SessionFacts, type SessionVerdict } from "./session-policy.js";

const T0 = 1_800_000_000_000;
const limits = { timeoutMs: 30 * MINUTE, stallTimeoutMs: 10 * MINUTE, graceMs: 2 * MINUTE };

function facts(over: Partial<SessionFacts>): SessionFacts {
  return {
    state: "active",
    orphaned: false,
    human: "absent",
    startedAt: T0,
    lastOutputAt: T0,
    steeredAt: null,
    wrapUpAt: null,
    humanMs: 0,
    ...over,
  };
}

const cases: {
  name: string;
  facts: Partial<SessionFacts>;
  at: number;
  expect: Partial<SessionVerdict>;
}[] = [
  {
    name: "orphaned record → clear, then advance",
    facts: { orphaned: true },
    at: T0,
    expect: { action: "clear" },
  },
  {
    name: "human detection failed → skip",
    facts: { human: "error" },
    at: T0,
    expect: { action: "skip", reason: "human detection failed; assuming a human is present" },
  },
  {
    name: "human attached → skip",
    facts: { human: "present", state: "exited" },
    at: T0,
    expect: { action: "skip", reason: "a human is attached to the session" },
  },
  {
    name: "exited → advance",
    facts: { state: "exited" },
    at: T0,
    expect: { action: "advance", reason: "session exited" },
  },
  {
    name: "idle → advance",
    facts: { state: "idle" },
    at: T0,
    expect: { action: "advance", reason: "session is idle" },
  },
  {
    name: "human typing → skip",
    facts: { state: "human_input" },
    at: T0,
    expect: { action: "skip", reason: "a human is typing in the session" },
  },
  {
    name: "unknown state → skip",
    facts: { state: "unknown" },
    at: T0,
    expect: { action: "skip", reason: "session state unknown; not interfering" },
  },
  {
    name: "started, within timeout → skip",
    facts: { state: "started" },
    at: T0 + MINUTE,
    expect: { action: "skip" },
  },
  {
    name: "active, within timeout → skip",
    facts: { lastOutputAt: T0 + 25 * MINUTE },
    at: T0 + 29 * MINUTE,
    expect: { action: "skip" },
  },
  {
    name: "steer state, within timeout → skip",
    facts: { state: "steer" },
    at: T0 + MINUTE,
    expect: { action: "skip" },
  },
  {
    name: "past timeout, never steered → steer",
    facts: { lastOutputAt: T0 + 29 * MINUTE },
    at: T0 + 30 * MINUTE,
    expect: { action: "steer", limit: "timeout" },
  },
  {
    name: "past timeout, asked to wrap up 1 minute ago → skip",
    facts: {
      lastOutputAt: T0 + 30 * MINUTE,
      steeredAt: T0 + 30 * MINUTE,
      wrapUpAt: T0 + 30 * MINUTE,
    },
    at: T0 + 31 * MINUTE,
    expect: { action: "skip" },
  },
  {
    name: "past timeout, steered before the limit within 10 minutes → skip",
    facts: { lastOutputAt: T0 + 29 * MINUTE, steeredAt: T0 + 25 * MINUTE },
    at: T0 + 30 * MINUTE,
    expect: { action: "skip", reason: "past its timeout; steered in the last 10 minutes" },
  },
  {
    name: "past timeout, steered before the limit over 10 minutes ago → steer",
    facts: { lastOutputAt: T0 + 35 * MINUTE, steeredAt: T0 + 20 * MINUTE },
    at: T0 + 31 * MINUTE,
    expect: { action: "steer" },
  },
  {
    name: "past timeout and the grace after the wrap-up steer → kill",
    facts: {
      lastOutputAt: T0 + 31 * MINUTE,
      steeredAt: T0 + 30 * MINUTE,
      wrapUpAt: T0 + 30 * MINUTE,
    },
    at: T0 + 32 * MINUTE,
    expect: { action: "kill", limit: "timeout" },
  },
  {
    name: "silent past the stall timeout → steer (stall)",
    facts: { lastOutputAt: T0 },
    at: T0 + 10 * MINUTE,
    expect: { action: "steer", limit: "stall" },
  },
  {
    name: "never wrote output, past stall timeout → steer",
    facts: { lastOutputAt: null },
    at: T0 + 10 * MINUTE + SECOND,
    expect: { action: "steer", limit: "stall" },
  },
  {
    name: "stalled and asked to wrap up, grace over → kill (stall)",
    facts: { lastOutputAt: T0, steeredAt: T0 + 10 * MINUTE, wrapUpAt: T0 + 10 * MINUTE },
    at: T0 + 12 * MINUTE,
    expect: { action: "kill", limit: "stall" },
  },
  {
    name: "asked to wrap up at a stall, its echo resets the stall clock: still killed after the grace",
    facts: {
      lastOutputAt: T0 + 10 * MINUTE + SECOND,
      steeredAt: T0 + 10 * MINUTE,
      wrapUpAt: T0 + 10 * MINUTE,
    },
    at: T0 + 21 * MINUTE,
    expect: { action: "kill", limit: "stall" },
  },
  {
    name: "asked to wrap up, then working again within its limits → skip",
    facts: {
      lastOutputAt: T0 + 14 * MINUTE,
      steeredAt: T0 + 10 * MINUTE,
      wrapUpAt: T0 + 10 * MINUTE,
    },
    at: T0 + 15 * MINUTE,
    expect: { action: "skip" },
  },
  {
    name: "time a human held it does not count",
    facts: { humanMs: 20 * MINUTE, lastOutputAt: T0 + 40 * MINUTE },
    at: T0 + 45 * MINUTE,
    expect: { action: "skip" },
  },
];

describe("judgeSession: the check-in tree for one session", () => {
  it.each(cases)("$name", ({ facts: over, at, expect: expected }) => {
    expect(judgeSession(facts(over), limits, at)).toMatchObject(expected);
  });
});
