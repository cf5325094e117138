/**
 * Failure classes from the errors Gemini CLI reports: the `error` of a failed `result` event
 * (`{type, message}`: the error's class name and its message as `parseAndFormatApiError`
 * words it), and the retry notices it prints on stderr. Pure; `now` is passed in.
 *
 * What Gemini CLI says, by cause:
 *   quota / rate limit (429)  "[API Error: … \"code\": 429 … \"status\": \"RESOURCE_EXHAUSTED\" …]",
 *                             "You have exhausted your capacity on this model. Your quota will
 *                             reset after 16h39m3s.", "… Please retry in 27.5s."
 *   key or login rejected     FatalAuthenticationError (exit 41), "API key not valid",
 *                             "UNAUTHENTICATED", "PERMISSION_DENIED"
 *   server (5xx)              "\"status\": \"UNAVAILABLE\"", "INTERNAL", "overloaded"
 *   network                   "fetch failed", ECONNRESET, ETIMEDOUT
 *   bad input, turn limit     FatalInputError (42), FatalTurnLimitedError (53)
 */
import type { FailureClass, FailureVerdict } from "./adapter.js";
import { parseResetAt } from "./classify.js";

const RATE_LIMIT =
  /\b429\b|RESOURCE_EXHAUSTED|quota|rate[ _-]?limit|too many requests|exhausted your capacity/i;
const AUTH =
  /\b40[13]\b|UNAUTHENTICATED|PERMISSION_DENIED|api[ _-]?key not valid|invalid api[ _-]?key|authenticat|GEMINI_API_KEY|log ?in required/i;
const TRANSIENT =
  /\b5\d\d\b|\b(UNAVAILABLE|INTERNAL|DEADLINE_EXCEEDED)\b|overloaded|fetch failed|ECONNRESET|ECONNREFUSED|ETIMEDOUT|EAI_AGAIN|socket hang up|network error/;

/** Error class names of Gemini CLI's fatal errors, by failure class. */
const FATAL: Readonly<Record<string, FailureClass>> = {
  FatalAuthenticationError: "auth",
  FatalInputError: "permanent",
  FatalSandboxError: "permanent",
  FatalConfigError: "permanent",
  FatalTurnLimitedError: "permanent",
  FatalToolExecutionError: "permanent",
  FatalCancellationError: "permanent",
};

/** The failure class of Gemini CLI's exit codes for its fatal errors (`FatalError.exitCode`). */
export const GEMINI_EXIT_CODES: Readonly<Record<number, FailureClass>> = {
  41: "auth",
  42: "permanent",
  44: "permanent",
  52: "permanent",
  53: "permanent",
  54: "permanent",
};

const UNITS_MS: Readonly<Record<string, number>> = { h: 3_600_000, m: 60_000, s: 1000 };

/** `16h39m3s`, `5s`, `27.5s` → milliseconds; `null` when nothing is there. */
function durationMs(text: string): number | null {
  let total = 0;
  let found = false;
  for (const [, amount, unit] of text.matchAll(/(\d+(?:\.\d+)?)([hms])/g)) {
    total += Number(amount) * (UNITS_MS[unit ?? "s"] ?? 1000);
    found = true;
  }
  return found ? Math.round(total) : null;
}

/**
 * When a Gemini quota or rate limit resets: "reset after 16h39m3s", "retry in 27.5s", a
 * `retryDelay` of the API's RetryInfo (`"retryDelay": "27s"`, escaped or not), else the
 * shared forms. `null` when the text gives none.
 */
export function parseGeminiResetAt(text: string, now: number): number | null {
  const forms = [
    /reset after ((?:\d+(?:\.\d+)?[hms])+)/i,
    /retry in ((?:\d+(?:\.\d+)?[hms])+)/i,
    /retryDelay\\*"\s*:\s*\\*"((?:\d+(?:\.\d+)?[hms])+)/,
  ];
  for (const form of forms) {
    const match = form.exec(text);
    const ms = match?.[1] === undefined ? null : durationMs(match[1]);
    if (ms !== null) {
      return now + ms;
    }
  }
  return parseResetAt(text, now);
}

const PREFIX: Record<FailureClass, string> = {
  rate_limit: "rate limited",
  auth: "authentication failed",
  transient: "transient failure",
  timeout: "timed out",
  permanent: "gemini failed",
};

/**
 * Classifies one error Gemini CLI reported: by its error class name when that is one of its
 * fatal errors, else by its words. Never throws.
 */
export function classifyGeminiError(
  type: string | null,
  message: string,
  now: number,
): FailureVerdict {
  const text = message.trim();
  const errorClass: FailureClass =
    (type === null ? undefined : FATAL[type]) ??
    (RATE_LIMIT.test(text)
      ? "rate_limit"
      : AUTH.test(text)
        ? "auth"
        : TRANSIENT.test(text)
          ? "transient"
          : "permanent");
  const what = type === null || type === "Error" ? text : `${type}: ${text}`;
  return {
    errorClass,
    message: `${PREFIX[errorClass]}: ${what.slice(0, 500)}`,
    resetAt: errorClass === "rate_limit" ? parseGeminiResetAt(text, now) : null,
  };
}
