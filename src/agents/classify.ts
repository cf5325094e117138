/**
 * The failure classes every adapter falls back to: read from the exit code and the words an
 * agent CLI or the API behind it prints. Pure.
 */
import type { FailureInput, FailureVerdict } from "./adapter.js";

const RATE_LIMIT =
  /\b(429|rate[ _-]?limit(ed)?|too many requests|usage limit|quota exceeded|overloaded_error)\b/i;
const AUTH =
  /\b(401|403|unauthori[sz]ed|forbidden|invalid (x-)?api[ _-]?key|authentication[ _]error|not logged in|please log ?in)\b/i;
const TRANSIENT =
  /\b(5\d\d|ECONNRESET|ECONNREFUSED|ETIMEDOUT|EAI_AGAIN|socket hang up|network error|service unavailable|internal server error|overloaded|temporarily unavailable)\b/i;

/** When a rate limit resets, from a `retry-after` style number or an epoch in the text. */
export function parseResetAt(text: string, now: number): number | null {
  const epoch =
    /\b(?:reset(?:s|_at)?|until)\D{0,12}(\d{10})(\d{3})?\b/i.exec(text) ??
    /\|(\d{10})\b/.exec(text);
  if (epoch?.[1] !== undefined) {
    return Number(epoch[1]) * 1000;
  }
  const after =
    /\b(?:retry[- ]after|try again in)\D{0,6}(\d+(?:\.\d+)?)\s*(ms|milliseconds?|s|sec|seconds?|m|min|minutes?|h|hours?)?\b/i.exec(
      text,
    );
  if (after?.[1] !== undefined) {
    const amount = Number(after[1]);
    const unit = (after[2] ?? "s").toLowerCase();
    const ms =
      unit.startsWith("ms") || unit.startsWith("milli")
        ? 1
        : unit.startsWith("h")
          ? 3_600_000
          : unit.startsWith("m")
            ? 60_000
            : 1000;
    return now + Math.round(amount * ms);
  }
  return null;
}

/** Classifies a failure from its exit and output when the agent's events say nothing better. */
export function classifyFromOutput(input: FailureInput): FailureVerdict {
  const text = input.outputTail;
  const last = text.trimEnd().split("\n").at(-1)?.slice(0, 300) ?? "";
  if (RATE_LIMIT.test(text)) {
    return {
      errorClass: "rate_limit",
      message: `rate limited: ${last}`,
      resetAt: parseResetAt(text, input.now),
    };
  }
  if (AUTH.test(text)) {
    return { errorClass: "auth", message: `authentication failed: ${last}`, resetAt: null };
  }
  if (input.exitCode === 127 || input.exitCode === 126) {
    return {
      errorClass: "permanent",
      message: `the agent's program could not run (exit ${input.exitCode}): ${last}`,
      resetAt: null,
    };
  }
  if (TRANSIENT.test(text)) {
    return { errorClass: "transient", message: `transient failure: ${last}`, resetAt: null };
  }
  const how =
    input.signal !== null
      ? `was killed by ${input.signal}`
      : `exited with code ${input.exitCode ?? "?"}`;
  return {
    errorClass: "permanent",
    message: `${how}${last === "" ? "" : `: ${last}`}`,
    resetAt: null,
  };
}
