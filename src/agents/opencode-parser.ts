/**
 * Reads `opencode run --format json` output into Baton's agent events. Each line is validated
 * against the schemas in `opencode-events.ts`; anything else (log lines on stderr, events of
 * other types, malformed JSON) means nothing and is skipped.
 *
 *   first line with a sessionID  → session (OpenCode does not print the model)
 *   text                         → turn, once per text part
 *   tool_use                     → tool, once per tool part
 *   step_finish                  → usage (totals of all steps so far, with OpenCode's cost);
 *                                  when its reason is not `tool-calls`, the turn is over:
 *                                  result (ok unless the model stopped on an error, a length
 *                                  limit or a content filter)
 *   error                        → error, classified; result not ok
 *   done                         → result ok, when no step ended the turn (newer versions)
 */
import type { AgentEvent, OutputParser, Usage } from "./adapter.js";
import { parseJsonObject } from "./json-line.js";
import { classifyOpenCodeError } from "./opencode-classify.js";
import { type OpenCodeEvent, openCodeEventSchema } from "./opencode-events.js";
import { summarizeToolInput } from "./tool-summary.js";

/** Input keys of OpenCode's tools that say best what a call does, in order. */
const TOOL_KEYS = ["command", "filePath", "path", "pattern", "url", "query", "description"];
/** Finish reasons that end a turn without the model being done. */
const FAILED_REASONS = new Set(["error", "length", "content-filter"]);

function parseEvent(text: string): OpenCodeEvent | null {
  const json = parseJsonObject(text);
  if (json === null) {
    return null;
  }
  const parsed = openCodeEventSchema.safeParse(json);
  return parsed.success ? parsed.data : null;
}

export interface OpenCodeParserOptions {
  /** The clock for reset times given as a delay (`retry-after`). */
  now?: () => number;
}

/**
 * A parser for one `opencode run --format json` session. Stateful: the session id is
 * announced once, tokens and cost are summed over steps, each part is reported once, and the
 * last text becomes the result's text. Never throws for any input line.
 */
export function createOpenCodeParser(options: OpenCodeParserOptions = {}): OutputParser {
  const now = options.now ?? Date.now;
  const seenParts = new Set<string>();
  let sessionId: string | null = null;
  let lastText = "";
  let turnEnded = false;
  const totals: Omit<Usage, "costUsd"> & { cost: number } = {
    inputTokens: 0,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
    cost: 0,
  };

  /** Whether the part was reported before; marks it reported. */
  const seen = (id: string | undefined): boolean => {
    if (id === undefined) {
      return false;
    }
    const was = seenParts.has(id);
    seenParts.add(id);
    return was;
  };

  const onEvent = (event: OpenCodeEvent): AgentEvent[] => {
    switch (event.type) {
      case "step_start":
        turnEnded = false;
        return [];
      case "text": {
        const { part } = event;
        if (seen(part.id) || part.text.trim() === "") {
          return [];
        }
        lastText = part.text;
        return [{ kind: "turn", text: part.text }];
      }
      case "tool_use": {
        const { part } = event;
        if (seen(part.id)) {
          return [];
        }
        const summary = summarizeToolInput(part.state.input, TOOL_KEYS);
        return [{ kind: "tool", name: part.tool, summary }];
      }
      case "step_finish": {
        const { part } = event;
        totals.inputTokens += part.tokens.input;
        totals.outputTokens += part.tokens.output + part.tokens.reasoning;
        totals.cacheReadTokens += part.tokens.cache.read;
        totals.cacheWriteTokens += part.tokens.cache.write;
        totals.cost += part.cost;
        const { cost, ...tokens } = totals;
        // A model OpenCode has no price for costs 0: leave it to Baton's prices.
        const events: AgentEvent[] = [
          { kind: "usage", usage: { ...tokens, costUsd: cost > 0 ? cost : null } },
        ];
        if (part.reason !== "tool-calls") {
          turnEnded = true;
          events.push({
            kind: "result",
            ok: !FAILED_REASONS.has(part.reason),
            text: lastText,
            detail: part.reason,
          });
        }
        return events;
      }
      case "error": {
        const verdict = classifyOpenCodeError(event.error, now());
        turnEnded = true;
        return [
          { kind: "error", ...verdict },
          { kind: "result", ok: false, text: lastText, detail: event.error.name },
        ];
      }
      case "done":
        if (turnEnded) {
          return [];
        }
        turnEnded = true;
        return [{ kind: "result", ok: true, text: lastText, detail: "done" }];
    }
  };

  return {
    line(text: string): AgentEvent[] {
      const event = parseEvent(text);
      if (event === null) {
        return [];
      }
      const events: AgentEvent[] = [];
      if (event.sessionID !== undefined && event.sessionID !== sessionId) {
        sessionId = event.sessionID;
        events.push({ kind: "session", sessionId, model: null });
      }
      events.push(...onEvent(event));
      return events;
    },
  };
}
