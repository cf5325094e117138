/**
 * A whole Baton pipeline with the real Codex CLI: `baton run` in a real repository, the `codex`
 * adapter (`codex exec --json` in the task's worktree, Codex's workspace-write sandbox), Codex
 * configured through the agent's `env` and `pass_env` in baton.yaml, and a scripted OpenAI
 * Responses API behind it. The model edits the worktree through Codex's `apply_patch` and shell
 * tools and runs the gate's command itself; the gate still fails, so a fix round starts, whose
 * prompt carries the gate's output; the scripted model only fixes the file when it sees that
 * output. Then: the tokens Baton recorded are the server's, and the cost is what the agent's
 * `prices` make of them.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { z } from "zod";
import { assertBuilt } from "../helpers/cli.js";
import { git } from "../helpers/git-repo.js";
import {
  addFileCall,
  type Reply,
  type ResponsesRequest,
  shellCall,
  startOpenAIServer,
  textReply,
  toolOutputs,
  toolReply,
  usage,
  userTexts,
} from "../helpers/openai-server.js";
import { CODEX_MODEL, codexBinDir, makeCodexHome } from "../agents/codex-kit.js";
import { pipelineStatus, project, RUNTIMES, stageOf } from "../cli/kit.js";

beforeAll(assertBuilt);

/** The variable Codex's provider config names as its API key, passed through by `pass_env`. */
const KEY_VARIABLE = "BATON_TEST_OPENAI_KEY";

/** The gate's command, committed in the repository. */
const TEST_SH = `#!/bin/sh
answer=$(cat answer.txt 2>/dev/null)
if [ "$answer" != 42 ]; then
  echo "FAIL: answer.txt holds '$answer', expected 42"
  exit 1
fi
echo "ok: the answer is 42"
`;
/** What the gate prints when the model's first answer (41) is in place. */
const GATE_FAILURE = "FAIL: answer.txt holds '41', expected 42";

const PROMPT = `Task #{{task.number}}: {{task.title}}

Write the answer into answer.txt, then check it with \`sh test.sh\`.
`;

/** USD per million tokens, as configured for the agent. */
const PRICES = { input: 1.5, output: 12, cache_read: 0.25 };

/** What each model request reports, in the order the requests come. */
const USAGES = [
  usage({ inputTokens: 2400, cachedTokens: 0, outputTokens: 80, reasoningTokens: 16 }),
  usage({ inputTokens: 2700, cachedTokens: 2300, outputTokens: 30 }),
  usage({ inputTokens: 2950, cachedTokens: 2600, outputTokens: 25 }),
  usage({ inputTokens: 3100, cachedTokens: 0, outputTokens: 64, reasoningTokens: 8 }),
  usage({ inputTokens: 3400, cachedTokens: 3000, outputTokens: 18 }),
];

/**
 * The scripted model. It decides from the request alone: a prompt that carries the gate's
 * failure is a fix round, and how many tool results came back says how far the turn is.
 *
 * First job: add answer.txt holding 41 (apply_patch), run `sh test.sh` (shell), end the turn.
 * Fix round: overwrite answer.txt with 42 and run the test (shell), end the turn.
 */
function scriptedModel(): (request: ResponsesRequest) => Reply {
  let n = 0;
  return (request) => {
    const spent = USAGES[n++];
    if (spent === undefined) {
      throw new Error(`more model requests than scripted (${USAGES.length})`);
    }
    const fixing = userTexts(request).some((text) => text.includes(GATE_FAILURE));
    const results = [...toolOutputs(request).values()];
    if (!fixing) {
      if (results.length === 0) {
        return toolReply([addFileCall("answer.txt", "41\n")], spent, "Writing the answer.");
      }
      if (results.length === 1) {
        return toolReply([shellCall("sh test.sh")], spent);
      }
      return textReply("Wrote answer.txt.", spent);
    }
    if (results.length === 0) {
      return toolReply([shellCall("echo 42 > answer.txt && sh test.sh")], spent);
    }
    return textReply("answer.txt now holds 42 and the test passes.", spent);
  };
}

const costRow = z.object({
  stage: z.string(),
  jobs: z.number().int(),
  tokens_in: z.number().int(),
  tokens_out: z.number().int(),
  cache_read_tokens: z.number().int(),
  cache_write_tokens: z.number().int(),
  cost_usd: z.number(),
});

const issueDetail = z.object({
  pipelines: z.array(
    z.object({
      jobs: z.array(
        z.object({
          stage: z.string(),
          trigger: z.string(),
          fix_round: z.number().int(),
          agent: z.string().nullable(),
          status: z.string(),
          error_class: z.string().nullable(),
        }),
      ),
      gates: z.array(z.object({ gate: z.string(), passed: z.boolean(), output_tail: z.string() })),
      events: z.array(z.object({ kind: z.string(), data: z.record(z.string(), z.unknown()) })),
    }),
  ),
});

describe.each(RUNTIMES)(
  "a Baton pipeline driving the real Codex CLI, in a %s session",
  (runtime) => {
    it("writes code, fails its gate, fixes it from the gate's output, and records the server's usage and priced cost", async () => {
      const respond = scriptedModel();
      const server = await startOpenAIServer(USAGES.map(() => respond));
      onTestFinished(() => server.close());
      const codex = await makeCodexHome(server);
      onTestFinished(() => codex.cleanup());

      const config = `version: 1
defaults:
  agent: codex
  runtime: ${runtime}
  timeout: 60s
  stall_timeout: 60s
  grace: 1s
agents:
  codex:
    model: ${CODEX_MODEL}
    env:
      HOME: ${JSON.stringify(codex.home)}
      CODEX_HOME: ${JSON.stringify(codex.codexHome)}
    pass_env: [${KEY_VARIABLE}]
    prices: { input: ${PRICES.input}, output: ${PRICES.output}, cache_read: ${PRICES.cache_read} }
pipelines:
  default:
    stages:
      - id: implement
        prompt: prompts/implement.md
        gates:
          - { name: test, run: "sh test.sh", timeout: 30s }
        fix: { max_rounds: 2 }
        on_fail: fail
`;
      const p = await project({
        config,
        files: { "prompts/implement.md": PROMPT, "test.sh": TEST_SH },
      });
      const env = {
        PATH: `${codexBinDir()}:${process.env.PATH ?? "/usr/bin:/bin"}`,
        [KEY_VARIABLE]: "sk-from-pass-env",
      };

      const ran = await p.run(["run", "Answer the question"], { env, timeoutMs: 25_000 });
      expect(server.problems).toEqual([]);
      expect(ran.stdout).toContain("implement: gate test failed (exit 1)");
      expect(ran.stdout).toContain("implement: gate test passed");
      expect(ran.code, `${ran.stdout}\n${ran.stderr}`).toBe(0);

      const view = await pipelineStatus(p, 1);
      expect(view.status).toBe("completed");
      const implement = stageOf(view, "implement");
      expect(implement).toMatchObject({ status: "succeeded", attempts: 1, fix_rounds: 1 });

      // The work is Codex's, in the worktree, committed by Baton on the task's branch.
      const worktree = view.worktree ?? "";
      expect(readFileSync(join(worktree, "answer.txt"), "utf8")).toBe("42\n");
      expect(await git(worktree, ["status", "--porcelain"])).toBe("");
      expect(await git(worktree, ["show", "HEAD:answer.txt"])).toBe("42\n");
      expect(await git(p.root, ["status", "--porcelain"])).toBe("");

      // Every request: the model the agent names, the key `pass_env` let through.
      expect(server.requests.filter((r) => r.request !== null)).toHaveLength(USAGES.length);
      const requests = server.requests.flatMap((r) => (r.request === null ? [] : [r]));
      for (const r of requests) {
        expect(r.request?.model).toBe(CODEX_MODEL);
        expect(r.headers.authorization).toBe("Bearer sk-from-pass-env");
      }
      const [first, , third, fourth] = requests.map((r) => r.request as ResponsesRequest);
      // First job: the stage's prompt, and the test's failure from Codex's own shell tool.
      expect(userTexts(first!).at(-1)).toContain("Task #1: Answer the question");
      expect(userTexts(first!).join("\n")).not.toContain("FAIL");
      expect([...toolOutputs(third!).values()].join("\n")).toContain(GATE_FAILURE);
      // Fix round: a new Codex session whose prompt carries the gate's name and output.
      const fixPrompt = userTexts(fourth!).at(-1) ?? "";
      expect(fixPrompt).toContain("Task #1: Answer the question");
      expect(fixPrompt).toContain("## Checks that failed (fix round 1)");
      expect(fixPrompt).toContain("### test");
      expect(fixPrompt).toContain(GATE_FAILURE);
      expect(toolOutputs(fourth!).size).toBe(0);

      const detail = issueDetail.parse(
        await p.json(["analytics", "issue-detail", "1", "--format=json"]),
      );
      const run = detail.pipelines[0];
      expect(run?.jobs.map((j) => [j.stage, j.trigger, j.fix_round, j.agent, j.status])).toEqual([
        ["implement", "initial", 0, "codex", "failed"],
        ["implement", "fix", 1, "codex", "succeeded"],
      ]);
      expect(run?.jobs[0]?.error_class).toBe("gate");
      expect(run?.gates.map((g) => [g.gate, g.passed])).toEqual([
        ["test", false],
        ["test", true],
      ]);
      expect(run?.gates[0]?.output_tail).toContain(GATE_FAILURE);
      // Codex's tool calls, as Baton read them from its output.
      const tools = (run?.events ?? [])
        .filter((e) => e.kind === "agent.tool")
        .map((e) => [e.data.name, e.data.summary]);
      expect(tools).toEqual([
        ["apply_patch", `add ${join(worktree, "answer.txt")}`],
        ["shell", "sh test.sh"],
        ["shell", "echo 42 > answer.txt && sh test.sh"],
      ]);

      // Tokens: what the server sent, with cached input counted apart from the rest.
      const sent = server.usageSent;
      const tokensIn = sent.inputTokens - sent.cachedTokens;
      const costs = z
        .array(costRow)
        .parse(await p.json(["analytics", "cost", "--by", "stage", "--format=json"]));
      expect(costs).toHaveLength(1);
      expect(costs[0]).toMatchObject({
        stage: "implement",
        jobs: 2,
        tokens_in: tokensIn,
        tokens_out: sent.outputTokens,
        cache_read_tokens: sent.cachedTokens,
        cache_write_tokens: 0,
      });
      expect(implement.tokens).toBe(sent.inputTokens + sent.outputTokens);
      expect(view.stages.reduce((sum, s) => sum + s.tokens, 0)).toBe(
        sent.inputTokens + sent.outputTokens,
      );

      // Cost: the agent's prices applied to those tokens, priced here on their own.
      const expectedUsd =
        (tokensIn * PRICES.input +
          sent.outputTokens * PRICES.output +
          sent.cachedTokens * PRICES.cache_read) /
        1_000_000;
      expect(expectedUsd).toBeGreaterThan(0);
      expect(costs[0]?.cost_usd).toBeCloseTo(expectedUsd, 9);
      expect(implement.cost_usd).toBeCloseTo(expectedUsd, 9);
    });
  },
);
