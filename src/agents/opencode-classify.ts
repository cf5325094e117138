/**
 * Failure classes from the session errors OpenCode reports (`{"type":"error","error":{name,
 * data}}` in `opencode run --format json`). Pure; `now` is passed in.
 *
 * OpenCode retries rate limits, overloads and server errors itself (`session.status` retry,
 * which `--format json` does not print), honouring `retry-after-ms` and `retry-after`; an
 * `error` event means it gave up, or that the error is not one it retries.
 */
import type { FailureClass, FailureVerdict } from "./adapter.js";
import { classifyFromOutput } from "./classify.js";
import type { OpenCodeError } from "./opencode-events.js";

/** Limits the shared words miss: OpenCode Zen's free tier, OpenAI's quota code. */
const RATE_LIMIT = /free usage exceeded|insufficient_quota|rate_limit|too_many_requests/i;

function fromStatus(status: number): FailureClass {
  if (status === 429) {
    return "rate_limit";
  }
  if (status === 401 || status === 403) {
    return "auth";
  }
  if (status === 408 || status === 409 || status >= 500) {
    return "transient";
  }
  return "permanent";
}

/** When a rate limit resets, from the response's `retry-after-ms` or `retry-after` header. */
function resetFromHeaders(headers: Readonly<Record<string, string>>, now: number): number | null {
  const lower = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const ms = Number(lower.get("retry-after-ms"));
  if (Number.isFinite(ms) && ms > 0) {
    return now + Math.round(ms);
  }
  const retryAfter = lower.get("retry-after");
  if (retryAfter === undefined) {
    return null;
  }
  const seconds = Number(retryAfter);
  if (Number.isFinite(seconds) && seconds >= 0) {
    return now + Math.round(seconds * 1000);
  }
  const date = Date.parse(retryAfter);
  return Number.isNaN(date) ? null : date;
}

const PREFIX: Record<FailureClass, string> = {
  rate_limit: "rate limited",
  auth: "authentication failed",
  transient: "transient failure",
  timeout: "timed out",
  permanent: "opencode failed",
};

/** Classifies one session error OpenCode reported. Never throws. */
export function classifyOpenCodeError(error: OpenCodeError, now: number): FailureVerdict {
  const { data } = error;
  const text = [data.message ?? "", data.responseBody ?? ""].join("\n").trim();
  const message = `${error.name}: ${(data.message ?? "").slice(0, 500)}`.replace(/: $/, "");
  let errorClass: FailureClass;
  let resetAt: number | null = null;
  switch (error.name) {
    case "ProviderAuthError":
      errorClass = "auth";
      break;
    case "MessageOutputLengthError":
    case "MessageAbortedError":
    case "ContextOverflowError":
      errorClass = "permanent";
      break;
    default: {
      const shared = classifyFromOutput({
        exitCode: null,
        signal: null,
        outputTail: text,
        events: [],
        now,
      });
      errorClass =
        data.statusCode !== undefined
          ? fromStatus(data.statusCode)
          : RATE_LIMIT.test(text)
            ? "rate_limit"
            : shared.errorClass === "permanent" && data.isRetryable === true
              ? // An error OpenCode itself would retry, that it gave up on.
                "transient"
              : shared.errorClass;
      resetAt = errorClass === "rate_limit" ? shared.resetAt : null;
    }
  }
  if (errorClass === "rate_limit" && data.responseHeaders !== undefined) {
    resetAt = resetFromHeaders(data.responseHeaders, now) ?? resetAt;
  }
  return { errorClass, message: `${PREFIX[errorClass]}: ${message}`, resetAt };
}
