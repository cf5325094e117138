/**
 * The JSONL events `codex exec --json` prints on stdout, one per line, as zod schemas (shapes
 * recorded from codex-cli 0.169.0; the TypeScript SDK's `events.ts`/`items.ts` describe the same
 * protocol). Only what Baton reads is required; everything else passes through, so fields added
 * by newer versions do not make a line invalid. Types the schemas do not know parse as "other".
 *
 * One `codex exec` is one thread and one turn:
 *   thread.started {thread_id}
 *   turn.started
 *   item.started / item.updated / item.completed {item}   (any number)
 *   error {message}                                        (retry notices, or the fatal error)
 *   turn.completed {usage} | turn.failed {error: {message}}
 */
import { z } from "zod";

const count = z.number().int().nonnegative();

/**
 * Token counts of the whole thread so far (Codex's `total_token_usage`): every model request of
 * this turn and, for a resumed thread (`codex exec resume`), of the earlier turns too.
 * `input_tokens` includes `cached_input_tokens`; `output_tokens` includes
 * `reasoning_output_tokens`, as in the OpenAI API.
 */
export const codexUsageSchema = z.looseObject({
  input_tokens: count,
  cached_input_tokens: count.default(0),
  cache_write_input_tokens: count.default(0),
  output_tokens: count,
  reasoning_output_tokens: count.default(0),
});

export const agentMessageItemSchema = z.looseObject({ id: z.string(), text: z.string() });
export const commandExecutionItemSchema = z.looseObject({
  id: z.string(),
  command: z.string(),
  aggregated_output: z.string().default(""),
  exit_code: z.number().int().nullable().optional(),
  status: z.string(),
});
export const fileChangeItemSchema = z.looseObject({
  id: z.string(),
  changes: z.array(z.looseObject({ path: z.string(), kind: z.string() })),
  status: z.string(),
});
export const mcpToolCallItemSchema = z.looseObject({
  id: z.string(),
  server: z.string(),
  tool: z.string(),
  status: z.string(),
});
export const webSearchItemSchema = z.looseObject({ id: z.string(), query: z.string() });

export const codexEventSchema = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("thread.started"), thread_id: z.string().min(1) }),
  z.looseObject({ type: z.literal("turn.started") }),
  z.looseObject({ type: z.literal("turn.completed"), usage: codexUsageSchema }),
  z.looseObject({
    type: z.literal("turn.failed"),
    error: z.looseObject({ message: z.string() }),
  }),
  /**
   * The item is checked for its `type` here and read with the schema for that type by the
   * parser: `agent_message`, `command_execution`, `file_change`, `mcp_tool_call`,
   * `web_search`; `error` items are non-fatal notices (e.g. "Model metadata for `x` not
   * found"); `reasoning`, `todo_list`, `plan` and newer types carry nothing Baton acts on.
   */
  z.looseObject({
    type: z.enum(["item.started", "item.updated", "item.completed"]),
    item: z.looseObject({ id: z.string().optional(), type: z.string() }),
  }),
  /** Codex's retry notices ("Reconnecting... 2/5 (…)") and, before `turn.failed`, the fatal error. */
  z.looseObject({ type: z.literal("error"), message: z.string() }),
]);
export type CodexEvent = z.infer<typeof codexEventSchema>;
