/**
 * The Gemini CLI adapter: its argv, and its parser on transcripts in the format of
 * `gemini --output-format stream-json`, assembled from Gemini CLI's source
 * (`packages/core/src/output/types.ts`, `packages/cli/src/nonInteractiveCli.ts`; see
 * `test/fixtures/gemini/README.md`).
 */
import { describe, expect, it } from "vitest";
import type { AgentEvent, FailureInput, InvocationInput } from "./adapter.js";
import { geminiAdapter } from "./gemini-adapter.js";
import { parseGeminiResetAt } from "./gemini-classify.js";
import { createGeminiParser } from "./gemini-parser.js";
import {
  builtinAgent,
  failureInput,
  fixture as fixtureOf,
  invocationInput,
  replay as replayWith,
} from "./adapter-test-kit.js";
import { getAdapter } from "./registry.js";

const NOW = 1_772_446_502_000;
const AGENT = builtinAgent("gemini", { model: "gemini-2.5-pro", passEnv: ["GEMINI_API_KEY"] });

const input = (overrides: Partial<InvocationInput> = {}): InvocationInput =>
  invocationInput(AGENT, overrides);
const failure = (overrides: Partial<FailureInput>): FailureInput => failureInput(NOW, overrides);
const fixture = (file: string): string => fixtureOf("gemini", file);
const replay = (text: string): AgentEvent[] =>
  replayWith(createGeminiParser({ now: () => NOW }), text);

const TRUST = { GEMINI_CLI_TRUST_WORKSPACE: "true" };

describe("geminiAdapter.invocation", () => {
  it("runs headless with stream-json, yolo approvals and the prompt on stdin", () => {
    expect(geminiAdapter.invocation(input())).toEqual({
      argv: [
        "gemini",
        "--output-format",
        "stream-json",
        "--approval-mode",
        "yolo",
        "--model=gemini-2.5-pro",
      ],
      stdin: "prompt",
      env: TRUST,
      initialInput: null,
    });
  });

  it("takes the job's model over the agent's, and passes none when neither has one", () => {
    expect(geminiAdapter.invocation(input({ model: "gemini-2.5-flash" })).argv).toContain(
      "--model=gemini-2.5-flash",
    );
    const none = geminiAdapter.invocation(input({ agent: { ...AGENT, model: null } })).argv;
    expect(none.some((arg) => arg.startsWith("--model"))).toBe(false);
  });

  it("has the same argv with sandboxing off: the workspace is the worktree either way", () => {
    expect(geminiAdapter.invocation(input({ forbiddenDirs: [] }))).toEqual(
      geminiAdapter.invocation(input()),
    );
  });

  it("runs the terminal UI for interactive stages, the prompt as --prompt-interactive", () => {
    expect(geminiAdapter.invocation(input({ interactive: true }))).toEqual({
      argv: [
        "gemini",
        "--approval-mode",
        "yolo",
        "--model=gemini-2.5-pro",
        "--prompt-interactive=Fix the failing test in src/sum.test.ts.",
      ],
      stdin: "null",
      env: TRUST,
      initialInput: null,
    });
  });

  it("cannot be steered, and is registered under its name", () => {
    expect(geminiAdapter.steering).toBe("none");
    expect(getAdapter("gemini")).toBe(geminiAdapter);
  });
});

describe("createGeminiParser", () => {
  it("reads a successful run: session, joined messages, tools, usage, result", () => {
    const events = replay(fixture("success.jsonl"));
    expect(events).toEqual([
      {
        kind: "session",
        sessionId: "6d0c2f5e-8a41-4b7e-9c3d-2f1e0a9b8c7d",
        model: "gemini-2.5-pro",
      },
      { kind: "turn", text: "I'll start by reading the implementation under test." },
      {
        kind: "tool",
        name: "read_file",
        summary: "/srv/baton/worktrees/app/12-fix-sum/src/sum.ts",
      },
      { kind: "turn", text: "`sum` subtracts its arguments. Fixing it." },
      { kind: "tool", name: "replace", summary: "/srv/baton/worktrees/app/12-fix-sum/src/sum.ts" },
      { kind: "tool", name: "run_shell_command", summary: "npm test" },
      {
        kind: "turn",
        text: "Fixed `sum` in src/sum.ts: it subtracted instead of adding. All 4 tests pass.",
      },
      {
        kind: "usage",
        usage: {
          // The prompt less its cached part; output with the 1,140 thinking tokens in the total.
          inputTokens: 26870 - 18230,
          outputTokens: 28412 - 26870,
          cacheReadTokens: 18230,
          cacheWriteTokens: 0,
          costUsd: null,
        },
      },
      {
        kind: "result",
        ok: true,
        text: "Fixed `sum` in src/sum.ts: it subtracted instead of adding. All 4 tests pass.",
        detail: "success",
      },
    ]);
  });

  it("counts stats without `cached` (older versions) as uncached input", () => {
    const events = replay(
      '{"type":"result","timestamp":"2026-03-02T10:15:02.000Z","status":"success",' +
        '"stats":{"total_tokens":130,"input_tokens":100,"output_tokens":30,"duration_ms":5,"tool_calls":0}}',
    );
    expect(events[0]).toEqual({
      kind: "usage",
      usage: {
        inputTokens: 100,
        outputTokens: 30,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
        costUsd: null,
      },
    });
    expect(events[1]).toEqual({ kind: "result", ok: true, text: "", detail: "success" });
  });

  it("reports an exhausted quota with its reset time", () => {
    const events = replay(fixture("quota-exhausted.jsonl"));
    expect(events.map((e) => e.kind)).toEqual(["session", "usage", "error", "result"]);
    expect(events[2]).toEqual({
      kind: "error",
      errorClass: "rate_limit",
      message:
        "rate limited: TerminalQuotaError: [API Error: You have exhausted your capacity on this " +
        "model. Your quota will reset after 2h13m5s.]",
      resetAt: NOW + (2 * 3600 + 13 * 60 + 5) * 1000,
    });
    expect(events[3]).toEqual({
      kind: "result",
      ok: false,
      text: "",
      detail: "TerminalQuotaError",
    });
  });

  it("reports a missing key by Gemini CLI's fatal error class", () => {
    const events = replay(fixture("missing-key.jsonl"));
    expect(events.find((e) => e.kind === "error")).toMatchObject({
      errorClass: "auth",
      message: expect.stringContaining("FatalAuthenticationError: When using Gemini API") as string,
    });
  });

  it("reports error events, not warnings, and flushes the message before them", () => {
    const events = replay(
      [
        '{"type":"message","role":"assistant","content":"Trying again.","delta":true}',
        '{"type":"error","severity":"warning","message":"Loop detected, stopping execution"}',
        '{"type":"error","severity":"error","message":"Maximum session turns exceeded"}',
      ].join("\n"),
    );
    expect(events).toEqual([
      { kind: "turn", text: "Trying again." },
      {
        kind: "error",
        errorClass: "permanent",
        message: "gemini failed: Maximum session turns exceeded",
        resetAt: null,
      },
    ]);
  });
});

describe("parseGeminiResetAt", () => {
  it("reads Gemini's delays, then the shared forms", () => {
    expect(parseGeminiResetAt("Your quota will reset after 16h39m3s.", NOW)).toBe(
      NOW + (16 * 3600 + 39 * 60 + 3) * 1000,
    );
    expect(parseGeminiResetAt("Please retry in 27.5s.", NOW)).toBe(NOW + 27_500);
    expect(
      parseGeminiResetAt('{\\"@type\\": \\"RetryInfo\\", \\"retryDelay\\": \\"41s\\"}', NOW),
    ).toBe(NOW + 41_000);
    expect(parseGeminiResetAt("retry-after: 12", NOW)).toBe(NOW + 12_000);
    expect(parseGeminiResetAt("Quota exceeded", NOW)).toBeNull();
  });
});

describe("geminiAdapter.classifyFailure", () => {
  it("takes the error Gemini CLI reported", () => {
    const tail = fixture("quota-exhausted.jsonl");
    const events = replay(tail);
    expect(geminiAdapter.classifyFailure(failure({ outputTail: tail, events }))).toMatchObject({
      errorClass: "rate_limit",
      resetAt: NOW + (2 * 3600 + 13 * 60 + 5) * 1000,
    });
  });

  it("reads the exit code of Gemini CLI's fatal errors", () => {
    expect(
      geminiAdapter.classifyFailure(
        failure({ exitCode: 41, outputTail: "Loaded cached credentials.\n" }),
      ),
    ).toEqual({
      errorClass: "auth",
      message: "gemini exited with code 41: Loaded cached credentials.",
      resetAt: null,
    });
    expect(geminiAdapter.classifyFailure(failure({ exitCode: 53 })).errorClass).toBe("permanent");
  });

  it("reads the retry it was waiting on when it was stopped", () => {
    const tail = [
      fixture("success.jsonl").split("\n").slice(0, 3).join("\n"),
      "Attempt 2 failed with status 503. Retrying with backoff... The model is overloaded.",
    ].join("\n");
    expect(
      geminiAdapter.classifyFailure(
        failure({ exitCode: null, signal: "SIGTERM", outputTail: tail }),
      ),
    ).toEqual({
      errorClass: "transient",
      message:
        "gemini was killed by SIGTERM while retrying; transient failure: Attempt 2 failed with " +
        "status 503. Retrying with backoff... The model is overloaded.",
      resetAt: null,
    });
  });

  it("falls back to the exit and plain output", () => {
    expect(
      geminiAdapter.classifyFailure(
        failure({ exitCode: 127, outputTail: "sh: gemini: not found\n" }),
      ),
    ).toMatchObject({ errorClass: "permanent" });
  });
});
