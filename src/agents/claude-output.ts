/**
 * Reads Claude Code's `--output-format stream-json --verbose` output, one JSON object a line,
 * into `AgentEvent`s. Every line is validated with zod; a line that is not JSON, has an unknown
 * `type`, or does not fit its shape is skipped, never thrown on.
 *
 * The lines that matter (checked against Claude Code 2.1.197):
 *   system/init       at the start of every turn: `session_id`, `model`.
 *   assistant         one line per content block of a model message (text, tool_use, thinking),
 *                     all with the message's `id` and the `usage` of its `message_start` event
 *                     (input and cache tokens exact, output tokens not yet counted). API errors
 *                     appear as a synthetic message (`model: "<synthetic>"`) with an `error` kind.
 *   rate_limit_event  subscription plans: `rate_limit_info.status` and `resetsAt` (epoch s).
 *   result            the end of a turn: `subtype`, `is_error`, `result`, `api_error_status`,
 *                     `usage` (this turn only), and `total_cost_usd` and `modelUsage` (per
 *                     model), which are totals since the process started, side calls included.
 *
 * Parser state: the session id last announced; the totals at the last `result`; the usage of
 * each model message of the running turn (by message id, so the repeated lines of one message
 * count once); and the turn's API error kind and rate-limit reset, cleared at each `result`.
 */
import { z } from "zod";
import type { AgentEvent, FailureClass, OutputParser, Usage } from "./adapter.js";
import { classifyFromOutput } from "./classify.js";

const apiUsage = z.object({
  input_tokens: z.number().catch(0),
  output_tokens: z.number().catch(0),
  cache_creation_input_tokens: z.number().nullish().catch(null),
  cache_read_input_tokens: z.number().nullish().catch(null),
});

const modelUsage = z.object({
  inputTokens: z.number(),
  outputTokens: z.number(),
  cacheReadInputTokens: z.number().catch(0),
  cacheCreationInputTokens: z.number().catch(0),
});

const systemInit = z.object({
  type: z.literal("system"),
  subtype: z.literal("init"),
  session_id: z.string(),
  model: z.string().nullish().catch(null),
});

const rateLimitEvent = z.object({
  type: z.literal("rate_limit_event"),
  rate_limit_info: z.object({
    status: z.string(),
    resetsAt: z.number().nullish().catch(null),
    rateLimitType: z.string().nullish().catch(null),
  }),
});

const contentBlock = z.union([
  z.object({ type: z.literal("text"), text: z.string() }),
  z.object({
    type: z.literal("tool_use"),
    name: z.string(),
    input: z.record(z.string(), z.unknown()).catch({}),
  }),
  z.object({ type: z.string() }),
]);

const assistantLine = z.object({
  type: z.literal("assistant"),
  message: z.object({
    id: z.string(),
    model: z.string().nullish().catch(null),
    content: z.array(contentBlock),
    usage: apiUsage.nullish().catch(null),
  }),
  parent_tool_use_id: z.string().nullish().catch(null),
  error: z.string().nullish().catch(null),
});

const resultLine = z.object({
  type: z.literal("result"),
  subtype: z.string(),
  is_error: z.boolean(),
  result: z.string().nullish().catch(null),
  errors: z.array(z.string()).nullish().catch(null),
  total_cost_usd: z.number().nullish().catch(null),
  usage: apiUsage.nullish().catch(null),
  modelUsage: z.record(z.string(), modelUsage).nullish().catch(null),
  api_error_status: z.number().nullish().catch(null),
});

/** Claude Code's `api_retry` line: the CLI is waiting to retry a failed API call. */
export const apiRetryLine = z.object({
  type: z.literal("system"),
  subtype: z.literal("api_retry"),
  attempt: z.number().catch(0),
  retry_delay_ms: z.number().nullish().catch(null),
  error_status: z.number().nullish().catch(null),
  error: z.string().nullish().catch(null),
});

type TokenCounts = Omit<Usage, "costUsd">;

const ZERO: TokenCounts = {
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
};
const SYNTHETIC_MODEL = "<synthetic>";
const SUMMARY_MAX = 200;

/** A JSON object from one line, or `null` for anything else. Never throws. */
export function parseJsonLine(text: string): unknown {
  const trimmed = text.trim();
  if (!trimmed.startsWith("{")) {
    return null;
  }
  try {
    return JSON.parse(trimmed) as unknown;
  } catch {
    // Not JSON (a stray log line, a truncated write): not an event.
    return null;
  }
}

/**
 * The failure class of an API error, from its HTTP status or else from the kind Claude Code
 * names it by (`assistant.error`); `null` when neither says.
 */
export function classifyApiError(status: number | null, kind: string | null): FailureClass | null {
  if (status !== null) {
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
  switch (kind) {
    case "rate_limit":
      return "rate_limit";
    case "authentication_failed":
    case "oauth_org_not_allowed":
    case "billing_error":
      return "auth";
    case "overloaded":
    case "server_error":
      return "transient";
    case "invalid_request":
    case "model_not_found":
    case "max_output_tokens":
      return "permanent";
    default:
      return null;
  }
}

/** A one-line summary of a tool call's input: its command, path, pattern or URL. */
export function summarizeToolInput(input: Record<string, unknown>): string {
  const keys = [
    "command",
    "file_path",
    "notebook_path",
    "path",
    "pattern",
    "url",
    "query",
    "description",
  ];
  const key = keys.find((k) => typeof input[k] === "string");
  const raw = key === undefined ? JSON.stringify(input) : String(input[key]);
  const line = raw.replace(/\s+/g, " ").trim();
  return line.length > SUMMARY_MAX ? `${line.slice(0, SUMMARY_MAX - 1)}…` : line;
}

/** Creates a parser for one Claude Code session's stream-json output. */
export function createClaudeParser(): OutputParser {
  let sessionId: string | null = null;
  let base: Usage = { ...ZERO, costUsd: null };
  const turnMessages = new Map<string, TokenCounts>();
  let errorKind: string | null = null;
  let resetAt: number | null = null;

  const onAssistant = (line: z.infer<typeof assistantLine>): AgentEvent[] => {
    const { message } = line;
    if (line.error !== null && line.error !== undefined) {
      // An API error shown as a message; the `result` line that follows reports it.
      errorKind = line.error;
      return [];
    }
    const events: AgentEvent[] = [];
    for (const block of message.content) {
      if (block.type === "text" && "text" in block && line.parent_tool_use_id == null) {
        if (block.text.trim() !== "") {
          events.push({ kind: "turn", text: block.text });
        }
      } else if (block.type === "tool_use" && "name" in block) {
        events.push({ kind: "tool", name: block.name, summary: summarizeToolInput(block.input) });
      }
    }
    const usage = message.usage;
    if (usage != null && message.model !== SYNTHETIC_MODEL && !turnMessages.has(message.id)) {
      turnMessages.set(message.id, fromApiUsage(usage));
      // Mid-turn totals: a lower bound (output tokens are counted at the message's end), and
      // no cost, which Claude Code reports only with the turn's `result`.
      events.push({
        kind: "usage",
        usage: { ...add(base, ...turnMessages.values()), costUsd: null },
      });
    }
    return events;
  };

  const onResult = (line: z.infer<typeof resultLine>): AgentEvent[] => {
    const models = Object.values(line.modelUsage ?? {});
    const tokens =
      models.length > 0
        ? add(
            ZERO,
            ...models.map((m) => ({
              inputTokens: m.inputTokens,
              outputTokens: m.outputTokens,
              cacheReadTokens: m.cacheReadInputTokens,
              cacheWriteTokens: m.cacheCreationInputTokens,
            })),
          )
        : add(base, line.usage == null ? ZERO : fromApiUsage(line.usage));
    base = { ...tokens, costUsd: line.total_cost_usd ?? base.costUsd };
    turnMessages.clear();
    const ok = !line.is_error && line.subtype === "success";
    const text = line.result ?? (line.errors ?? []).join("\n");
    const events: AgentEvent[] = [{ kind: "usage", usage: { ...base } }];
    if (!ok) {
      const status = line.api_error_status ?? null;
      const errorClass =
        classifyApiError(status, errorKind) ??
        classifyFromOutput({ exitCode: null, signal: null, outputTail: text, events: [], now: 0 })
          .errorClass;
      events.push({
        kind: "error",
        errorClass,
        message: text === "" ? `claude ended its turn with ${line.subtype}` : text,
        resetAt: errorClass === "rate_limit" ? resetAt : null,
      });
    }
    events.push({ kind: "result", ok, text, detail: line.subtype });
    errorKind = null;
    resetAt = null;
    return events;
  };

  return {
    line(text: string): AgentEvent[] {
      const value = parseJsonLine(text);
      if (typeof value !== "object" || value === null || !("type" in value)) {
        return [];
      }
      switch (value.type) {
        case "system": {
          const init = systemInit.safeParse(value);
          if (!init.success || init.data.session_id === sessionId) {
            return [];
          }
          sessionId = init.data.session_id;
          return [{ kind: "session", sessionId, model: init.data.model ?? null }];
        }
        case "rate_limit_event": {
          const event = rateLimitEvent.safeParse(value);
          const at = event.success ? event.data.rate_limit_info.resetsAt : null;
          if (event.success && event.data.rate_limit_info.status === "rejected" && at != null) {
            resetAt = at * 1000;
          }
          return [];
        }
        case "assistant": {
          const line = assistantLine.safeParse(value);
          return line.success ? onAssistant(line.data) : [];
        }
        case "result": {
          const line = resultLine.safeParse(value);
          return line.success ? onResult(line.data) : [];
        }
        case "user":
          // With --replay-user-messages, each message taken from stdin is echoed back; tool
          // results, also user messages, are not replays.
          return "isReplay" in value && value.isReplay === true ? [{ kind: "input" }] : [];
        default:
          return [];
      }
    },
  };
}

function fromApiUsage(usage: z.infer<typeof apiUsage>): TokenCounts {
  return {
    inputTokens: usage.input_tokens,
    outputTokens: usage.output_tokens,
    cacheReadTokens: usage.cache_read_input_tokens ?? 0,
    cacheWriteTokens: usage.cache_creation_input_tokens ?? 0,
  };
}

function add(first: TokenCounts, ...rest: TokenCounts[]): TokenCounts {
  return rest.reduce(
    (sum, u) => ({
      inputTokens: sum.inputTokens + u.inputTokens,
      outputTokens: sum.outputTokens + u.outputTokens,
      cacheReadTokens: sum.cacheReadTokens + u.cacheReadTokens,
      cacheWriteTokens: sum.cacheWriteTokens + u.cacheWriteTokens,
    }),
    {
      inputTokens: first.inputTokens,
      outputTokens: first.outputTokens,
      cacheReadTokens: first.cacheReadTokens,
      cacheWriteTokens: first.cacheWriteTokens,
    },
  );
}
