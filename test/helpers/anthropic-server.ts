/**
 * A scripted Anthropic-compatible Messages API on 127.0.0.1, for running the real Claude Code CLI
 * offline (`ANTHROPIC_BASE_URL=server.url`). STYLE §11: the model API is mocked with a fake HTTP
 * server, never a module mock.
 *
 * Requests are told apart by what they carry:
 *   main  `POST /v1/messages` with tools: the agent loop. Each takes the next step of the script.
 *   side  `POST /v1/messages` without tools (the CLI's session-title call, and any other helper
 *         call): answered by `sideReply`, never from the script.
 *   other `HEAD /` (the CLI's connectivity check), `count_tokens`, anything else: answered
 *         without touching the script.
 * Every request is recorded (method, path, headers, parsed body) for assertions, and every
 * token count the server reports is added up, so tests can compare the CLI's totals with it.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";

export interface ReplyUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

export type ReplyBlock =
  | { type: "text"; text: string }
  | { type: "tool_use"; name: string; input: Record<string, unknown> };

export type Reply =
  | {
      kind: "message";
      content: ReplyBlock[];
      usage: ReplyUsage;
      /** Wait this long before answering (a slow model), in ms. */
      delayMs: number;
    }
  | { kind: "error"; status: number; headers: Record<string, string>; body: unknown };

/** One step of the script: a fixed reply, or one computed from the request it answers. */
export type ScriptStep = Reply | ((request: MessagesRequest) => Reply);

const contentBlock = z.looseObject({
  type: z.string(),
  text: z.string().optional(),
  tool_use_id: z.string().optional(),
  content: z.unknown().optional(),
  is_error: z.boolean().optional(),
});
const message = z.looseObject({
  role: z.string(),
  content: z.union([z.string(), z.array(contentBlock)]),
});
const messagesBody = z.looseObject({
  model: z.string(),
  messages: z.array(message),
  tools: z.array(z.looseObject({ name: z.string() })).optional(),
  output_config: z
    .looseObject({ format: z.looseObject({ type: z.string() }).optional() })
    .optional(),
});

export type RequestMessage = z.infer<typeof message>;

/** A Messages API request as the script sees it. */
export interface MessagesRequest {
  model: string;
  messages: RequestMessage[];
  /** Names of the tools the CLI offered. */
  tools: string[];
  /** The CLI asked for JSON matching a schema (`output_config.format`). */
  wantsJson: boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The JSON body, or `null` when there was none or it was not JSON. */
  body: unknown;
  kind: "main" | "side" | "other";
  /** The parsed Messages request, for `main` and `side`. */
  messages: MessagesRequest | null;
}

export interface AnthropicServer {
  /** `http://127.0.0.1:<port>`, for `ANTHROPIC_BASE_URL`. */
  readonly url: string;
  /** Every request so far, in arrival order. */
  readonly requests: readonly RecordedRequest[];
  /** The agent loop's requests (`kind: "main"`), parsed. */
  mainRequests(): MessagesRequest[];
  /** Tokens reported in every successful reply so far, main and side. */
  usage(): ReplyUsage;
  /** Main requests that found the script used up (each got a "script exhausted" text). */
  readonly exhausted: number;
  /** Adds steps to the end of the script. */
  push(...steps: ScriptStep[]): void;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

export interface AnthropicServerOptions {
  script: ScriptStep[];
  /** Answers side requests; default: `{"title":"Scripted session"}` or "ok". */
  sideReply?: (request: MessagesRequest) => Reply;
}

const DEFAULT_USAGE: ReplyUsage = {
  inputTokens: 100,
  outputTokens: 20,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
};
const SIDE_USAGE: ReplyUsage = {
  inputTokens: 11,
  outputTokens: 3,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
};

/** A text reply that ends the turn. */
export function say(text: string, usage: Partial<ReplyUsage> = {}): Reply {
  return {
    kind: "message",
    content: [{ type: "text", text }],
    usage: withDefaults(usage),
    delayMs: 0,
  };
}

/** A reply that calls one tool, optionally after some text. */
export function useTool(
  name: string,
  input: Record<string, unknown>,
  options: { text?: string; usage?: Partial<ReplyUsage>; delayMs?: number } = {},
): Reply {
  const content: ReplyBlock[] = [];
  if (options.text !== undefined) {
    content.push({ type: "text", text: options.text });
  }
  content.push({ type: "tool_use", name, input });
  return {
    kind: "message",
    content,
    usage: withDefaults(options.usage ?? {}),
    delayMs: options.delayMs ?? 0,
  };
}

/**
 * An HTTP 429 as the API sends it to API-key users: a `rate_limit_error` body, `retry-after` in
 * seconds and the `anthropic-ratelimit-*-reset` headers (RFC 3339). With `unifiedResetAt`
 * (epoch seconds), also the `anthropic-ratelimit-unified-*` headers subscription plans get.
 */
export function rateLimited(options: {
  retryAfterSeconds: number;
  resetAt: Date;
  unifiedResetAt?: number;
  message?: string;
}): Reply {
  const reset = options.resetAt.toISOString().replace(/\.\d{3}Z$/, "Z");
  const headers: Record<string, string> = {
    "retry-after": String(options.retryAfterSeconds),
    "anthropic-ratelimit-requests-limit": "50",
    "anthropic-ratelimit-requests-remaining": "0",
    "anthropic-ratelimit-requests-reset": reset,
    "anthropic-ratelimit-tokens-limit": "40000",
    "anthropic-ratelimit-tokens-remaining": "0",
    "anthropic-ratelimit-tokens-reset": reset,
    "anthropic-ratelimit-input-tokens-limit": "30000",
    "anthropic-ratelimit-input-tokens-remaining": "0",
    "anthropic-ratelimit-input-tokens-reset": reset,
    "anthropic-ratelimit-output-tokens-limit": "10000",
    "anthropic-ratelimit-output-tokens-remaining": "0",
    "anthropic-ratelimit-output-tokens-reset": reset,
  };
  if (options.unifiedResetAt !== undefined) {
    const at = String(options.unifiedResetAt);
    headers["anthropic-ratelimit-unified-status"] = "rejected";
    headers["anthropic-ratelimit-unified-reset"] = at;
    headers["anthropic-ratelimit-unified-representative-claim"] = "five_hour";
    headers["anthropic-ratelimit-unified-5h-status"] = "rejected";
    headers["anthropic-ratelimit-unified-5h-reset"] = at;
  }
  return apiError(
    429,
    "rate_limit_error",
    options.message ??
      "Number of request tokens has exceeded your per-minute rate limit " +
        "(https://docs.claude.com/en/api/rate-limits); see the response headers for current usage.",
    headers,
  );
}

/** An API error response: `{"type":"error","error":{"type","message"},"request_id"}`. */
export function apiError(
  status: number,
  type: string,
  message: string,
  headers: Record<string, string> = {},
): Reply {
  const requestId = `req_test_${status}`;
  return {
    kind: "error",
    status,
    headers: { "request-id": requestId, ...headers },
    body: { type: "error", error: { type, message }, request_id: requestId },
  };
}

/** The text of the last `user` message (its text blocks joined), or "". */
export function lastUserText(request: MessagesRequest): string {
  const last = request.messages.findLast((m) => m.role === "user");
  return last === undefined ? "" : messageText(last);
}

/** The tool results the last `user` message carries, content flattened to text. */
export function toolResults(
  request: MessagesRequest,
): { toolUseId: string; content: string; isError: boolean }[] {
  const last = request.messages.findLast((m) => m.role === "user");
  if (last === undefined || typeof last.content === "string") {
    return [];
  }
  return last.content
    .filter((block) => block.type === "tool_result")
    .map((block) => ({
      toolUseId: block.tool_use_id ?? "",
      content: flatten(block.content),
      isError: block.is_error === true,
    }));
}

/** Text of a message: a string content, or its text blocks (and tool results) joined. */
export function messageText(m: RequestMessage): string {
  if (typeof m.content === "string") {
    return m.content;
  }
  return m.content.map((block) => block.text ?? flatten(block.content)).join("\n");
}

/**
 * Starts the server on a random port of 127.0.0.1.
 *
 * @example
 * const server = await startAnthropicServer({ script: [useTool("Write", {...}), say("done")] });
 * try { ... env.ANTHROPIC_BASE_URL = server.url ... } finally { await server.close(); }
 */
export async function startAnthropicServer(
  options: AnthropicServerOptions,
): Promise<AnthropicServer> {
  const script = [...options.script];
  const sideReply = options.sideReply ?? defaultSideReply;
  const requests: RecordedRequest[] = [];
  const totals: ReplyUsage = {
    inputTokens: 0,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheWriteTokens: 0,
  };
  let exhausted = 0;
  let sequence = 0;

  const answer = async (reply: Reply, res: ServerResponse): Promise<void> => {
    if (reply.kind === "error") {
      res.writeHead(reply.status, { "content-type": "application/json", ...reply.headers });
      res.end(JSON.stringify(reply.body));
      return;
    }
    if (reply.delayMs > 0) {
      await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
    }
    sequence += 1;
    totals.inputTokens += reply.usage.inputTokens;
    totals.outputTokens += reply.usage.outputTokens;
    totals.cacheReadTokens += reply.usage.cacheReadTokens;
    totals.cacheWriteTokens += reply.usage.cacheWriteTokens;
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    res.end(sseMessage(`msg_test_${sequence}`, sequence, reply.content, reply.usage));
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const body = parseJson(text);
      const path = req.url ?? "/";
      const method = req.method ?? "GET";
      const isMessages = method === "POST" && /^\/v1\/messages(\?|$)/.test(path);
      const parsed = isMessages ? messagesBody.safeParse(body) : null;
      const request: MessagesRequest | null =
        parsed?.success === true
          ? {
              model: parsed.data.model,
              messages: parsed.data.messages,
              tools: (parsed.data.tools ?? []).map((tool) => tool.name),
              wantsJson: parsed.data.output_config?.format !== undefined,
            }
          : null;
      const kind = request === null ? "other" : request.tools.length > 0 ? "main" : "side";
      requests.push({ method, path, headers: req.headers, body, kind, messages: request });
      if (request === null) {
        answerOther(method, path, res);
        return;
      }
      let reply: Reply;
      if (kind === "side") {
        reply = sideReply(request);
      } else {
        const step = script.shift();
        if (step === undefined) {
          exhausted += 1;
          reply = say("(the scripted server has no more replies)");
        } else {
          reply = typeof step === "function" ? step(request) : step;
        }
      }
      answer(reply, res).catch((error: unknown) =>
        res.destroy(error instanceof Error ? error : undefined),
      );
    });
  });
  server.listen(0, "127.0.0.1");
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    mainRequests: () =>
      requests.flatMap((r) => (r.kind === "main" && r.messages !== null ? [r.messages] : [])),
    usage: () => ({ ...totals }),
    get exhausted() {
      return exhausted;
    },
    push: (...steps) => {
      script.push(...steps);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function withDefaults(usage: Partial<ReplyUsage>): ReplyUsage {
  return { ...DEFAULT_USAGE, ...usage };
}

function defaultSideReply(request: MessagesRequest): Reply {
  return say(request.wantsJson ? '{"title":"Scripted session"}' : "ok", SIDE_USAGE);
}

function answerOther(method: string, path: string, res: ServerResponse): void {
  if (method === "HEAD" || (method === "GET" && path === "/")) {
    res.writeHead(200).end();
    return;
  }
  if (method === "POST" && path.startsWith("/v1/messages/count_tokens")) {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ input_tokens: 100 }));
    return;
  }
  res.writeHead(404, { "content-type": "application/json" });
  res.end(
    JSON.stringify({
      type: "error",
      error: { type: "not_found_error", message: `${method} ${path} is not scripted` },
    }),
  );
}

/**
 * The Messages API's stream for one reply: `message_start` (input and cache tokens, output 1),
 * a start/delta/stop triple per content block, `message_delta` (stop reason, final output
 * tokens) and `message_stop`, as the real API sends them.
 */
function sseMessage(
  id: string,
  sequence: number,
  content: ReplyBlock[],
  usage: ReplyUsage,
): string {
  const events: string[] = [];
  const send = (type: string, data: Record<string, unknown>): void => {
    events.push(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
  };
  send("message_start", {
    message: {
      id,
      type: "message",
      role: "assistant",
      model: "claude-scripted",
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: {
        input_tokens: usage.inputTokens,
        cache_creation_input_tokens: usage.cacheWriteTokens,
        cache_read_input_tokens: usage.cacheReadTokens,
        output_tokens: 1,
      },
    },
  });
  send("ping", {});
  content.forEach((block, index) => {
    if (block.type === "text") {
      send("content_block_start", { index, content_block: { type: "text", text: "" } });
      send("content_block_delta", { index, delta: { type: "text_delta", text: block.text } });
    } else {
      const toolId = `toolu_test_${sequence}_${index}`;
      send("content_block_start", {
        index,
        content_block: { type: "tool_use", id: toolId, name: block.name, input: {} },
      });
      send("content_block_delta", {
        index,
        delta: { type: "input_json_delta", partial_json: JSON.stringify(block.input) },
      });
    }
    send("content_block_stop", { index });
  });
  const usesTool = content.some((block) => block.type === "tool_use");
  send("message_delta", {
    delta: { stop_reason: usesTool ? "tool_use" : "end_turn", stop_sequence: null },
    usage: { output_tokens: usage.outputTokens },
  });
  send("message_stop", {});
  return events.join("");
}

function parseJson(text: string): unknown {
  if (text === "") {
    return null;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // Not JSON: recorded as no body.
    return null;
  }
}

function flatten(content: unknown): string {
  if (typeof content === "string") {
    return content;
  }
  if (Array.isArray(content)) {
    return content
      .map((part: unknown) =>
        typeof part === "object" && part !== null && "text" in part && typeof part.text === "string"
          ? part.text
          : "",
      )
      .join("");
  }
  return "";
}
