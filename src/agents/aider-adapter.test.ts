/**
 * The aider adapter: its argv, and its parser on transcripts of what aider prints with
 * `--no-pretty`, assembled from aider's source (`aider/coders/base_coder.py`, `aider/io.py`,
 * `aider/exceptions.py`; see `test/fixtures/aider/README.md`).
 */
import { describe, expect, it } from "vitest";
import { AppError } from "../core/errors.js";
import type { AgentEvent, FailureInput, InvocationInput } from "./adapter.js";
import { aiderAdapter } from "./aider-adapter.js";
import { createAiderParser } from "./aider-parser.js";
import {
  builtinAgent,
  failureInput,
  fixture as fixtureOf,
  invocationInput,
  replay as replayWith,
} from "./adapter-test-kit.js";
import { getAdapter } from "./registry.js";

const NOW = 1_772_446_502_000;
const AGENT = builtinAgent("aider", { model: "sonnet", passEnv: ["ANTHROPIC_API_KEY"] });

const input = (overrides: Partial<InvocationInput> = {}): InvocationInput =>
  invocationInput(AGENT, overrides);
const failure = (overrides: Partial<FailureInput>): FailureInput => failureInput(NOW, overrides);
const fixture = (file: string): string => fixtureOf("aider", file);
const replay = (text: string): AgentEvent[] =>
  replayWith(createAiderParser({ now: () => NOW }), text);

describe("aiderAdapter.invocation", () => {
  it("sends the prompt file as one message, answering yes, committing nothing", () => {
    expect(aiderAdapter.invocation(input())).toEqual({
      argv: [
        "aider",
        "--message-file",
        "/srv/baton/sessions/s1/prompt.md",
        "--yes-always",
        "--no-auto-commits",
        "--no-dirty-commits",
        "--no-pretty",
        "--no-fancy-input",
        "--no-stream",
        "--no-check-update",
        "--no-show-release-notes",
        "--no-analytics",
        "--no-show-model-warnings",
        "--no-detect-urls",
        "--no-suggest-shell-commands",
        "--chat-history-file",
        "/srv/baton/sessions/s1/prompt.aider.chat.history.md",
        "--input-history-file",
        "/srv/baton/sessions/s1/prompt.aider.input.history",
        "--model",
        "sonnet",
      ],
      stdin: "null",
      env: { BROWSER: "true" },
      initialInput: null,
    });
  });

  it("takes the job's model over the agent's, and passes none when neither has one", () => {
    const argv = aiderAdapter.invocation(input({ model: "gpt-4.1" })).argv;
    expect(argv.slice(-2)).toEqual(["--model", "gpt-4.1"]);
    const none = aiderAdapter.invocation(input({ agent: { ...AGENT, model: null } })).argv;
    expect(none).not.toContain("--model");
  });

  it("has the same argv with sandboxing off: aider has no sandbox to switch", () => {
    expect(aiderAdapter.invocation(input({ forbiddenDirs: [] }))).toEqual(
      aiderAdapter.invocation(input()),
    );
  });

  it("refuses interactive stages, naming the stage", () => {
    expect(() => aiderAdapter.invocation(input({ interactive: true }))).toThrow(AppError);
    expect(() => aiderAdapter.invocation(input({ interactive: true }))).toThrow(
      /stage implement is interactive.*set `interactive: false`/,
    );
  });

  it("cannot be steered, and is registered under its name", () => {
    expect(aiderAdapter.steering).toBe("none");
    expect(getAdapter("aider")).toBe(aiderAdapter);
  });
});

describe("createAiderParser", () => {
  it("reads a run with a follow-up: replies, summed tokens, session cost, the edit", () => {
    expect(replay(fixture("success.log"))).toEqual([
      {
        kind: "turn",
        text:
          "To fix the failing test I need to see the implementation. Please add this file to " +
          "the chat:\n\nsrc/sum.ts",
      },
      {
        kind: "usage",
        usage: {
          inputTokens: 3100,
          outputTokens: 46,
          cacheReadTokens: 0,
          cacheWriteTokens: 0,
          costUsd: 0.01,
        },
      },
      {
        kind: "turn",
        text: [
          "`sum` subtracts its arguments instead of adding them. Here is the fix:",
          "",
          "src/sum.ts",
          "```typescript",
          "<<<<<<< SEARCH",
          "export const sum = (a: number, b: number) => a - b;",
          "=======",
          "export const sum = (a: number, b: number) => a + b;",
          ">>>>>>> REPLACE",
          "```",
        ].join("\n"),
      },
      {
        kind: "usage",
        usage: {
          // `sent` includes the cache write; the cache hit is apart.
          inputTokens: 3100 + (3400 - 2900),
          outputTokens: 46 + 95,
          cacheReadTokens: 1200,
          cacheWriteTokens: 2900,
          costUsd: 0.03,
        },
      },
      { kind: "tool", name: "edit", summary: "src/sum.ts" },
    ]);
  });

  it("ends the turn on a rate limit, with the reset the provider gave", () => {
    expect(replay(fixture("rate-limit.log"))).toEqual([
      {
        kind: "error",
        errorClass: "rate_limit",
        message: expect.stringMatching(
          /^rate limited: litellm\.RateLimitError: .*Please try again in 6\.4s\./,
        ) as string,
        resetAt: NOW + 6400,
      },
      { kind: "result", ok: false, text: "", detail: "RateLimitError" },
    ]);
  });

  it("ends the turn on an error aider does not retry", () => {
    const events = replay(fixture("unauthorized.log"));
    expect(events.map((e) => e.kind)).toEqual(["error", "result"]);
    expect(events[0]).toMatchObject({ errorClass: "auth", resetAt: null });
    expect(events[1]).toEqual({
      kind: "result",
      ok: false,
      text: "",
      detail: "AuthenticationError",
    });
  });

  it("only reports an error aider retries, and reads the reply that follows", () => {
    const events = replay(fixture("overloaded-then-ok.log"));
    expect(events.map((e) => e.kind)).toEqual(["error", "turn", "usage"]);
    expect(events[0]).toMatchObject({ kind: "error", errorClass: "transient" });
    expect(events[1]).toEqual({
      kind: "turn",
      text: "The tests only cover `sum`; nothing else needs to change.",
    });
  });

  it("reads older aider's exact counts, and a cost printed on its own line", () => {
    const events = replay(
      [
        "Tokens: 1,234 sent, 56 received. Cost: $0.0042 request, $0.0042 session.",
        "Tokens: 12k sent, 2.1k cache write, 8.2k cache hit, 1.5k received.",
        "Cost: $0.0123 message, $0.0165 session.",
      ].join("\n"),
    );
    expect(events.map((e) => (e.kind === "usage" ? e.usage : e.kind))).toEqual([
      {
        inputTokens: 1234,
        outputTokens: 56,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
        costUsd: 0.0042,
      },
      {
        inputTokens: 1234 + 9900,
        outputTokens: 1556,
        cacheReadTokens: 8200,
        cacheWriteTokens: 2100,
        costUsd: 0.0042,
      },
      {
        inputTokens: 1234 + 9900,
        outputTokens: 1556,
        cacheReadTokens: 8200,
        cacheWriteTokens: 2100,
        costUsd: 0.0165,
      },
    ]);
  });

  it("leaves the cost unknown for a model aider has no price for", () => {
    const [usage] = replay("Tokens: 900 sent, 40 received.");
    expect(usage).toMatchObject({ kind: "usage", usage: { inputTokens: 900, costUsd: null } });
  });

  it("fails the turn when the model hit its token limit", () => {
    const events = replay(
      "Model gpt-4.1 has hit a token limit!\nToken counts below are approximate.",
    );
    expect(events).toEqual([
      {
        kind: "error",
        errorClass: "permanent",
        message: "aider failed: Model gpt-4.1 has hit a token limit!",
        resetAt: null,
      },
      { kind: "result", ok: false, text: "", detail: "token limit" },
    ]);
  });
});

describe("aiderAdapter.classifyFailure", () => {
  it("takes the last error aider printed", () => {
    const tail = fixture("rate-limit.log");
    const events = replay(tail);
    expect(
      aiderAdapter.classifyFailure(failure({ exitCode: 0, outputTail: tail, events })),
    ).toMatchObject({
      errorClass: "rate_limit",
      resetAt: NOW + 6400,
    });
  });

  it("falls back to the exit and output", () => {
    expect(
      aiderAdapter.classifyFailure(
        failure({
          exitCode: 2,
          outputTail: "aider: error: unrecognized arguments: --no-detect-urls\n",
        }),
      ),
    ).toEqual({
      errorClass: "permanent",
      message: "exited with code 2: aider: error: unrecognized arguments: --no-detect-urls",
      resetAt: null,
    });
  });
});
