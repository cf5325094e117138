/**
 * Reads Gemini CLI's `--output-format stream-json` output into Baton's agent events. The event
 * shapes are those of google-gemini/gemini-cli `packages/core/src/output/types.ts`, emitted by
 * `packages/cli/src/nonInteractiveCli.ts` and, for failures, `packages/cli/src/utils/errors.ts`
 * (`handleError`). Every line is `{type, timestamp, ...}`; lines that are not events (stderr
 * notices such as "Loaded cached credentials.") are skipped.
 *
 *   init         {session_id, model}                   → session
 *   message      {role, content, delta}                 assistant chunks are joined into one
 *                                                       turn, reported when the model stops
 *                                                       writing (a tool call, an error, the
 *                                                       result); the user's message is skipped
 *   tool_use     {tool_name, tool_id, parameters}       → tool
 *   tool_result  {tool_id, status, output, error}       nothing (the tool was reported)
 *   error        {severity, message}                    → error when severity is `error`
 *                                                       (warnings, e.g. a loop, are skipped)
 *   result       {status, error?, stats?}               → usage; on `error`, an error event;
 *                                                       result (the last event of a run)
 *
 * `stats` sums all models of the session: `input_tokens` is the prompt, cached part included
 * (`cached`, newer versions), `output_tokens` the candidates, and `total_tokens` adds thinking
 * and tool-use prompt tokens. Baton counts input without the cached part, and output as
 * everything in the total beyond the prompt, so thinking is priced as output. Gemini CLI
 * reports no cost.
 */
import { z } from "zod";
import type { AgentEvent, OutputParser, Usage } from "./adapter.js";
import { classifyGeminiError } from "./gemini-classify.js";
import { parseJsonObject } from "./json-line.js";
import { summarizeToolInput } from "./tool-summary.js";

const count = z.number().nonnegative().catch(0);

const statsSchema = z.looseObject({
  total_tokens: count.default(0),
  input_tokens: count.default(0),
  output_tokens: count.default(0),
  cached: count.default(0),
});

const geminiEventSchema = z.discriminatedUnion("type", [
  z.looseObject({
    type: z.literal("init"),
    session_id: z.string().min(1),
    model: z.string().nullish().catch(null),
  }),
  z.looseObject({
    type: z.literal("message"),
    role: z.string(),
    content: z.string().catch(""),
  }),
  z.looseObject({
    type: z.literal("tool_use"),
    tool_name: z.string(),
    parameters: z.record(z.string(), z.unknown()).catch({}),
  }),
  z.looseObject({ type: z.literal("tool_result") }),
  z.looseObject({ type: z.literal("error"), severity: z.string(), message: z.string() }),
  z.looseObject({
    type: z.literal("result"),
    status: z.string(),
    error: z.looseObject({ type: z.string().catch("Error"), message: z.string() }).nullish(),
    stats: statsSchema.nullish().catch(null),
  }),
]);
type GeminiEvent = z.infer<typeof geminiEventSchema>;

/** Parameter names of Gemini CLI's tools that say best what a call does, in order. */
const TOOL_KEYS = [
  "command",
  "file_path",
  "absolute_path",
  "dir_path",
  "path",
  "pattern",
  "url",
  "query",
  "prompt",
  "description",
];

function toUsage(stats: z.infer<typeof statsSchema>): Usage {
  const cached = Math.min(stats.cached, stats.input_tokens);
  return {
    inputTokens: stats.input_tokens - cached,
    outputTokens: Math.max(stats.output_tokens, stats.total_tokens - stats.input_tokens),
    cacheReadTokens: cached,
    cacheWriteTokens: 0,
    costUsd: null,
  };
}

export interface GeminiParserOptions {
  /** The clock for reset times given as a delay ("reset after 5s"). */
  now?: () => number;
}

/**
 * A parser for one Gemini CLI stream-json session. Stateful: assistant chunks are joined until
 * the model stops writing, and the last joined message becomes the result's text. Never throws
 * for any input line.
 */
export function createGeminiParser(options: GeminiParserOptions = {}): OutputParser {
  const now = options.now ?? Date.now;
  let pending = "";
  let lastText = "";

  /** The assistant's message so far, as a turn, when it has any text. */
  const flush = (): AgentEvent[] => {
    const text = pending;
    pending = "";
    if (text.trim() === "") {
      return [];
    }
    lastText = text;
    return [{ kind: "turn", text }];
  };

  const onEvent = (event: GeminiEvent): AgentEvent[] => {
    switch (event.type) {
      case "init":
        return [{ kind: "session", sessionId: event.session_id, model: event.model ?? null }];
      case "message":
        if (event.role === "assistant") {
          pending += event.content;
        }
        return [];
      case "tool_use":
        return [
          ...flush(),
          {
            kind: "tool",
            name: event.tool_name,
            summary: summarizeToolInput(event.parameters, TOOL_KEYS),
          },
        ];
      case "tool_result":
        return flush();
      case "error":
        return event.severity === "error"
          ? [...flush(), { kind: "error", ...classifyGeminiError(null, event.message, now()) }]
          : flush();
      case "result": {
        const events = flush();
        if (event.stats != null) {
          events.push({ kind: "usage", usage: toUsage(event.stats) });
        }
        const ok = event.status === "success";
        if (!ok) {
          const error = event.error ?? {
            type: "Error",
            message: `gemini ended with ${event.status}`,
          };
          events.push({ kind: "error", ...classifyGeminiError(error.type, error.message, now()) });
        }
        events.push({
          kind: "result",
          ok,
          text: lastText,
          detail: event.error?.type ?? event.status,
        });
        return events;
      }
    }
  };

  return {
    line(text: string): AgentEvent[] {
      const json = parseJsonObject(text);
      if (json === null) {
        return [];
      }
      const parsed = geminiEventSchema.safeParse(json);
      return parsed.success ? onEvent(parsed.data) : [];
    },
  };
}
