/**
 * A scripted OpenAI-compatible Responses API on 127.0.0.1, for running the real Codex CLI
 * offline (a custom `model_providers.<id>` with `base_url = server.url`, `wire_api = "responses"`).
 * STYLE §11: the model API is mocked with a fake HTTP server, never a module mock.
 *
 * Each `POST …/responses` takes the next step of the script and is answered as the real API
 * answers a streaming request: Server-Sent Events `response.created`, `response.output_item.added`
 * / `.done` per output item (assistant text with `response.output_text.delta`, `function_call`
 * items for function tools such as Codex's `exec_command`, `custom_tool_call` items for freeform
 * tools such as its `apply_patch`), then `response.completed` with `usage`. A step may instead
 * answer with an HTTP error, e.g. `rateLimited()`: a 429 with the body and headers the real API
 * sends. Anything else gets a 404. Every request is recorded (method, path, headers, parsed
 * body) for assertions, and every token count sent is added up, so tests can compare the CLI's
 * totals with it.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import { z } from "zod";

export interface ReplyUsage {
  /** All input tokens, cached ones included (as the API counts them). */
  inputTokens: number;
  /** The part of `inputTokens` read from the prompt cache. */
  cachedTokens: number;
  /** All output tokens, reasoning ones included. */
  outputTokens: number;
  /** The part of `outputTokens` spent on reasoning. */
  reasoningTokens: number;
}

export type ToolCall =
  /** A function tool call; `arguments` is sent JSON-encoded, as the API does. */
  | { type: "function"; name: string; arguments: Record<string, unknown> }
  /** A freeform (custom) tool call, e.g. `apply_patch` with the patch text as `input`. */
  | { type: "custom"; name: string; input: string };

export type Reply =
  | {
      kind: "response";
      /** Assistant text, sent before any tool calls; `null` for none. */
      text: string | null;
      toolCalls: ToolCall[];
      usage: ReplyUsage;
    }
  | { kind: "error"; status: number; headers: Record<string, string>; body: unknown };

/** One step of the script: a fixed reply, or one computed from the request it answers. */
export type ScriptStep = Reply | ((request: ResponsesRequest) => Reply);

const inputItem = z.looseObject({
  type: z.string().optional(),
  role: z.string().optional(),
  content: z
    .union([z.string(), z.array(z.looseObject({ type: z.string(), text: z.string().optional() }))])
    .optional(),
  call_id: z.string().optional(),
  name: z.string().optional(),
  arguments: z.string().optional(),
  input: z.string().optional(),
  output: z.unknown().optional(),
});
const responsesBody = z.looseObject({
  model: z.string(),
  input: z.array(inputItem),
  tools: z.array(z.looseObject({ type: z.string(), name: z.string().optional() })).optional(),
  stream: z.boolean().optional(),
});

export type InputItem = z.infer<typeof inputItem>;

/** A Responses API request as the script sees it. */
export interface ResponsesRequest {
  model: string;
  input: InputItem[];
  /** Names of the tools the CLI offered (the type for unnamed built-ins such as `web_search`). */
  tools: string[];
}

export interface RecordedRequest {
  /** When it arrived (epoch ms). */
  at: number;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The JSON body, or `null` when there was none or it was not JSON. */
  body: unknown;
  /** The parsed Responses request, for `POST …/responses`. */
  request: ResponsesRequest | null;
}

export interface OpenAIServer {
  /** Base URL including `/v1`, for a provider's `base_url`. */
  url: string;
  /** Every request received, in order. */
  readonly requests: readonly RecordedRequest[];
  /** The token counts sent in `response.completed` events, added up. */
  readonly usageSent: ReplyUsage;
  /** Problems on the server side: a step that threw, the script running out. */
  readonly problems: readonly string[];
  close(): Promise<void>;
}

const ZERO_USAGE: ReplyUsage = {
  inputTokens: 0,
  cachedTokens: 0,
  outputTokens: 0,
  reasoningTokens: 0,
};

/** Usage with the given counts; the rest zero. */
export function usage(counts: Partial<ReplyUsage>): ReplyUsage {
  return { ...ZERO_USAGE, ...counts };
}

/** A reply with assistant text only. */
export function textReply(text: string, replyUsage: ReplyUsage): Reply {
  return { kind: "response", text, toolCalls: [], usage: replyUsage };
}

/** A reply that calls tools (optionally with some text first). */
export function toolReply(
  toolCalls: ToolCall[],
  replyUsage: ReplyUsage,
  text: string | null = null,
): Reply {
  return { kind: "response", text, toolCalls, usage: replyUsage };
}

/** Codex's shell tool: `exec_command` with `{ cmd }`. */
export function shellCall(cmd: string): ToolCall {
  return { type: "function", name: "exec_command", arguments: { cmd } };
}

/** Codex's freeform `apply_patch` tool, adding one file. */
export function addFileCall(path: string, content: string): ToolCall {
  const lines = content.split("\n");
  if (lines.at(-1) === "") {
    lines.pop();
  }
  const body = lines.map((line) => `+${line}\n`).join("");
  return {
    type: "custom",
    name: "apply_patch",
    input: `*** Begin Patch\n*** Add File: ${path}\n${body}*** End Patch\n`,
  };
}

export interface RateLimitOptions {
  /** Seconds until the limit resets: in the message, `retry-after` and `x-ratelimit-reset-*`. */
  retryAfterSeconds: number;
  /** Send `retry-after` (the real API does not always). Default true. */
  sendRetryAfter?: boolean;
  model?: string;
}

/**
 * A 429 as the real API sends it when an API key's request rate is exceeded: an OpenAI error
 * body with code `rate_limit_exceeded` and the `x-ratelimit-*` / `retry-after` headers.
 */
export function rateLimited(options: RateLimitOptions): Reply {
  const seconds = options.retryAfterSeconds;
  const model = options.model ?? "gpt-5.5";
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "x-ratelimit-limit-requests": "3",
    "x-ratelimit-remaining-requests": "0",
    "x-ratelimit-reset-requests": `${seconds}s`,
    "x-ratelimit-limit-tokens": "40000",
    "x-ratelimit-remaining-tokens": "39000",
    "x-ratelimit-reset-tokens": "1.5s",
  };
  if (options.sendRetryAfter !== false) {
    headers["retry-after"] = String(seconds);
  }
  return {
    kind: "error",
    status: 429,
    headers,
    body: {
      error: {
        message:
          `Rate limit reached for ${model} in organization org-test on requests per min (RPM): ` +
          `Limit 3, Used 3, Requested 1. Please try again in ${seconds}s. ` +
          "Visit https://platform.openai.com/account/rate-limits to learn more.",
        type: "requests",
        param: null,
        code: "rate_limit_exceeded",
      },
    },
  };
}

/**
 * A 429 as ChatGPT-plan sign-ins get it when the plan's usage limit is used up: error type
 * `usage_limit_reached` with the reset as an epoch (`resets_at`, seconds).
 */
export function usageLimitReached(resetsAtSeconds: number, nowSeconds: number): Reply {
  return {
    kind: "error",
    status: 429,
    headers: { "content-type": "application/json" },
    body: {
      error: {
        type: "usage_limit_reached",
        message: "The usage limit has been reached",
        plan_type: "pro",
        resets_at: resetsAtSeconds,
        resets_in_seconds: resetsAtSeconds - nowSeconds,
      },
    },
  };
}

/** An HTTP error with an OpenAI error body. */
export function httpError(status: number, message: string, code: string | null): Reply {
  return {
    kind: "error",
    status,
    headers: { "content-type": "application/json" },
    body: { error: { message, type: "invalid_request_error", param: null, code } },
  };
}

/** The text of the request's user messages, in order. */
export function userTexts(request: ResponsesRequest): string[] {
  return request.input
    .filter((item) => item.role === "user")
    .map((item) =>
      typeof item.content === "string"
        ? item.content
        : (item.content ?? []).map((part) => part.text ?? "").join(""),
    );
}

/** Tool results the request carries back, by call id (`function_call_output`, `custom_tool_call_output`). */
export function toolOutputs(request: ResponsesRequest): Map<string, string> {
  const outputs = new Map<string, string>();
  for (const item of request.input) {
    if (
      (item.type === "function_call_output" || item.type === "custom_tool_call_output") &&
      item.call_id !== undefined
    ) {
      outputs.set(
        item.call_id,
        typeof item.output === "string" ? item.output : JSON.stringify(item.output),
      );
    }
  }
  return outputs;
}

function readBody(req: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // Not JSON: recorded as null.
    return null;
  }
}

function sendEvent(res: ServerResponse, event: { type: string } & Record<string, unknown>): void {
  res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
}

function textItem(text: string, n: number, status: "in_progress" | "completed") {
  return {
    type: "message",
    id: `msg_${n}`,
    status,
    role: "assistant",
    content: status === "completed" ? [{ type: "output_text", text, annotations: [] }] : [],
  };
}

function toolItem(call: ToolCall, n: number, i: number) {
  const callId = `call_${n}_${i}`;
  return call.type === "function"
    ? {
        type: "function_call",
        id: `fc_${n}_${i}`,
        status: "completed",
        call_id: callId,
        name: call.name,
        arguments: JSON.stringify(call.arguments),
      }
    : {
        type: "custom_tool_call",
        id: `ctc_${n}_${i}`,
        status: "completed",
        call_id: callId,
        name: call.name,
        input: call.input,
      };
}

function streamResponse(
  res: ServerResponse,
  reply: Extract<Reply, { kind: "response" }>,
  n: number,
  model: string,
): void {
  const id = `resp_${n}`;
  const base = { id, object: "response", created_at: Math.floor(Date.now() / 1000), model };
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  sendEvent(res, {
    type: "response.created",
    response: { ...base, status: "in_progress", output: [] },
  });
  const output: unknown[] = [];
  if (reply.text !== null) {
    const index = output.length;
    const item = textItem(reply.text, n, "completed");
    sendEvent(res, {
      type: "response.output_item.added",
      output_index: index,
      item: textItem(reply.text, n, "in_progress"),
    });
    const part = { item_id: item.id, output_index: index, content_index: 0 };
    sendEvent(res, { type: "response.output_text.delta", ...part, delta: reply.text });
    sendEvent(res, { type: "response.output_text.done", ...part, text: reply.text });
    sendEvent(res, { type: "response.output_item.done", output_index: index, item });
    output.push(item);
  }
  reply.toolCalls.forEach((call, i) => {
    const index = output.length;
    const item = toolItem(call, n, i);
    sendEvent(res, { type: "response.output_item.added", output_index: index, item });
    sendEvent(res, { type: "response.output_item.done", output_index: index, item });
    output.push(item);
  });
  const u = reply.usage;
  sendEvent(res, {
    type: "response.completed",
    response: {
      ...base,
      status: "completed",
      output,
      usage: {
        input_tokens: u.inputTokens,
        input_tokens_details: { cached_tokens: u.cachedTokens },
        output_tokens: u.outputTokens,
        output_tokens_details: { reasoning_tokens: u.reasoningTokens },
        total_tokens: u.inputTokens + u.outputTokens,
      },
    },
  });
  res.end();
}

/**
 * Starts the server on a random port of 127.0.0.1. Requests past the end of the script get a
 * 500 and are noted in `problems`.
 *
 * @example
 * const server = await startOpenAIServer([
 *   toolReply([shellCall("ls")], usage({ inputTokens: 100, outputTokens: 10 })),
 *   textReply("Done.", usage({ inputTokens: 150, cachedTokens: 100, outputTokens: 5 })),
 * ]);
 * try { ... } finally { await server.close(); }
 */
export async function startOpenAIServer(script: readonly ScriptStep[]): Promise<OpenAIServer> {
  const requests: RecordedRequest[] = [];
  const problems: string[] = [];
  const usageSent: ReplyUsage = { ...ZERO_USAGE };
  let next = 0;

  const server = createServer((req, res) => {
    const at = Date.now();
    void (async () => {
      const text = await readBody(req);
      const body = text === "" ? null : parseJson(text);
      const path = (req.url ?? "/").split("?")[0] ?? "/";
      const parsed =
        req.method === "POST" && path.endsWith("/responses") ? responsesBody.safeParse(body) : null;
      const request: ResponsesRequest | null =
        parsed?.success === true
          ? {
              model: parsed.data.model,
              input: parsed.data.input,
              tools: (parsed.data.tools ?? []).map((tool) => tool.name ?? tool.type),
            }
          : null;
      requests.push({ at, method: req.method ?? "", path, headers: req.headers, body, request });
      if (request === null) {
        if (parsed !== null) {
          problems.push(
            `request ${requests.length}: not a Responses request: ${text.slice(0, 200)}`,
          );
        }
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: `no route ${path}`, type: "not_found" } }));
        return;
      }
      const n = next++;
      const step = script[n];
      let reply: Reply;
      try {
        if (step === undefined) {
          throw new Error(`the script has ${script.length} step(s); request ${n + 1} has none`);
        }
        reply = typeof step === "function" ? step(request) : step;
      } catch (thrown) {
        const message = thrown instanceof Error ? thrown.message : String(thrown);
        problems.push(`step ${n + 1}: ${message}`);
        reply = httpError(500, `scripted server: ${message}`, null);
      }
      if (reply.kind === "error") {
        res.writeHead(reply.status, reply.headers);
        res.end(JSON.stringify(reply.body));
        return;
      }
      usageSent.inputTokens += reply.usage.inputTokens;
      usageSent.cachedTokens += reply.usage.cachedTokens;
      usageSent.outputTokens += reply.usage.outputTokens;
      usageSent.reasoningTokens += reply.usage.reasoningTokens;
      streamResponse(res, reply, n + 1, request.model);
    })().catch((thrown: unknown) => {
      problems.push(`server error: ${thrown instanceof Error ? thrown.message : String(thrown)}`);
      if (!res.headersSent) {
        res.writeHead(500);
      }
      res.end();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string") {
    server.close();
    throw new Error(`the scripted OpenAI server has no TCP address (${String(address)})`);
  }
  return {
    url: `http://127.0.0.1:${address.port}/v1`,
    requests,
    usageSent,
    problems,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error === undefined ? resolve() : reject(error)));
      }),
  };
}
