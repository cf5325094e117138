/**
 * Budgets end to end, through `baton run`: a job that passes its stage's `budget` is stopped
 * while it runs and fails with error class `budget`, and the stage's `on_fail: retry` does not
 * run it again (it would only spend past the budget again); the pipeline fails.
 *
 * Tokens and dollars come from the agent's own output as it is written, so those budgets run
 * the real Claude Code CLI against a scripted Anthropic server: the model's first reply reports
 * more tokens than the budget allows and starts a long command, and Baton stops the session
 * mid-turn. Claude Code reports no cost until its turn ends, so the dollars are the agent's
 * `prices` applied to the tokens. Wall-clock budgets need no usage: a command agent that sleeps,
 * against its stage's budget and against its pipeline's, which counts from the pipeline's start.
 */
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { z } from "zod";
import { claudeBinDir } from "../agents/claude-kit.js";
import {
  startAnthropicServer,
  useTool,
  type AnthropicServer,
  type ReplyUsage,
} from "../helpers/anthropic-server.js";
import { assertBuilt, isAlive, type CliProject } from "../helpers/cli.js";
import { agentScript, pipelineStatus, project, PROMPT, stageOf } from "../cli/kit.js";

beforeAll(assertBuilt);

/** Retries that would come quickly, so a retry would show within the test. */
const RETRY = "{ retry: { max: 3, backoff: { base: 1s, jitter: false } } }";

/** `agents` is the YAML of one agent named `agent`, indented for the `agents:` map. */
function config(agent: string, agents: string, budget: string): string {
  return `version: 1
defaults:
  agent: ${agent}
  runtime: process
  timeout: 60s
  stall_timeout: 60s
  grace: 1s
agents:
${agents}
pipelines:
  default:
    stages:
      - id: build
        prompt: prompts/p.md
        budget: ${budget}
        on_fail: ${RETRY}
      - id: after
        needs: [build]
        run: "true"
`;
}

const jobsView = z.object({
  pipelines: z.array(
    z.object({
      jobs: z.array(
        z.object({
          stage: z.string(),
          attempt: z.number().int(),
          trigger: z.string(),
          status: z.string(),
          error_class: z.string().nullable(),
          error: z.string().nullable(),
          duration_ms: z.number().nullable(),
        }),
      ),
      events: z.array(z.object({ kind: z.string(), data: z.record(z.string(), z.unknown()) })),
    }),
  ),
});

/** The jobs and events of task 1, from `baton analytics issue-detail`. */
async function detailOf(p: CliProject): Promise<z.infer<typeof jobsView>["pipelines"][number]> {
  const detail = jobsView.parse(await p.json(["analytics", "issue-detail", "1", "--format=json"]));
  const run = detail.pipelines[0];
  if (run === undefined) {
    throw new Error("task 1 has no pipeline");
  }
  return run;
}

const costRow = z.object({
  stage: z.string(),
  tokens_in: z.number().int(),
  tokens_out: z.number().int(),
  cache_read_tokens: z.number().int(),
  cache_write_tokens: z.number().int(),
  cost_usd: z.number(),
});

/** What the jobs of the `build` stage spent, from `baton analytics cost`. */
async function buildSpent(p: CliProject): Promise<z.infer<typeof costRow>> {
  const rows = z
    .array(costRow)
    .parse(await p.json(["analytics", "cost", "--by", "stage", "--format=json"]));
  const build = rows.find((r) => r.stage === "build");
  if (build === undefined) {
    throw new Error(`no build stage in ${JSON.stringify(rows)}`);
  }
  return build;
}

/**
 * Runs task 1 to its end and checks what every budget failure has in common: the pipeline
 * failed at `build`, whose one job failed with error class `budget` after its session was
 * killed, and was never retried (a retry would be a second `build` job); `after` was skipped.
 * Returns the job's error.
 */
async function runOverBudget(p: CliProject): Promise<string> {
  const result = await p.run(["run", "Spend too much"], { timeoutMs: 25_000 });
  expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(1);
  expect(result.stdout).toMatch(/build: failed \(budget\): stage build budget: /);

  const view = await pipelineStatus(p, 1);
  expect(view.status).toBe("failed");
  expect(stageOf(view, "build")).toMatchObject({ status: "failed", attempts: 1, fix_rounds: 0 });
  expect(stageOf(view, "after").status).toBe("skipped");

  const run = await detailOf(p);
  expect(run.jobs.map((j) => [j.stage, j.trigger, j.attempt, j.status, j.error_class])).toEqual([
    ["build", "initial", 1, "failed", "budget"],
    ["after", "initial", 1, "skipped", null],
  ]);
  expect(run.events.some((e) => e.kind === "session.killed")).toBe(true);
  const error = run.jobs[0]?.error ?? "";
  expect(stageOf(view, "build").error).toBe(error);
  expect(view.reason).toBe("stage build failed");
  return error;
}

describe("a stage's budget", () => {
  it("wallclock: the job is stopped at the limit and fails with error class budget, not retried", async () => {
    const agent = agentScript("echo started > started.txt\nsleep 20\necho finished > finished.txt");
    const p = await project({
      config: config(
        "work",
        '  work:\n    command: ["sh", "agents/work.sh", "{prompt_file}"]',
        "{ wallclock: 2s }",
      ),
      files: { "agents/work.sh": agent, "prompts/p.md": PROMPT },
    });

    const error = await runOverBudget(p);
    expect(error).toMatch(/^stage build budget: ran [23]s, more than 2s$/);
    const run = await detailOf(p);
    // Stopped at the limit, not at the end of its 20 s sleep (nor at the 60 s timeout).
    expect(run.jobs[0]?.duration_ms).toBeGreaterThanOrEqual(2000);
    expect(run.jobs[0]?.duration_ms).toBeLessThan(10_000);
    const worktree = (await pipelineStatus(p, 1)).worktree ?? "";
    expect(existsSync(join(worktree, "started.txt"))).toBe(true);
    expect(existsSync(join(worktree, "finished.txt"))).toBe(false);
  });
});

describe("a pipeline's budget", () => {
  it("wallclock: counts from the pipeline's start, and stops the job running when it passes", async () => {
    const p = await project({
      config: `version: 1
defaults:
  agent: work
  runtime: process
  timeout: 60s
  stall_timeout: 60s
  grace: 1s
agents:
  work:
    command: ["sh", "agents/work.sh", "{prompt_file}"]
pipelines:
  default:
    budget: { wallclock: 4s }
    stages:
      - id: first
        prompt: prompts/p.md
      - id: second
        needs: [first]
        prompt: prompts/p.md
        on_fail: ${RETRY}
`,
      files: {
        // first takes a second; second would take ten.
        "agents/work.sh": agentScript(
          'if [ "$BATON_STAGE" = first ]; then sleep 1; else sleep 10; fi\necho done > "done-$BATON_STAGE.txt"',
        ),
        "prompts/p.md": PROMPT,
      },
    });

    const result = await p.run(["run", "Take too long overall"], { timeoutMs: 25_000 });
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(1);
    // The second stage has no limit of its own: it is stopped when the pipeline's 4 s are up.
    expect(result.stdout).toMatch(
      /second: failed \(budget\): pipeline budget: ran [45]s, more than 4s/,
    );
    const view = await pipelineStatus(p, 1);
    expect(view.status).toBe("failed");
    expect(view.stages.map((s) => [s.id, s.status, s.attempts])).toEqual([
      ["first", "succeeded", 1],
      ["second", "failed", 1],
    ]);
    const run = await detailOf(p);
    expect(run.jobs.map((j) => [j.stage, j.status, j.error_class])).toEqual([
      ["first", "succeeded", null],
      ["second", "failed", "budget"],
    ]);
    expect(run.jobs[1]?.duration_ms).toBeLessThan(4000);
    expect(existsSync(join(view.worktree ?? "", "done-second.txt"))).toBe(false);
  });
});

describe("a stage's budget with the real Claude Code CLI", () => {
  /** A scripted server whose first reply reports `usage` and runs a long command. */
  async function claudeSetup(usage: Partial<ReplyUsage>): Promise<{
    server: AnthropicServer;
    agentYaml: (prices: string) => string;
  }> {
    const server = await startAnthropicServer({
      script: [
        useTool(
          "Bash",
          { command: "echo $$ > sleeper.pid; sleep 25", description: "Run the long job" },
          { text: "Starting the long job.", usage },
        ),
      ],
    });
    onTestFinished(() => server.close());
    const home = await mkdtemp(join(tmpdir(), "baton-budget-claude-"));
    onTestFinished(() => rm(home, { recursive: true, force: true }));
    const env: Record<string, string> = {
      PATH: `${claudeBinDir()}:/usr/local/bin:/usr/bin:/bin`,
      HOME: home,
      ANTHROPIC_BASE_URL: server.url,
      ANTHROPIC_API_KEY: "sk-test",
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
      CLAUDE_CODE_MAX_RETRIES: "0",
    };
    const agentYaml = (prices: string): string =>
      [
        "  coder:",
        "    adapter: claude",
        "    model: claude-sonnet-4-5",
        "    env:",
        ...Object.entries(env).map(([k, v]) => `      ${k}: ${JSON.stringify(v)}`),
        ...(prices === "" ? [] : [`    prices: ${prices}`]),
      ].join("\n");
    return { server, agentYaml };
  }

  /**
   * The session was stopped in the middle of its turn: Claude Code never reported the turn's
   * end, and the model's long command, if it got to start it, is not running.
   */
  async function assertStoppedMidTurn(p: CliProject): Promise<void> {
    const run = await detailOf(p);
    expect(run.events.filter((e) => e.kind === "agent.turn")).toEqual([]);
    const worktree = (await pipelineStatus(p, 1)).worktree ?? "";
    const pidFile = join(worktree, "sleeper.pid");
    if (existsSync(pidFile)) {
      expect(isAlive(Number(readFileSync(pidFile, "utf8").trim()))).toBe(false);
    }
  }

  it("tokens: the session is stopped mid-turn once its usage passes the budget", async () => {
    const { server, agentYaml } = await claudeSetup({ inputTokens: 6000, outputTokens: 40 });
    const p = await project({
      config: config("coder", agentYaml(""), "{ tokens: 5000 }"),
      files: { "prompts/p.md": PROMPT },
    });

    const error = await runOverBudget(p);
    expect(error).toMatch(/^stage build budget: \d+ tokens used, more than 5000$/);
    const used = Number(/: (\d+) tokens used/.exec(error)?.[1]);
    expect(used).toBeGreaterThan(5000);
    expect(server.mainRequests()).toHaveLength(1);
    await assertStoppedMidTurn(p);

    // What the job recorded is what the server reported for its one reply.
    const spent = await buildSpent(p);
    expect(spent.tokens_in + spent.cache_read_tokens + spent.cache_write_tokens).toBe(6000);
    expect(spent.tokens_out).toBeGreaterThan(0);
    expect(spent.tokens_out).toBeLessThanOrEqual(40);
  });

  it("cost_usd: the agent's prices turn the tokens into dollars, and the session is stopped past the budget", async () => {
    const { agentYaml } = await claudeSetup({ inputTokens: 5000, outputTokens: 10 });
    const p = await project({
      config: config("coder", agentYaml("{ input: 3, output: 15 }"), "{ cost_usd: 0.01 }"),
      files: { "prompts/p.md": PROMPT },
    });

    const error = await runOverBudget(p);
    expect(error).toMatch(/^stage build budget: \$0\.01\d\d spent, more than \$0\.01$/);
    await assertStoppedMidTurn(p);

    const spent = await buildSpent(p);
    expect(spent.tokens_in + spent.cache_read_tokens + spent.cache_write_tokens).toBe(5000);
    const expectedUsd =
      ((spent.tokens_in + spent.cache_read_tokens + spent.cache_write_tokens) * 3 +
        spent.tokens_out * 15) /
      1_000_000;
    expect(spent.cost_usd).toBeCloseTo(expectedUsd, 9);
    expect(spent.cost_usd).toBeGreaterThan(0.01);
  });
});
