/**
 * The JSONL events `opencode run --format json` prints on stdout, one per line, as zod schemas.
 * Every line is `{type, timestamp, sessionID, ...}`; the shapes come from OpenCode's
 * `packages/opencode/src/cli/cmd/run.ts` (its `emit()`) and the message parts of
 * `packages/opencode/src/session/message-v2.ts` (sst/opencode, now anomalyco/opencode). Only
 * what Baton reads is required; anything else passes through, so fields added by newer
 * versions do not make a line invalid.
 *
 *   step_start  {part: StepStartPart}               a model call begins
 *   text        {part: TextPart}                    a finished text block (`part.text`)
 *   reasoning   {part: ReasoningPart}               only with `--thinking`; not read
 *   tool_use    {part: ToolPart}                    a tool call that completed or failed
 *   step_finish {part: StepFinishPart}              a model call ended: `reason`, `cost` (USD)
 *                                                   and `tokens` of this call alone
 *   error       {error: {name, data}}               the session failed (`session.error`)
 *   done        {reason: "idle", rejected}          the run is over (newer versions only)
 */
import { z } from "zod";

const count = z.number().nonnegative().catch(0);

/**
 * Tokens of one model call. `input` excludes cache reads and writes (OpenCode subtracts them
 * for providers that count them in); `reasoning` is billed at the output rate, apart from
 * `output`.
 */
const stepTokensSchema = z.looseObject({
  input: count,
  output: count,
  reasoning: count.default(0),
  cache: z.looseObject({ read: count, write: count }).catch({ read: 0, write: 0 }),
});

const stepFinishPartSchema = z.looseObject({
  type: z.literal("step-finish"),
  /** The model's finish reason: `tool-calls` mid-turn, `stop` at its end, or another. */
  reason: z.string(),
  cost: count.default(0),
  tokens: stepTokensSchema,
});

const textPartSchema = z.looseObject({
  id: z.string().optional(),
  type: z.literal("text"),
  text: z.string(),
});

const toolPartSchema = z.looseObject({
  id: z.string().optional(),
  type: z.literal("tool"),
  tool: z.string(),
  state: z.looseObject({
    status: z.string(),
    input: z.record(z.string(), z.unknown()).catch({}),
    title: z.string().optional().catch(undefined),
    error: z.string().optional().catch(undefined),
  }),
});

/**
 * A session error as OpenCode serializes its named errors: `ProviderAuthError` (`providerID`,
 * `message`), `APIError` (`message`, `statusCode`, `isRetryable`, `responseHeaders`,
 * `responseBody`), `MessageOutputLengthError`, `MessageAbortedError`, `ContextOverflowError`,
 * `UnknownError` (`message`).
 */
const openCodeErrorSchema = z.looseObject({
  name: z.string(),
  data: z
    .looseObject({
      message: z.string().optional().catch(undefined),
      statusCode: z.number().optional().catch(undefined),
      isRetryable: z.boolean().optional().catch(undefined),
      responseHeaders: z.record(z.string(), z.string()).optional().catch(undefined),
      responseBody: z.string().optional().catch(undefined),
    })
    .catch({}),
});
export type OpenCodeError = z.infer<typeof openCodeErrorSchema>;

export const openCodeEventSchema = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("step_start"), sessionID: z.string().optional() }),
  z.looseObject({
    type: z.literal("text"),
    sessionID: z.string().optional(),
    part: textPartSchema,
  }),
  z.looseObject({
    type: z.literal("tool_use"),
    sessionID: z.string().optional(),
    part: toolPartSchema,
  }),
  z.looseObject({
    type: z.literal("step_finish"),
    sessionID: z.string().optional(),
    part: stepFinishPartSchema,
  }),
  z.looseObject({
    type: z.literal("error"),
    sessionID: z.string().optional(),
    error: openCodeErrorSchema,
  }),
  z.looseObject({ type: z.literal("done"), sessionID: z.string().optional() }),
]);
export type OpenCodeEvent = z.infer<typeof openCodeEventSchema>;
