import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { FailureClass } from "./adapter.js";
import { classifyCodexMessage, parseCodexResetAt } from "./codex-classify.js";

// Codex prints reset times as local wall-clock times; pin the zone so the table is exact.
let savedTz: string | undefined;
beforeEach(() => {
  savedTz = process.env.TZ;
  process.env.TZ = "UTC";
});
afterEach(() => {
  if (savedTz === undefined) {
    delete process.env.TZ;
  } else {
    process.env.TZ = savedTz;
  }
});

const NOW = Date.UTC(2026, 10, 21, 7, 30, 15);

describe("classifyCodexMessage", () => {
  it.each<[string, FailureClass]>([
    ["exceeded retry limit, last status: 429 Too Many Requests", "rate_limit"],
    [
      "Reconnecting... 1/5 (exceeded retry limit, last status: 429 Too Many Requests)",
      "rate_limit",
    ],
    [
      "You’ve hit your usage limit. Upgrade to Plus to continue using Codex (https://x).",
      "rate_limit",
    ],
    ["Quota exceeded. Check your plan and billing details.", "rate_limit"],
    [
      "unexpected status 401 Unauthorized: Incorrect API key provided: sk-x., url: http://h/v1",
      "auth",
    ],
    ["unexpected status 403 Forbidden: nope", "auth"],
    ["Missing environment variable: `OPENAI_API_KEY`.", "auth"],
    [
      "To use Codex with your ChatGPT plan, upgrade to Plus: https://openai.com/chatgpt/pricing.",
      "auth",
    ],
    ["We’re currently experiencing high demand, which may cause temporary errors.", "transient"],
    ["exceeded retry limit, last status: 503 Service Unavailable", "transient"],
    ["stream disconnected before completion: error decoding response body", "transient"],
    ["Reconnecting... waiting for network (Connection failed: error sending request)", "transient"],
    ["Error while reading the server response: connection reset", "transient"],
    ["Invalid model gpt-nope", "permanent"],
    ["Codex ran out of room in the model's context window. Start a new conversation.", "permanent"],
  ])("%s → %s", (message, errorClass) => {
    expect(classifyCodexMessage(message, NOW).errorClass).toBe(errorClass);
  });

  it("keeps the message, prefixed with what it means", () => {
    expect(classifyCodexMessage("Invalid model gpt-nope", NOW)).toEqual({
      errorClass: "permanent",
      message: "codex failed: Invalid model gpt-nope",
      resetAt: null,
    });
  });
});

describe("parseCodexResetAt", () => {
  it.each<[string, number | null]>([
    ["… or try again at 9:28 AM.", Date.UTC(2026, 10, 21, 9, 28)],
    ["You’ve hit your usage limit. Try again at 12:05 PM.", Date.UTC(2026, 10, 21, 12, 5)],
    ["You’ve hit your usage limit. Try again at 12:05 AM.", Date.UTC(2026, 10, 22, 0, 5)],
    // Already past today: the clock crossed midnight since Codex printed it.
    ["Try again at 7:10 AM.", Date.UTC(2026, 10, 22, 7, 10)],
    // Within the minute Codex rounds to: still today.
    ["Try again at 7:30 AM.", Date.UTC(2026, 10, 21, 7, 30)],
    ["or try again at Nov 24th, 2026 7:28 AM.", Date.UTC(2026, 10, 24, 7, 28)],
    ["or try again at Dec 1st, 2026 11:00 PM.", Date.UTC(2026, 11, 1, 23, 0)],
    ["Please try again in 20s.", NOW + 20_000],
    ["exceeded retry limit, last status: 429 Too Many Requests", null],
    ["Try again later.", null],
  ])("%s", (message, expected) => {
    expect(parseCodexResetAt(message, NOW)).toBe(expected);
  });
});
