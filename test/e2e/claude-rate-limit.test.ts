/**
 * A rate limit met by the real Claude Code CLI inside a Baton pipeline: the API answers 429 as
 * it does (a `rate_limit_error` body, `retry-after` and `anthropic-ratelimit-*` headers), Claude
 * Code gives up at once (`CLAUDE_CODE_MAX_RETRIES=0`) and ends its turn with the error. Baton
 * classifies it `rate_limit`, pauses that agent in the store, moves the same work to the
 * agent's `fallback`, which completes it, and spends none of the stage's retries (it has none).
 */
import { join } from "node:path";
import { beforeAll, describe, expect, it, onTestFinished } from "vitest";
import {
  lastUserText,
  rateLimited,
  say,
  startAnthropicServer,
  toolResults,
  useTool,
  type AnthropicServer,
  type MessagesRequest,
  type Reply,
  type ScriptStep,
} from "../helpers/anthropic-server.js";
import { assertBuilt, type CliProject } from "../helpers/cli.js";
import { makeClaudeHome } from "../agents/claude-kit.js";
import { pipelineStatus, project, stageOf, worktreeFile } from "../cli/kit.js";
import { claudeAgentYaml, eventsOf, jobsOf, pausesOf, worktreeIn } from "./claude-e2e-kit.js";

beforeAll(assertBuilt);

const MINUTE = 60_000;
const PROMPT = `Task #{{task.number}}: {{task.title}}

Work in {{worktree}}. Write DONE.md.
`;

/** Who sent a request: the primary agent or its fallback, told apart by their credentials. */
type Caller = "primary" | "backup";

/**
 * A server whose script answers each request by who sent it: `primary` gets `refuse`, every
 * time; `backup` writes DONE.md in the worktree its prompt names, then ends its turn.
 */
async function rateLimitedServer(refuse: () => Reply): Promise<{
  server: AnthropicServer;
  callers: Caller[];
}> {
  const callers: Caller[] = [];
  let server: AnthropicServer | null = null;
  const answer = (request: MessagesRequest): Reply => {
    const headers = server?.requests.at(-1)?.headers ?? {};
    const caller: Caller = headers["x-api-key"] === "sk-backup" ? "backup" : "primary";
    callers.push(caller);
    if (caller === "primary") {
      return refuse();
    }
    // The first request of a session carries the prompt; the next one the tool's result.
    if (toolResults(request).length === 0) {
      const worktree = worktreeIn(lastUserText(request));
      return useTool("Write", { file_path: join(worktree, "DONE.md"), content: "done\n" });
    }
    return say("DONE.md is written.");
  };
  const script: ScriptStep[] = Array.from({ length: 20 }, () => answer);
  server = await startAnthropicServer({ script });
  const started = server;
  onTestFinished(() => started.close());
  return { server, callers };
}

/** `claude` (with `primaryEnv`) falls back to `backup`; one stage, gated on DONE.md, no retries. */
async function fallbackProject(
  server: AnthropicServer,
  primaryEnv: Record<string, string>,
): Promise<CliProject> {
  const home = await makeClaudeHome();
  onTestFinished(() => home.cleanup());
  return project({
    config: `version: 1
defaults:
  agent: claude
  runtime: process
  timeout: 2m
  stall_timeout: 2m
  grace: 2s
  rate_limit_pause: 10m
agents:
${claudeAgentYaml("claude", { server, home: home.path, env: primaryEnv, extra: ["fallback: backup"] })}
${claudeAgentYaml("backup", { server, home: home.path, env: { ANTHROPIC_API_KEY: "sk-backup" } })}
pipelines:
  default:
    stages:
      - id: implement
        prompt: prompts/implement.md
        gates:
          - { name: done, run: "test -f DONE.md", timeout: 30s }
        on_fail: fail
`,
    files: { "prompts/implement.md": PROMPT },
  });
}

describe("a rate-limited Claude Code agent", () => {
  it("is paused, its work moves to the fallback agent and completes, and no retry is spent", async () => {
    const resetAt = new Date(Date.now() + 5 * MINUTE);
    const { server, callers } = await rateLimitedServer(() =>
      rateLimited({ retryAfterSeconds: 300, resetAt }),
    );
    const p = await fallbackProject(server, { ANTHROPIC_API_KEY: "sk-primary" });

    const run = await p.run(["run", "Write the done file"], { timeoutMs: 25_000 });
    expect(run.stderr).toBe("");
    expect(run.code, run.stdout).toBe(0);

    // One refused request (Claude Code does not retry), then the fallback's two.
    expect(callers).toEqual(["primary", "backup", "backup"]);
    const refused = server.requests.find((r) => r.headers["x-api-key"] === "sk-primary");
    expect(refused?.kind).toBe("main");

    const view = await pipelineStatus(p, 1);
    expect(view.status).toBe("completed");
    expect(worktreeFile(view, "DONE.md")).toBe("done\n");
    expect(stageOf(view, "implement")).toMatchObject({
      status: "succeeded",
      attempts: 1,
      fix_rounds: 0,
    });

    const [limited, rerun, ...others] = jobsOf(p);
    expect(others).toEqual([]);
    expect(limited).toMatchObject({
      trigger: "initial",
      attempt: 1,
      fix_round: 0,
      agent: "claude",
      status: "failed",
      error_class: "rate_limit",
      tokens_in: 0,
      cost_usd: 0,
    });
    expect(limited?.error).toMatch(/API Error: Request rejected \(429\)/);
    // The same attempt again, on the fallback agent.
    expect(rerun).toMatchObject({
      trigger: "rate_limit",
      attempt: 1,
      fix_round: 0,
      agent: "backup",
      status: "succeeded",
      error_class: null,
    });

    // Claude Code prints no reset time for an API key's limit (the headers stay inside it), so
    // the agent is paused for the configured `rate_limit_pause` from the moment it failed.
    const until = (limited?.finished_at ?? 0) + 10 * MINUTE;
    expect(pausesOf(p)).toEqual([
      {
        agent: "claude",
        until,
        reason: expect.stringMatching(/429/) as string,
        job_id: limited?.id,
      },
    ]);
    expect(eventsOf(p, "agent.paused")).toEqual([
      { jobId: limited?.id, data: expect.objectContaining({ agent: "claude", until }) as unknown },
    ]);
    expect(eventsOf(p, "agent.fallback")).toEqual([
      {
        jobId: rerun?.id,
        data: { stage: "implement", from: "claude", to: "backup", until },
      },
    ]);

    // While the pause lasts, new work goes to the fallback from the start: the paused agent's
    // credentials never reach the API again.
    const second = await p.run(["run", "Write it again"], { timeoutMs: 25_000 });
    expect(second.code, second.stdout).toBe(0);
    expect(callers.slice(3)).toEqual(["backup", "backup"]);
    expect(jobsOf(p, 2)).toEqual([
      expect.objectContaining({ trigger: "initial", attempt: 1, agent: "backup" }),
    ]);
    expect(server.exhausted).toBe(0);
  });

  it("with a subscription, is paused until the reset time the limit names", async () => {
    const unifiedResetAt = Math.floor(Date.now() / 1000) + 3 * 3600;
    const { server, callers } = await rateLimitedServer(() =>
      rateLimited({
        retryAfterSeconds: 60,
        resetAt: new Date(unifiedResetAt * 1000),
        unifiedResetAt,
      }),
    );
    const p = await fallbackProject(server, {
      ANTHROPIC_API_KEY: "",
      CLAUDE_CODE_OAUTH_TOKEN: "sk-ant-oat01-test",
    });

    const run = await p.run(["run", "Write the done file"], { timeoutMs: 25_000 });
    expect(run.stderr).toBe("");
    expect(run.code, run.stdout).toBe(0);
    expect(callers).toEqual(["primary", "backup", "backup"]);

    const [limited, rerun] = jobsOf(p);
    expect(limited).toMatchObject({
      agent: "claude",
      error_class: "rate_limit",
      reset_at: unifiedResetAt * 1000,
    });
    expect(rerun).toMatchObject({ trigger: "rate_limit", agent: "backup", status: "succeeded" });
    expect(pausesOf(p)).toEqual([
      expect.objectContaining({ agent: "claude", until: unifiedResetAt * 1000 }),
    ]);
    expect((await pipelineStatus(p, 1)).status).toBe("completed");
  });
});
