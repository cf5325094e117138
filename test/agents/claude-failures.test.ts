/**
 * How the real Claude Code CLI fails when the API refuses it, and how the `claude` adapter reads
 * that: a rate limit for an API key (retried by the CLI, bounded by CLAUDE_CODE_MAX_RETRIES), a
 * subscription limit with its reset time, and a bad API key.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { AgentEvent } from "../../src/agents/adapter.js";
import { claudeAdapter } from "../../src/agents/claude-adapter.js";
import {
  apiError,
  lastUserText,
  rateLimited,
  say,
  startAnthropicServer,
  type AnthropicServer,
} from "../helpers/anthropic-server.js";
import { makeGitRepo, type GitRepo } from "../helpers/git-repo.js";
import {
  makeClaudeHome,
  runClaudeOnce,
  startClaudeSession,
  type ClaudeSession,
} from "./claude-kit.js";

let repo: GitRepo;
let home: Awaited<ReturnType<typeof makeClaudeHome>>;
let server: AnthropicServer | null;
let session: ClaudeSession | null;

beforeEach(async () => {
  repo = await makeGitRepo({ files: { "README.md": "# app\n" } });
  home = await makeClaudeHome();
  server = null;
  session = null;
});

afterEach(async () => {
  if (session !== null) {
    await session.kit.runtime.kill(session.handle, 2_000);
    await session.kit.cleanup();
  }
  await server?.close();
  await Promise.all([repo.cleanup(), home.cleanup()]);
});

function errors(events: AgentEvent[]): AgentEvent[] {
  return events.filter((event) => event.kind === "error");
}

describe("claude adapter: API failures from the real Claude Code CLI", () => {
  it("reads an API-key rate limit the CLI gave up retrying, and the session recovers", async () => {
    const resetAt = new Date(Date.now() + 90_000);
    server = await startAnthropicServer({
      script: [
        rateLimited({ retryAfterSeconds: 1, resetAt }),
        rateLimited({ retryAfterSeconds: 1, resetAt }),
      ],
    });
    session = await startClaudeSession({
      server,
      worktree: repo.root,
      home: home.path,
      prompt: "Say hello to the rate limiter.",
      env: { CLAUDE_CODE_MAX_RETRIES: "1" },
    });
    const [result] = await session.waitFor("the failed result", (e) => e.kind === "result");
    expect(result).toMatchObject({ kind: "result", ok: false, detail: "success" });
    // One retry (Claude Code's own loop, not the SDK's), honouring retry-after (1 s), then the
    // CLI gives up on this turn.
    expect(server.requests.filter((r) => r.kind === "main")).toHaveLength(2);
    expect(session.log()).toMatch(
      /"subtype":"api_retry","attempt":1,"max_retries":1,"retry_delay_ms":1000,"error_status":429/,
    );
    // The CLI prints no reset time for API keys (the headers' RFC 3339 times are not shown).
    const events = session.events();
    expect(errors(events)).toEqual([
      {
        kind: "error",
        errorClass: "rate_limit",
        message: expect.stringMatching(/^API Error: Request rejected \(429\)/) as string,
        resetAt: null,
      },
    ]);
    expect(
      claudeAdapter.classifyFailure({
        exitCode: null,
        signal: "SIGTERM",
        outputTail: session.log(),
        events,
        now: Date.now(),
      }),
    ).toMatchObject({ errorClass: "rate_limit", resetAt: null });

    // The session is still there, and a later message is answered once the limit is gone.
    expect((await session.kit.runtime.observe(session.handle)).alive).toBe(true);
    server.push(say("hello again"));
    await session.steer("Try again now.");
    const results = await session.waitFor("the second result", (e) => e.kind === "result", {
      count: 2,
    });
    expect(results[1]).toEqual({
      kind: "result",
      ok: true,
      text: "hello again",
      detail: "success",
    });
    // The failed turn left no assistant reply, so the CLI sends the prompt and the new message
    // together as one user turn: nothing of the task is lost.
    const retried = lastUserText(server.mainRequests().at(-1)!);
    expect(retried).toContain("Say hello to the rate limiter.");
    expect(retried.trimEnd().endsWith("Try again now.")).toBe(true);
  });

  it("reads a subscription limit's reset time from its rate_limit_event", async () => {
    const unifiedResetAt = Math.floor(Date.now() / 1000) + 3 * 3600;
    server = await startAnthropicServer({
      script: [
        rateLimited({
          retryAfterSeconds: 1,
          resetAt: new Date(unifiedResetAt * 1000),
          unifiedResetAt,
        }),
      ],
    });
    // A subscription login (what `claude setup-token` gives) instead of an API key.
    const run = await runClaudeOnce({
      server,
      worktree: repo.root,
      home: home.path,
      prompt: "Say hello to the five-hour limit.",
      env: { ANTHROPIC_API_KEY: "", CLAUDE_CODE_OAUTH_TOKEN: "sk-ant-oat01-test" },
    });
    expect(run.exit).toMatchObject({ exitCode: 1 });
    // Subscription limits are not retried: one request.
    expect(server.requests.filter((r) => r.kind === "main")).toHaveLength(1);
    expect(server.requests.find((r) => r.kind === "main")?.headers.authorization).toBe(
      "Bearer sk-ant-oat01-test",
    );
    expect(run.log).toContain('"type":"rate_limit_event"');
    expect(errors(run.events)).toEqual([
      {
        kind: "error",
        errorClass: "rate_limit",
        message: expect.stringMatching(/^You've hit your .*limit · resets /) as string,
        resetAt: unifiedResetAt * 1000,
      },
    ]);
    expect(
      claudeAdapter.classifyFailure({
        exitCode: 1,
        signal: null,
        outputTail: run.log,
        events: run.events,
        now: Date.now(),
      }),
    ).toMatchObject({ errorClass: "rate_limit", resetAt: unifiedResetAt * 1000 });
  });

  it("classifies a rejected API key as auth", async () => {
    server = await startAnthropicServer({
      script: [apiError(401, "authentication_error", "invalid x-api-key")],
    });
    const run = await runClaudeOnce({
      server,
      worktree: repo.root,
      home: home.path,
      prompt: "Say hello with a bad key.",
      env: { CLAUDE_CODE_MAX_RETRIES: "0" },
    });
    expect(run.exit).toMatchObject({ exitCode: 1 });
    expect(run.events.filter((e) => e.kind === "result")).toEqual([
      {
        kind: "result",
        ok: false,
        text: "Invalid API key · Fix external API key",
        detail: "success",
      },
    ]);
    expect(
      claudeAdapter.classifyFailure({
        exitCode: 1,
        signal: null,
        outputTail: run.log,
        events: run.events,
        now: Date.now(),
      }),
    ).toEqual({
      errorClass: "auth",
      message: "Invalid API key · Fix external API key",
      resetAt: null,
    });
  });
});
