/**
 * The OpenCode adapter: its argv, and its parser on transcripts in the format of
 * `opencode run --format json`, assembled from OpenCode's source (`cli/cmd/run.ts`,
 * `session/message-v2.ts`; see `test/fixtures/opencode/README.md`).
 */
import { describe, expect, it } from "vitest";
import { AppError } from "../core/errors.js";
import type { AgentEvent, FailureInput, InvocationInput } from "./adapter.js";
import { classifyOpenCodeError } from "./opencode-classify.js";
import { openCodeAdapter } from "./opencode-adapter.js";
import { createOpenCodeParser } from "./opencode-parser.js";
import {
  builtinAgent,
  failureInput,
  fixture as fixtureOf,
  invocationInput,
  replay as replayWith,
} from "./adapter-test-kit.js";
import { getAdapter } from "./registry.js";

const NOW = 1_772_450_102_000;
const AGENT = builtinAgent("opencode", { model: "anthropic/claude-sonnet-4-5" });

const input = (overrides: Partial<InvocationInput> = {}): InvocationInput =>
  invocationInput(AGENT, {
    prompt: "Fix the bug; `rm -rf /` is not a command here.",
    ...overrides,
  });
const failure = (overrides: Partial<FailureInput>): FailureInput => failureInput(NOW, overrides);
const fixture = (file: string): string => fixtureOf("opencode", file);
const replay = (text: string): AgentEvent[] =>
  replayWith(createOpenCodeParser({ now: () => NOW }), text);

describe("openCodeAdapter.invocation", () => {
  it("runs `opencode run --format json` with the prompt on stdin, outside dirs denied", () => {
    const invocation = openCodeAdapter.invocation(input());
    expect(invocation).toEqual({
      argv: ["opencode", "run", "--format", "json", "--model=anthropic/claude-sonnet-4-5"],
      stdin: "prompt",
      env: { OPENCODE_PERMISSION: '{"external_directory":"deny"}' },
      initialInput: null,
    });
    expect(invocation.argv.join(" ")).not.toContain("rm -rf");
  });

  it("allows outside dirs with sandboxing off, and takes the job's model over the agent's", () => {
    const invocation = openCodeAdapter.invocation(
      input({ forbiddenDirs: [], model: "openai/gpt-5.1-codex" }),
    );
    expect(invocation.argv).toContain("--model=openai/gpt-5.1-codex");
    expect(invocation.env).toEqual({ OPENCODE_PERMISSION: '{"external_directory":"allow"}' });
    const none = openCodeAdapter.invocation(input({ agent: { ...AGENT, model: null } }));
    expect(none.argv).toEqual(["opencode", "run", "--format", "json"]);
  });

  it("refuses a model without its provider", () => {
    expect(() => openCodeAdapter.invocation(input({ model: "sonnet" }))).toThrow(AppError);
    expect(() => openCodeAdapter.invocation(input({ model: "sonnet" }))).toThrow(
      /provider\/model, e\.g\. anthropic\/sonnet/,
    );
  });

  it("runs the terminal UI for interactive stages, with the prompt or a pointer to it", () => {
    expect(openCodeAdapter.invocation(input({ interactive: true }))).toEqual({
      argv: [
        "opencode",
        "--model=anthropic/claude-sonnet-4-5",
        "--prompt=Fix the bug; `rm -rf /` is not a command here.",
      ],
      stdin: "null",
      env: { OPENCODE_PERMISSION: '{"external_directory":"deny"}' },
      initialInput: null,
    });
    const long = openCodeAdapter.invocation(
      input({ interactive: true, prompt: "x".repeat(70_000) }),
    );
    expect(long.argv.at(-1)).toBe(
      "--prompt=Your task is in the file /srv/baton/sessions/s1/prompt.md. Read it first, then carry it out.",
    );
  });

  it("cannot be steered, and is registered under its name", () => {
    expect(openCodeAdapter.steering).toBe("none");
    expect(getAdapter("opencode")).toBe(openCodeAdapter);
    expect(openCodeAdapter.createParser()).not.toBeNull();
  });
});

describe("createOpenCodeParser", () => {
  it("reads a successful run: session, texts, tools, summed usage with cost, one result", () => {
    const events = replay(fixture("success.jsonl"));
    expect(events.map((e) => e.kind)).toEqual([
      "session",
      "turn",
      "tool",
      "tool",
      "usage",
      "tool",
      "tool",
      "usage",
      "turn",
      "usage",
      "result",
    ]);
    expect(events[0]).toEqual({
      kind: "session",
      sessionId: "ses_3f1c9a2e7ffeQ4mZ0b8Hn2kLdV",
      model: null,
    });
    expect(events.filter((e) => e.kind === "tool")).toEqual([
      { kind: "tool", name: "read", summary: "/srv/baton/worktrees/app/12-fix-sum/src/sum.ts" },
      { kind: "tool", name: "bash", summary: "npm test -- src/sum.test.ts" },
      { kind: "tool", name: "edit", summary: "/srv/baton/worktrees/app/12-fix-sum/src/sum.ts" },
      { kind: "tool", name: "bash", summary: "npm test" },
    ]);
    const usage = events[9];
    expect(usage?.kind === "usage" ? usage.usage : null).toEqual({
      inputTokens: 3 + 2 + 2,
      outputTokens: 212 + 121 + 48,
      cacheReadTokens: 0 + 10842 + 11340,
      cacheWriteTokens: 10842 + 498 + 4,
      costUsd: expect.closeTo(0.04316 + 0.01107 + 0.00502, 10) as number,
    });
    const final =
      "Fixed `sum` in src/sum.ts: it subtracted instead of adding. The whole suite passes.";
    expect(events.at(-1)).toEqual({ kind: "result", ok: true, text: final, detail: "stop" });
  });

  it("ends the turn at the last step in versions that print no `done`", () => {
    const lines = fixture("success.jsonl").trimEnd().split("\n");
    expect(lines.at(-1)).toContain('"type":"done"');
    const events = replay(lines.slice(0, -1).join("\n"));
    expect(events.filter((e) => e.kind === "result")).toHaveLength(1);
    expect(events.at(-1)).toMatchObject({ kind: "result", ok: true, detail: "stop" });
  });

  it("ends the turn at `done` when no step did, and reports each part once", () => {
    const text = `{"type":"text","sessionID":"ses_1","part":{"id":"prt_1","type":"text","text":"Done."}}`;
    const events = replay(
      [
        `{"type":"step_start","sessionID":"ses_1","part":{"type":"step-start"}}`,
        text,
        text,
        "INFO  2026-03-02T10:15:02 +12ms service=bus type=session.idle publishing",
        `{"type":"done","sessionID":"ses_1","reason":"idle","rejected":[]}`,
        `{"type":"done","sessionID":"ses_1","reason":"idle","rejected":[]}`,
      ].join("\n"),
    );
    expect(events).toEqual([
      { kind: "session", sessionId: "ses_1", model: null },
      { kind: "turn", text: "Done." },
      { kind: "result", ok: true, text: "Done.", detail: "done" },
    ]);
  });

  it("fails the turn when the model stopped on its length limit, and leaves a 0 cost unknown", () => {
    const events = replay(
      `{"type":"step_finish","sessionID":"ses_2","part":{"type":"step-finish","reason":"length",` +
        `"cost":0,"tokens":{"input":900,"output":4096,"reasoning":512,"cache":{"read":0,"write":0}}}}`,
    );
    expect(events.slice(1)).toEqual([
      {
        kind: "usage",
        usage: {
          inputTokens: 900,
          outputTokens: 4608,
          cacheReadTokens: 0,
          cacheWriteTokens: 0,
          costUsd: null,
        },
      },
      { kind: "result", ok: false, text: "", detail: "length" },
    ]);
  });

  it("reports a rate limit OpenCode gave up on, with the reset from retry-after", () => {
    expect(replay(fixture("rate-limit.jsonl"))).toEqual([
      { kind: "session", sessionId: "ses_3f1b8e0c4ffeA1sD2fG3hJ4kLz", model: null },
      {
        kind: "error",
        errorClass: "rate_limit",
        message:
          "rate limited: APIError: This request would exceed your organization's rate limit of " +
          "30,000 input tokens per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits.",
        resetAt: NOW + 1800 * 1000,
      },
      { kind: "result", ok: false, text: "", detail: "APIError" },
    ]);
  });

  it("reports a rejected key as an auth failure", () => {
    const events = replay(fixture("unauthorized.jsonl"));
    expect(events.find((e) => e.kind === "error")).toEqual({
      kind: "error",
      errorClass: "auth",
      message: "authentication failed: APIError: invalid x-api-key",
      resetAt: null,
    });
  });
});

describe("classifyOpenCodeError", () => {
  it("classifies by OpenCode's error name, then the HTTP status, then the words", () => {
    expect(
      classifyOpenCodeError(
        { name: "ProviderAuthError", data: { message: "No API key for anthropic" } },
        NOW,
      ).errorClass,
    ).toBe("auth");
    expect(
      classifyOpenCodeError(
        { name: "APIError", data: { message: "Overloaded", statusCode: 529 } },
        NOW,
      ).errorClass,
    ).toBe("transient");
    expect(
      classifyOpenCodeError(
        { name: "APIError", data: { message: "model: x", statusCode: 404 } },
        NOW,
      ).errorClass,
    ).toBe("permanent");
    expect(
      classifyOpenCodeError(
        { name: "ContextOverflowError", data: { message: "too long: 429" } },
        NOW,
      ).errorClass,
    ).toBe("permanent");
    expect(
      classifyOpenCodeError({ name: "UnknownError", data: { message: "Free usage exceeded" } }, NOW)
        .errorClass,
    ).toBe("rate_limit");
    expect(
      classifyOpenCodeError(
        {
          name: "APIError",
          data: { message: "Cannot connect to API: other side closed", isRetryable: true },
        },
        NOW,
      ).errorClass,
    ).toBe("transient");
  });

  it("reads the reset from retry-after-ms first", () => {
    const verdict = classifyOpenCodeError(
      {
        name: "APIError",
        data: {
          message: "rate limited",
          statusCode: 429,
          responseHeaders: { "Retry-After-Ms": "2500", "retry-after": "3" },
        },
      },
      NOW,
    );
    expect(verdict.resetAt).toBe(NOW + 2500);
  });
});

describe("openCodeAdapter.classifyFailure", () => {
  it("takes the last error event", () => {
    const events = replay(fixture("rate-limit.jsonl"));
    expect(openCodeAdapter.classifyFailure(failure({ events }))).toMatchObject({
      errorClass: "rate_limit",
      resetAt: NOW + 1800 * 1000,
    });
  });

  it("reads only the plain lines of the output otherwise", () => {
    // Token counts inside events are not HTTP statuses.
    const tail =
      `{"type":"step_finish","sessionID":"ses_3","part":{"type":"step-finish","reason":"tool-calls",` +
      `"cost":0.01,"tokens":{"input":429,"output":503,"reasoning":0,"cache":{"read":0,"write":0}}}}\n` +
      "Killed\n";
    expect(
      openCodeAdapter.classifyFailure(
        failure({ exitCode: null, signal: "SIGKILL", outputTail: tail }),
      ),
    ).toEqual({ errorClass: "permanent", message: "was killed by SIGKILL: Killed", resetAt: null });
    expect(
      openCodeAdapter.classifyFailure(
        failure({ exitCode: 127, outputTail: "sh: opencode: not found" }),
      ),
    ).toMatchObject({ errorClass: "permanent" });
  });
});
