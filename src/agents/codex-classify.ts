/**
 * Failure classes from the error messages Codex prints (`{"type":"error"}` and `turn.failed`
 * in `codex exec --json`), as codex-cli 0.169.0 words them. Pure; `now` is passed in.
 *
 * What Codex says, by cause:
 *   API rate limit (429)     "exceeded retry limit, last status: 429 Too Many Requests" — the
 *                            server's body and `retry-after` are not printed, so no reset time
 *   plan usage limit (429)   "You’ve hit your usage limit. … try again at 8:18 AM." (local time;
 *                            "Nov 22nd, 2026 8:18 AM" when not today)
 *   API quota / billing      "Quota exceeded. Check your plan and billing details."
 *   key rejected (401/403)   "unexpected status 401 Unauthorized: <body>, url: …"
 *   no key                   "Missing environment variable: `OPENAI_API_KEY`."
 *   server error (5xx)       "We’re currently experiencing high demand, which may cause …"
 *   network                  "Reconnecting... waiting for network (Connection failed: …)",
 *                            "stream disconnected before completion: …"
 *   bad request (400)        the API's message, e.g. "Invalid model gpt-x"
 */
import type { FailureClass, FailureVerdict } from "./adapter.js";
import { parseResetAt } from "./classify.js";

const RATE_LIMIT =
  /\b429\b|too many requests|rate[ _-]?limit|usage limit|quota exceeded|insufficient_quota/i;
const AUTH =
  /\b40[13]\b|unauthori[sz]ed|forbidden|missing environment variable|api[ _-]?key|access token|refresh token|log ?in again|sign in again|upgrade to plus: https/i;
const TRANSIENT =
  /\b5\d\d\b|high demand|stream disconnected|connection failed|waiting for network|error while reading the server response|timed? ?out|temporarily unavailable|overloaded|internal server error|service unavailable/i;

/** Codex's own retry notices: it keeps going after these. */
const RETRY_NOTICE = /^Reconnecting\.\.\./;

export function isRetryNotice(message: string): boolean {
  return RETRY_NOTICE.test(message);
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const TRY_AGAIN_AT =
  /try again at (?:([A-Za-z]{3})[a-z]* (\d{1,2})(?:st|nd|rd|th)?, (\d{4}) )?(\d{1,2}):(\d{2}) ?([AP]M)\b/i;

/**
 * The reset time in Codex's usage-limit message, which gives a wall-clock time in the local
 * time zone of the Codex process (Baton passes `TZ` through, so it matches ours): "try again at
 * 8:18 AM" (today, or tomorrow when that is already past) or "try again at Nov 22nd, 2026
 * 8:18 AM". Falls back to relative forms ("try again in 20s"). `null` when there is none.
 */
export function parseCodexResetAt(message: string, now: number): number | null {
  const at = TRY_AGAIN_AT.exec(message);
  if (at !== null) {
    const [, month, day, year, hourText, minuteText, meridiem] = at;
    const hour = (Number(hourText) % 12) + (meridiem?.toUpperCase() === "PM" ? 12 : 0);
    const minute = Number(minuteText);
    if (month !== undefined && day !== undefined && year !== undefined) {
      const monthIndex = MONTHS.indexOf(month.toLowerCase());
      if (monthIndex >= 0) {
        return new Date(Number(year), monthIndex, Number(day), hour, minute).getTime();
      }
    } else {
      const reset = new Date(now);
      reset.setHours(hour, minute, 0, 0);
      // Printed as a bare time only for today; past it by more than the rounding means the
      // clock has crossed midnight since.
      if (reset.getTime() < now - 60_000) {
        reset.setDate(reset.getDate() + 1);
      }
      return reset.getTime();
    }
  }
  return parseResetAt(message, now);
}

function verdict(errorClass: FailureClass, prefix: string, message: string): FailureVerdict {
  return { errorClass, message: `${prefix}: ${message.slice(0, 500)}`, resetAt: null };
}

/** Classifies one error message Codex printed. Never throws. */
export function classifyCodexMessage(message: string, now: number): FailureVerdict {
  const text = message.trim();
  if (RATE_LIMIT.test(text)) {
    return {
      ...verdict("rate_limit", "rate limited", text),
      resetAt: parseCodexResetAt(text, now),
    };
  }
  if (AUTH.test(text)) {
    return verdict("auth", "authentication failed", text);
  }
  if (TRANSIENT.test(text)) {
    return verdict("transient", "transient failure", text);
  }
  return verdict("permanent", "codex failed", text);
}
