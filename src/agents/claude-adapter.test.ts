import { describe, expect, it } from "vitest";
import type { AgentEvent, InvocationInput } from "./adapter.js";
import {
  claudeAdapter,
  denyRules,
  INTERACTIVE_SETTINGS,
  userMessageLine,
} from "./claude-adapter.js";
import { summarizeToolInput } from "./claude-output.js";
import { builtinAgent, fixture as fixtureOf, invocationInput, replay } from "./adapter-test-kit.js";
import { getAdapter } from "./registry.js";

/** Transcripts recorded from the real CLI by `test/fixtures/claude/record.ts`. */
const fixture = (file: string): string => fixtureOf("claude", file);
const parse = (text: string): AgentEvent[] => replay(claudeAdapter.createParser(), text);

const agent = builtinAgent("claude");

const input = (overrides: Partial<InvocationInput> = {}): InvocationInput =>
  invocationInput(agent, {
    promptFile: "/baton/sessions/s1/prompt.md",
    prompt: "Fix the bug.\nThen run the tests.",
    worktree: "/baton/worktrees/app/1-fix",
    taskNumber: 1,
    forbiddenDirs: [],
    ...overrides,
  });

const PERMISSIONS = ["--permission-mode", "acceptEdits", "--allowedTools", "Bash"];

describe("claude adapter: invocation", () => {
  it("is registered under its name and steers through stdin", () => {
    expect(getAdapter("claude")).toBe(claudeAdapter);
    expect(claudeAdapter.steering).toBe("stdin");
  });

  it("runs a session as stream-json in and out, the prompt as the first message on the FIFO", () => {
    const invocation = claudeAdapter.invocation(input());
    expect(invocation).toEqual({
      argv: [
        "claude",
        "-p",
        "--output-format",
        "stream-json",
        "--verbose",
        "--input-format",
        "stream-json",
        "--replay-user-messages",
        ...PERMISSIONS,
      ],
      stdin: "fifo",
      env: {},
      initialInput: userMessageLine("Fix the bug.\nThen run the tests."),
    });
    expect(invocation.initialInput?.endsWith("\n")).toBe(true);
    expect(invocation.initialInput?.slice(0, -1)).not.toContain("\n");
    expect(JSON.parse(invocation.initialInput ?? "")).toEqual({
      type: "user",
      message: {
        role: "user",
        content: [{ type: "text", text: "Fix the bug.\nThen run the tests." }],
      },
    });
  });

  it("takes the job's model over the agent's, and passes none when neither is set", () => {
    const withAgentModel = { ...agent, model: "sonnet" };
    expect(claudeAdapter.invocation(input({ agent: withAgentModel })).argv).toContain("sonnet");
    const argv = claudeAdapter.invocation(input({ agent: withAgentModel, model: "opus" })).argv;
    expect(argv.slice(argv.indexOf("--model"), argv.indexOf("--model") + 2)).toEqual([
      "--model",
      "opus",
    ]);
    expect(claudeAdapter.invocation(input()).argv).not.toContain("--model");
  });

  it("runs one-shot with the prompt file as text on stdin", () => {
    expect(claudeAdapter.invocation(input({ oneShot: true }))).toEqual({
      argv: ["claude", "-p", "--output-format", "stream-json", "--verbose", ...PERMISSIONS],
      stdin: "prompt",
      env: {},
      initialInput: null,
    });
  });

  it("runs the terminal UI with the prompt as its last argument, after --", () => {
    expect(claudeAdapter.invocation(input({ interactive: true }))).toEqual({
      argv: [
        "claude",
        "--settings",
        INTERACTIVE_SETTINGS,
        ...PERMISSIONS,
        "--",
        "Fix the bug.\nThen run the tests.",
      ],
      stdin: "null",
      env: {},
      initialInput: null,
    });
    const long = claudeAdapter.invocation(input({ interactive: true, prompt: "x".repeat(70_000) }));
    expect(long.argv.slice(-4)).toEqual([
      "Bash",
      "Read(//baton/sessions/s1/prompt.md)",
      "--",
      "Your task is in the file /baton/sessions/s1/prompt.md. Read it first, then carry it out.",
    ]);
  });

  it("reports the turns of the terminal UI through hooks that never block Claude Code", () => {
    const command = (signal: string) => ({
      type: "command",
      command: `baton session event --type ${signal} >/dev/null || exit 1`,
    });
    expect(JSON.parse(INTERACTIVE_SETTINGS)).toEqual({
      hooks: {
        UserPromptSubmit: [{ hooks: [command("active")] }],
        Stop: [{ hooks: [command("idle")] }],
        Notification: [{ matcher: "idle_prompt", hooks: [command("idle")] }],
      },
    });
    expect(claudeAdapter.invocation(input()).argv).not.toContain("--settings");
    expect(claudeAdapter.invocation(input({ oneShot: true })).argv).not.toContain("--settings");
  });

  it("denies reads, edits and commands naming the forbidden directories", () => {
    const argv = claudeAdapter.invocation(input({ forbiddenDirs: ["/home/me/app/"] })).argv;
    expect(argv.slice(argv.indexOf("--disallowedTools"))).toEqual([
      "--disallowedTools",
      "Read(//home/me/app/**)",
      "Edit(//home/me/app/**)",
      "Bash(*/home/me/app)",
      "Bash(*/home/me/app/*)",
      "Bash(*/home/me/app *)",
    ]);
  });

  it("never forbids a directory that holds the worktree, and rejects relative ones", () => {
    expect(
      denyRules(["/baton", "/baton/worktrees/app/1-fix", "/"], "/baton/worktrees/app/1-fix"),
    ).toEqual([]);
    expect(denyRules(["/baton/worktrees/app/1"], "/baton/worktrees/app/1-fix")).toHaveLength(5);
    expect(() => denyRules(["app"], "/w")).toThrow(/not an absolute path/);
  });

  it("pre-approves file tools everywhere for an agent with sandbox: false", () => {
    const argv = claudeAdapter.invocation(input({ agent: { ...agent, sandbox: false } })).argv;
    expect(argv.slice(argv.indexOf("--allowedTools"))).toEqual([
      "--allowedTools",
      "Bash",
      "Edit",
      "Write",
      "Read",
    ]);
  });

  it("steers with one stream-json user message line", () => {
    const text = claudeAdapter.steerText('Stop.\nUse "pnpm" instead.');
    expect(text.split("\n")).toHaveLength(2);
    expect(JSON.parse(text)).toEqual({
      type: "user",
      message: { role: "user", content: [{ type: "text", text: 'Stop.\nUse "pnpm" instead.' }] },
    });
  });
});

describe("claude adapter: parsing recorded transcripts", () => {
  it("reads a single turn: session, text, usage totals with cost, result", () => {
    expect(parse(fixture("single-turn.jsonl"))).toEqual([
      {
        kind: "session",
        sessionId: expect.stringMatching(/^[0-9a-f-]{36}$/) as string,
        model: "claude-opus-4-8[1m]",
      },
      { kind: "turn", text: "Hi! How can I help?" },
      {
        kind: "usage",
        usage: {
          inputTokens: 2100,
          outputTokens: 1,
          cacheReadTokens: 0,
          cacheWriteTokens: 1800,
          costUsd: null,
        },
      },
      // Totals from `modelUsage`: the turn's call plus the CLI's session-title call (11 in, 3 out).
      {
        kind: "usage",
        usage: {
          inputTokens: 2111,
          outputTokens: 15,
          cacheReadTokens: 0,
          cacheWriteTokens: 1800,
          costUsd: expect.closeTo(0.02218, 10) as number,
        },
      },
      { kind: "result", ok: true, text: "Hi! How can I help?", detail: "success" },
    ]);
  });

  it("reads a tool-using session over two turns, with totals since the session started", () => {
    const events = parse(fixture("multi-turn-tools.jsonl"));
    expect(events.filter((e) => e.kind === "session")).toHaveLength(1);
    expect(
      events.filter(
        (e) => e.kind === "turn" || e.kind === "tool" || e.kind === "result" || e.kind === "input",
      ),
    ).toEqual([
      // Each message taken from stdin is echoed (`isReplay`); tool results are not.
      { kind: "input" },
      { kind: "turn", text: "I'll write the file first." },
      { kind: "tool", name: "Write", summary: "/work/repo/greeting.txt" },
      { kind: "tool", name: "Bash", summary: "sh test.sh" },
      { kind: "turn", text: "The tests said: 1 test passed" },
      { kind: "result", ok: true, text: "The tests said: 1 test passed", detail: "success" },
      { kind: "input" },
      { kind: "turn", text: "I wrote greeting.txt." },
      { kind: "result", ok: true, text: "I wrote greeting.txt.", detail: "success" },
    ]);
    const usage = events.flatMap((e) => (e.kind === "usage" ? [e.usage] : []));
    // The two lines of the first message (text, then tool_use) count once.
    expect(usage.map((u) => u.inputTokens)).toEqual([1200, 2600, 4100, 4111, 5711, 5711]);
    for (const [i, u] of usage.entries()) {
      expect(u.inputTokens).toBeGreaterThanOrEqual(usage[i - 1]?.inputTokens ?? 0);
      expect(u.outputTokens).toBeGreaterThanOrEqual(usage[i - 1]?.outputTokens ?? 0);
    }
    // `result.usage` covers one turn only; the totals come from the cumulative `modelUsage`.
    expect(usage.at(-1)).toEqual({
      inputTokens: 5711,
      outputTokens: 108,
      cacheReadTokens: 3000,
      cacheWriteTokens: 300,
      costUsd: 0.03463,
    });
  });

  it("reads an API-key rate limit: no reset time is printed", () => {
    const events = parse(fixture("error-rate-limit.jsonl"));
    expect(events.filter((e) => e.kind !== "session" && e.kind !== "usage")).toEqual([
      {
        kind: "error",
        errorClass: "rate_limit",
        message: expect.stringMatching(
          /^API Error: Request rejected \(429\) · Number of request tokens/,
        ) as string,
        resetAt: null,
      },
      {
        kind: "result",
        ok: false,
        text: expect.stringMatching(/^API Error/) as string,
        detail: "success",
      },
    ]);
  });

  it("reads a subscription limit with its reset time", () => {
    const events = parse(fixture("error-subscription-limit.jsonl"));
    expect(events.filter((e) => e.kind === "error")).toEqual([
      {
        kind: "error",
        errorClass: "rate_limit",
        message: "You've hit your session limit · resets 3pm (UTC)",
        resetAt: Date.parse("2026-07-01T15:00:00Z"),
      },
    ]);
  });

  it("reads a rejected API key as auth", () => {
    expect(parse(fixture("error-auth.jsonl")).filter((e) => e.kind === "error")).toEqual([
      {
        kind: "error",
        errorClass: "auth",
        message: "Invalid API key · Fix external API key",
        resetAt: null,
      },
    ]);
  });

  it("ignores lines that are not events, without throwing", () => {
    const parser = claudeAdapter.createParser();
    const junk = [
      "",
      "plain text on stderr",
      "{",
      "[1,2]",
      "null",
      '{"type":"result"}',
      '{"type":"assistant","message":{}}',
      '{"type":"system","subtype":"init"}',
      '{"type":"stream_event","event":{}}',
      '{"type":"rate_limit_event","rate_limit_info":"x"}',
      '{"no":"type"}',
    ];
    for (const line of junk) {
      expect(parser?.line(line)).toEqual([]);
    }
  });

  it("adds up per-turn usage when a result has no per-model totals", () => {
    const result = (input: number) =>
      JSON.stringify({
        type: "result",
        subtype: "success",
        is_error: false,
        result: "ok",
        total_cost_usd: null,
        usage: { input_tokens: input, output_tokens: 5 },
      });
    const events = parse([result(100), result(50)].join("\n"));
    expect(events.filter((e) => e.kind === "usage").at(-1)).toEqual({
      kind: "usage",
      usage: {
        inputTokens: 150,
        outputTokens: 10,
        cacheReadTokens: 0,
        cacheWriteTokens: 0,
        costUsd: null,
      },
    });
  });

  it("classifies error results by status, then by the CLI's error kind", () => {
    const failed = (status: number | null, kind: string | null, subtype = "success") =>
      [
        kind === null
          ? ""
          : JSON.stringify({
              type: "assistant",
              message: {
                id: "m",
                model: "<synthetic>",
                content: [{ type: "text", text: "API Error" }],
              },
              error: kind,
            }),
        JSON.stringify({
          type: "result",
          subtype,
          is_error: true,
          api_error_status: status,
          ...(subtype === "success"
            ? { result: "API Error" }
            : { errors: ["Reached maximum number of turns (3)"] }),
        }),
      ].join("\n");
    const classOf = (text: string) =>
      parse(text).flatMap((e) => (e.kind === "error" ? [e.errorClass] : []));
    expect(classOf(failed(529, "server_error"))).toEqual(["transient"]);
    expect(classOf(failed(500, null))).toEqual(["transient"]);
    expect(classOf(failed(403, "authentication_failed"))).toEqual(["auth"]);
    expect(classOf(failed(400, "invalid_request"))).toEqual(["permanent"]);
    expect(classOf(failed(null, "server_error"))).toEqual(["transient"]);
    expect(classOf(failed(null, "authentication_failed"))).toEqual(["auth"]);
    expect(classOf(failed(null, "billing_error"))).toEqual(["auth"]);
    expect(classOf(failed(null, null, "error_max_turns"))).toEqual(["permanent"]);
    expect(parse(failed(null, null, "error_max_turns")).at(-1)).toEqual({
      kind: "result",
      ok: false,
      text: "Reached maximum number of turns (3)",
      detail: "error_max_turns",
    });
  });

  it("summarizes tool input on one short line", () => {
    expect(summarizeToolInput({ command: "npm test\n  -- --run", description: "Run tests" })).toBe(
      "npm test -- --run",
    );
    expect(summarizeToolInput({ pattern: "TODO", path: "src" })).toBe("src");
    expect(summarizeToolInput({ todos: [] })).toBe('{"todos":[]}');
    expect(summarizeToolInput({ command: "x".repeat(500) })).toHaveLength(200);
  });
});

describe("claude adapter: classifyFailure", () => {
  const base = { exitCode: 1, signal: null, outputTail: "", events: [], now: 1_000_000 };

  it("takes the failed last turn's error from the events", () => {
    const log = fixture("error-subscription-limit.jsonl");
    expect(claudeAdapter.classifyFailure({ ...base, outputTail: log, events: parse(log) })).toEqual(
      {
        errorClass: "rate_limit",
        message: "You've hit your session limit · resets 3pm (UTC)",
        resetAt: Date.parse("2026-07-01T15:00:00Z"),
      },
    );
  });

  it("ignores an error of an earlier turn that a later turn got past", () => {
    const log = [fixture("error-auth.jsonl"), fixture("single-turn.jsonl")].join("");
    expect(
      claudeAdapter.classifyFailure({
        ...base,
        exitCode: null,
        signal: "SIGKILL",
        outputTail: log,
        events: parse(log),
      }),
    ).toEqual({ errorClass: "permanent", message: "was killed by SIGKILL", resetAt: null });
  });

  it("reads the API error the CLI was retrying when it was stopped", () => {
    const retrying = fixture("error-rate-limit.jsonl").split("\n").slice(0, 2).join("\n");
    expect(
      claudeAdapter.classifyFailure({
        ...base,
        exitCode: null,
        signal: "SIGTERM",
        outputTail: retrying,
        events: parse(retrying),
      }),
    ).toEqual({
      errorClass: "rate_limit",
      message: "claude was killed by SIGTERM while retrying an API error (429, rate_limit)",
      resetAt: null,
    });
  });

  it("does not read numbers inside JSON lines as status codes", () => {
    const log = '{"type":"system","subtype":"status","duration_ms":401}\nSegmentation fault\n';
    expect(claudeAdapter.classifyFailure({ ...base, exitCode: 139, outputTail: log })).toEqual({
      errorClass: "permanent",
      message: "exited with code 139: Segmentation fault",
      resetAt: null,
    });
    expect(
      claudeAdapter.classifyFailure({ ...base, outputTail: "Error: read ECONNRESET\n" }).errorClass,
    ).toBe("transient");
  });
});
