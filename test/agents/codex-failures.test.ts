/**
 * How the real Codex CLI fails, and how the `codex` adapter classifies it: the scripted server
 * answers as the OpenAI API does when rate limited (429 with an OpenAI error body and
 * `retry-after` / `x-ratelimit-reset-*` headers), when a plan's usage limit is used up, when the
 * key is wrong; and the server can be gone altogether.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { FailureVerdict } from "../../src/agents/adapter.js";
import { codexAdapter } from "../../src/agents/codex-adapter.js";
import {
  httpError,
  type OpenAIServer,
  rateLimited,
  type ScriptStep,
  startOpenAIServer,
  usageLimitReached,
} from "../helpers/openai-server.js";
import {
  type CodexHomeOptions,
  type CodexRun,
  makeCodexHome,
  makeWorkspace,
  runCodex,
} from "./codex-kit.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup();
  }
});

interface FailedRun {
  server: OpenAIServer;
  run: CodexRun;
  verdict: FailureVerdict;
  startedAt: number;
}

async function runAgainst(
  script: ScriptStep[],
  options: CodexHomeOptions & { serverDown?: boolean; timeoutMs?: number } = {},
): Promise<FailedRun> {
  const ws = await makeWorkspace();
  cleanups.push(() => ws.cleanup());
  const server = await startOpenAIServer(script);
  if (options.serverDown === true) {
    await server.close();
  } else {
    cleanups.push(() => server.close());
  }
  const codex = await makeCodexHome(server, options);
  cleanups.push(() => codex.cleanup());
  const startedAt = Date.now();
  const run = await runCodex({
    codex,
    worktree: ws.worktree,
    prompt: "Say hello.",
    forbiddenDirs: [ws.project],
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
  const verdict = codexAdapter.classifyFailure({
    exitCode: run.exit?.exitCode ?? null,
    signal: run.exit?.signal ?? null,
    outputTail: run.log.slice(-8192),
    events: run.events,
    now: Date.now(),
  });
  return { server, run, verdict, startedAt };
}

describe("codex adapter failures with the real Codex CLI", () => {
  it("classifies an API rate limit after Codex's own bounded retry (stream_max_retries)", async () => {
    const { server, run, verdict } = await runAgainst(
      [rateLimited({ retryAfterSeconds: 1 }), rateLimited({ retryAfterSeconds: 1 })],
      { streamMaxRetries: 1 },
    );

    // Codex waited `retry-after` and tried once more, as stream_max_retries = 1 allows.
    expect(server.requests).toHaveLength(2);
    const [first, second] = server.requests;
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(900);
    expect(run.log).toContain("Reconnecting... 1/1 (exceeded retry limit, last status: 429");
    expect(run.exit).toMatchObject({ exitCode: 1, signal: null });
    // Codex prints neither the body ("try again in 1s") nor the headers: no reset time.
    expect(verdict).toEqual({
      errorClass: "rate_limit",
      message: "rate limited: exceeded retry limit, last status: 429 Too Many Requests",
      resetAt: null,
    });
    expect(run.events.filter((e) => e.kind === "result")).toEqual([
      {
        kind: "result",
        ok: false,
        text: "",
        detail: "exceeded retry limit, last status: 429 Too Many Requests",
      },
    ]);
  });

  it("fails a 429 without retry-after at once, whatever stream_max_retries says", async () => {
    const { server, run, verdict } = await runAgainst(
      [rateLimited({ retryAfterSeconds: 20, sendRetryAfter: false })],
      { streamMaxRetries: 5, requestMaxRetries: 4 },
    );
    expect(server.requests).toHaveLength(1);
    expect(run.exit).toMatchObject({ exitCode: 1 });
    expect(verdict).toMatchObject({ errorClass: "rate_limit", resetAt: null });
  });

  it("reads the reset time of a plan's usage limit from Codex's message", async () => {
    const now = Math.floor(Date.now() / 1000);
    const resetsAt = now + 2 * 3600 + 17 * 60;
    const { server, run, verdict } = await runAgainst([usageLimitReached(resetsAt, now)]);
    expect(server.requests).toHaveLength(1);
    expect(run.log).toMatch(/hit your usage limit.*try again at/);
    // Codex prints the time to the minute.
    expect(verdict).toMatchObject({
      errorClass: "rate_limit",
      resetAt: Math.floor(resetsAt / 60) * 60_000,
    });
    expect(verdict.message).toMatch(/^rate limited: You’ve hit your usage limit/);
  });

  it("classifies a rejected key and a missing one as auth", async () => {
    const rejected = await runAgainst([
      httpError(401, "Incorrect API key provided: sk-test-key.", "invalid_api_key"),
    ]);
    expect(rejected.verdict.errorClass).toBe("auth");
    expect(rejected.verdict.message).toContain("401 Unauthorized");

    const missing = await runAgainst([], { withoutKey: true });
    expect(missing.server.requests).toHaveLength(0);
    expect(missing.verdict).toEqual({
      errorClass: "auth",
      message: "authentication failed: Missing environment variable: `BATON_TEST_OPENAI_KEY`.",
      resetAt: null,
    });
  });

  it("classifies a server error as transient (request_max_retries = 0: no retry)", async () => {
    const { server, verdict } = await runAgainst([
      httpError(500, "The server had an error while processing your request.", null),
    ]);
    expect(server.requests).toHaveLength(1);
    expect(verdict.errorClass).toBe("transient");
  });

  it("waits for a server that is gone until it is killed, which reads as transient", async () => {
    const { run, verdict } = await runAgainst([], { serverDown: true, timeoutMs: 1_500 });
    expect(run.timedOut).toBe(true);
    expect(run.exit).toMatchObject({ exitCode: null, signal: "SIGTERM" });
    expect(run.log).toContain("Reconnecting... waiting for network");
    expect(verdict.errorClass).toBe("transient");
    expect(verdict.message).toMatch(/^codex was killed by SIGTERM while retrying/);
  });
});
