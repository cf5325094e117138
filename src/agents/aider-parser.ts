/**
 * Reads what aider prints with `--no-pretty` (plain text: aider has no structured output) into
 * Baton's agent events, from the lines it writes itself (aider/coders/base_coder.py, aider/io.py,
 * aider/exceptions.py in Aider-AI/aider):
 *
 *   "Tokens: 2.3k sent, 1.1k cache write, 9.8k cache hit, 412 received."
 *        → turn (the reply printed since the last such line, aider's own notices left out),
 *          usage (sums of all such lines; each counts one message, with its reflections)
 *   "Cost: $0.02 message, $0.05 session."   (same line, or the next one)
 *        → usage, with the session's cost; without one aider knows no price for the model
 *   "Applied edit to src/app.py"            → tool `edit`
 *   "litellm.RateLimitError: …"             → error, classified by the exception's name; for the
 *                                             errors aider gives up on at once (and for rate
 *                                             limits, see below) also result not ok
 *   "Model x has hit a token limit!"        → error, result not ok (aider gives up)
 *
 * Token counts are as aider prints them, rounded ("2.3k"). `sent` includes cache writes (aider
 * adds them for providers that count them apart) and not cache hits, as aider's own pricing
 * reads it; Baton takes input as `sent` less cache writes.
 *
 * Aider retries the errors it deems retryable for about a minute, then gives up and exits 0
 * with nothing done. A rate limit ends the turn at once here (error and a failed result), so
 * that Baton pauses the agent until the limit resets instead of waiting on aider's retries;
 * other retryable errors (server, network) are reported as errors only, and aider's retry
 * goes on. Aider never says that it finished: its exit ends the job.
 */
import type { AgentEvent, FailureClass, OutputParser, Usage } from "./adapter.js";
import { parseResetAt } from "./classify.js";

const COUNT = String.raw`([\d.,]+[kKmM]?)`;
const TOKENS = new RegExp(
  String.raw`^Tokens: ${COUNT} sent(?:, ${COUNT} cache write)?(?:, ${COUNT} cache hit)?, ${COUNT} received\.`,
);
const COST = /\bCost: \$([\d.]+) (?:message|request), \$([\d.]+) session\./;
const LITELLM_ERROR = /^litellm\.(?:exceptions\.)?(\w+): /;
const EXHAUSTED = /^Model .+ has hit a token limit!/;
const APPLIED = /^Applied edit to (.+)$/;
/** Lines aider prints about itself, never part of the model's reply. */
const NOTICES = [
  /^Aider v\d/,
  /^(Main model|Model|Weak model|Editor model): /,
  /^Git repo: /,
  /^Repo-map: /,
  /^Added .+ to the chat/,
  /^Use \/help /,
  /^Retrying in [\d.]+ seconds/,
  /^The API provider\b/,
  /^Cost: /,
  /^Applied edit to /,
];
/**
 * A question aider answered itself under `--yes-always` ("Add file to the chat? (Y)es/(N)o/…
 * [Yes]: y"). Aider asks only after a reply and its usage line, so whatever was gathered since
 * (the question's subject, lint output) is aider's, not the model's.
 */
const ANSWERED = /\? \(Y\)es\/\(N\)o.*\]: \S*$/;

/** litellm exceptions by failure class, as aider's EXCEPTIONS list names them. */
const EXCEPTION_CLASSES: Readonly<Record<string, FailureClass>> = {
  RateLimitError: "rate_limit",
  RouterRateLimitError: "rate_limit",
  BudgetExceededError: "rate_limit",
  AuthenticationError: "auth",
  PermissionDeniedError: "auth",
  APIConnectionError: "transient",
  APIError: "transient",
  InternalServerError: "transient",
  ServiceUnavailableError: "transient",
  Timeout: "transient",
  OpenAIError: "transient",
  AzureOpenAIError: "transient",
};
/** Exceptions aider does not retry (`ExInfo.retry` false): it gives up on the message. */
const NOT_RETRIED = new Set([
  "AuthenticationError",
  "BadRequestError",
  "ContextWindowExceededError",
  "NotFoundError",
]);

/** `412`, `1,234`, `2.3k`, `12k`, `1.5M` → a token count. */
function tokens(text: string | undefined): number {
  if (text === undefined) {
    return 0;
  }
  const match = /^([\d.,]+)([kKmM]?)$/.exec(text);
  const value = Number((match?.[1] ?? "").replaceAll(",", ""));
  if (!Number.isFinite(value)) {
    return 0;
  }
  const scale = { k: 1e3, m: 1e6 }[(match?.[2] ?? "").toLowerCase()] ?? 1;
  return Math.round(value * scale);
}

const PREFIX: Record<FailureClass, string> = {
  rate_limit: "rate limited",
  auth: "authentication failed",
  transient: "transient failure",
  timeout: "timed out",
  permanent: "aider failed",
};

export interface AiderParserOptions {
  /** The clock for reset times given as a delay ("try again in 20s"). */
  now?: () => number;
}

/** A parser for one aider run's plain output. Stateful; never throws for any input line. */
export function createAiderParser(options: AiderParserOptions = {}): OutputParser {
  const now = options.now ?? Date.now;
  const totals: Omit<Usage, "costUsd"> = {
    inputTokens: 0,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
  };
  let costUsd: number | null = null;
  let reply: string[] = [];
  let lastText = "";

  const usage = (): AgentEvent => ({ kind: "usage", usage: { ...totals, costUsd } });

  const failed = (
    errorClass: FailureClass,
    message: string,
    ends: { detail: string } | null,
  ): AgentEvent[] => {
    reply = [];
    const error: AgentEvent = {
      kind: "error",
      errorClass,
      message: `${PREFIX[errorClass]}: ${message.slice(0, 500)}`,
      resetAt: errorClass === "rate_limit" ? parseResetAt(message, now()) : null,
    };
    return ends === null
      ? [error]
      : [error, { kind: "result", ok: false, text: lastText, detail: ends.detail }];
  };

  return {
    line(raw: string): AgentEvent[] {
      const line = raw.trimEnd();
      const counts = TOKENS.exec(line);
      if (counts !== null) {
        const [, sent, write, hit, received] = counts;
        totals.inputTokens += Math.max(0, tokens(sent) - tokens(write));
        totals.cacheWriteTokens += tokens(write);
        totals.cacheReadTokens += tokens(hit);
        totals.outputTokens += tokens(received);
        const cost = COST.exec(line);
        if (cost !== null) {
          costUsd = Number(cost[2]);
        }
        const text = reply.join("\n").trim();
        reply = [];
        if (text === "") {
          return [usage()];
        }
        lastText = text;
        return [{ kind: "turn", text }, usage()];
      }
      const cost = COST.exec(line);
      if (cost !== null && line.startsWith("Cost: ")) {
        costUsd = Number(cost[2]);
        return [usage()];
      }
      const error = LITELLM_ERROR.exec(line);
      if (error !== null) {
        const name = error[1] ?? "";
        const errorClass = EXCEPTION_CLASSES[name] ?? "permanent";
        const ends = NOT_RETRIED.has(name) || errorClass === "rate_limit";
        return failed(errorClass, line, ends ? { detail: name } : null);
      }
      if (EXHAUSTED.test(line)) {
        return failed("permanent", line, { detail: "token limit" });
      }
      const applied = APPLIED.exec(line);
      if (applied?.[1] !== undefined) {
        return [{ kind: "tool", name: "edit", summary: applied[1] }];
      }
      if (ANSWERED.test(line)) {
        reply = [];
      } else if (!NOTICES.some((notice) => notice.test(line))) {
        reply.push(line);
      }
      return [];
    },
  };
}
