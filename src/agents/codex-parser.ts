/**
 * Reads `codex exec --json` output into Baton's agent events. Each line is validated against
 * the event schemas in `codex-events.ts`; anything else (stderr lines that share the log, events
 * of unknown types, malformed JSON) means nothing and is skipped.
 *
 *   thread.started            → session (the thread id; Codex does not print the model)
 *   item agent_message        → turn (on item.completed)
 *   item command_execution,
 *   file_change, mcp_tool_call,
 *   web_search                → tool, once per item (when first seen, usually item.started)
 *   turn.completed            → usage (the thread's totals, as Codex reports them), result ok
 *   error (fatal)             → error, classified
 *   turn.failed               → error (unless that message was just reported), result not ok
 *   error "Reconnecting..."   → nothing: Codex is retrying on its own
 */
import type { AgentEvent, OutputParser, Usage } from "./adapter.js";
import { classifyCodexMessage, isRetryNotice } from "./codex-classify.js";
import {
  agentMessageItemSchema,
  type CodexEvent,
  codexEventSchema,
  commandExecutionItemSchema,
  fileChangeItemSchema,
  mcpToolCallItemSchema,
  webSearchItemSchema,
} from "./codex-events.js";

const SUMMARY_MAX = 300;

/** `/bin/bash -lc 'npm test'` → `npm test`, when the wrapper is the simple kind Codex prints. */
function unwrapShell(command: string): string {
  const match = /^(?:\S*\/)?(?:ba|z)?sh -l?c '([^']*)'$/.exec(command);
  return match?.[1] ?? command;
}

function clip(text: string): string {
  return text.length > SUMMARY_MAX ? `${text.slice(0, SUMMARY_MAX - 1)}…` : text;
}

function parseEvent(text: string): CodexEvent | null {
  const trimmed = text.trim();
  if (!trimmed.startsWith("{")) {
    return null;
  }
  let json: unknown;
  try {
    json = JSON.parse(trimmed);
  } catch {
    // Not JSON after all (a stderr line that starts with a brace): not an event.
    return null;
  }
  const parsed = codexEventSchema.safeParse(json);
  return parsed.success ? parsed.data : null;
}

/** The tool event for an item Codex runs, or `null` for items that are not tool use. */
function toolEvent(item: { type: string }): AgentEvent | null {
  switch (item.type) {
    case "command_execution": {
      const parsed = commandExecutionItemSchema.safeParse(item);
      return parsed.success
        ? { kind: "tool", name: "shell", summary: clip(unwrapShell(parsed.data.command)) }
        : null;
    }
    case "file_change": {
      const parsed = fileChangeItemSchema.safeParse(item);
      return parsed.success
        ? {
            kind: "tool",
            name: "apply_patch",
            summary: clip(parsed.data.changes.map((c) => `${c.kind} ${c.path}`).join(", ")),
          }
        : null;
    }
    case "mcp_tool_call": {
      const parsed = mcpToolCallItemSchema.safeParse(item);
      return parsed.success
        ? {
            kind: "tool",
            name: `mcp:${parsed.data.server}/${parsed.data.tool}`,
            summary: `${parsed.data.server}/${parsed.data.tool}`,
          }
        : null;
    }
    case "web_search": {
      const parsed = webSearchItemSchema.safeParse(item);
      return parsed.success
        ? { kind: "tool", name: "web_search", summary: clip(parsed.data.query) }
        : null;
    }
    default:
      return null;
  }
}

export interface CodexParserOptions {
  /** The clock for reset times given as a wall-clock time ("try again at 8:18 AM"). */
  now?: () => number;
}

/**
 * A parser for one `codex exec --json` session. Stateful (the last agent message becomes the
 * result's text; each tool item is reported once). Never throws for any input line.
 *
 * @example
 * const parser = createCodexParser();
 * for await (const line of lines) handle(parser.line(line));
 */
export function createCodexParser(options: CodexParserOptions = {}): OutputParser {
  const now = options.now ?? Date.now;
  const seenItems = new Set<string>();
  let lastText = "";
  let lastError: string | null = null;

  const error = (message: string): AgentEvent => {
    lastError = message;
    const verdict = classifyCodexMessage(message, now());
    return {
      kind: "error",
      errorClass: verdict.errorClass,
      message: verdict.message,
      resetAt: verdict.resetAt,
    };
  };

  return {
    line(text: string): AgentEvent[] {
      const event = parseEvent(text);
      if (event === null) {
        return [];
      }
      switch (event.type) {
        case "thread.started":
          return [{ kind: "session", sessionId: event.thread_id, model: null }];
        case "turn.started":
          return [];
        case "item.started":
        case "item.updated":
        case "item.completed": {
          const item = event.item;
          if (item.type === "agent_message") {
            const parsed = agentMessageItemSchema.safeParse(item);
            if (event.type !== "item.completed" || !parsed.success) {
              return [];
            }
            lastText = parsed.data.text;
            return [{ kind: "turn", text: parsed.data.text }];
          }
          const key = item.id ?? null;
          if (key !== null && seenItems.has(key)) {
            return [];
          }
          const tool = toolEvent(item);
          if (tool !== null && key !== null) {
            seenItems.add(key);
          }
          return tool === null ? [] : [tool];
        }
        case "turn.completed": {
          const u = event.usage;
          const usage: Usage = {
            // Codex counts cached (and cache-written) input inside input_tokens; Baton keeps
            // them apart so each is priced at its own rate.
            inputTokens: Math.max(
              0,
              u.input_tokens - u.cached_input_tokens - u.cache_write_input_tokens,
            ),
            outputTokens: u.output_tokens,
            cacheReadTokens: u.cached_input_tokens,
            cacheWriteTokens: u.cache_write_input_tokens,
            costUsd: null,
          };
          return [
            { kind: "usage", usage },
            { kind: "result", ok: true, text: lastText, detail: null },
          ];
        }
        case "turn.failed": {
          const message = event.error.message;
          const result: AgentEvent = { kind: "result", ok: false, text: lastText, detail: message };
          return lastError === message ? [result] : [error(message), result];
        }
        case "error":
          return isRetryNotice(event.message) ? [] : [error(event.message)];
      }
    },
  };
}
