/**
 * A whole Baton pipeline with the real Claude Code CLI as its agent: `baton run` starts a
 * stream-json session in the task's worktree, the scripted model writes code with Claude Code's
 * Write tool and runs the stage's gate command with its Bash tool, Baton's gate fails, and the
 * fix round's prompt (built by Baton from the gate's output) is what steers the model to the fix.
 * Then the tokens and cost Baton recorded per job are checked against what the server sent.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it, onTestFinished } from "vitest";
import {
  lastUserText,
  say,
  startAnthropicServer,
  toolResults,
  useTool,
} from "../helpers/anthropic-server.js";
import { assertBuilt } from "../helpers/cli.js";
import { makeClaudeHome } from "../agents/claude-kit.js";
import { pipelineStatus, project, RUNTIMES, stageOf, worktreeFile } from "../cli/kit.js";
import {
  claudeAgentYaml,
  jobsOf,
  Meter,
  sumUsage,
  worktreeIn,
  type MeteredReply,
} from "./claude-e2e-kit.js";

beforeAll(assertBuilt);

const MODEL = "claude-sonnet-4-5";
/** List prices of Claude Sonnet 4.5, USD per million tokens. */
const SONNET = { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 };

const CHECK = `import { add } from "./add.mjs";
const got = add(2, 3);
if (got !== 5) {
  console.error(\`FAIL: add(2, 3) returned \${got}, expected 5\`);
  process.exit(1);
}
console.log("ok: add(2, 3) is 5");
`;
const FAILURE = "FAIL: add(2, 3) returned -1, expected 5";
const BUGGY = "export const add = (a, b) => a - b;\n";
const FIXED = "export const add = (a, b) => a + b;\n";

const PROMPT = `Task #{{task.number}}: {{task.title}}

Work in {{worktree}}. Write add.mjs exporting add(a, b), then run \`node check.mjs\`.
`;

function costOf(replies: readonly MeteredReply[]): number {
  const u = sumUsage(replies.map((r) => r.usage));
  return (
    (u.inputTokens * SONNET.input +
      u.outputTokens * SONNET.output +
      u.cacheReadTokens * SONNET.cacheRead +
      u.cacheWriteTokens * SONNET.cacheWrite) /
    1_000_000
  );
}

describe.each(RUNTIMES)(
  "a pipeline run by the real Claude Code CLI, in a %s session",
  (runtime) => {
    it("fails its gate, is steered to the fix by the fix round's prompt, and records tokens and cost", async () => {
      const meter = new Meter();
      /** What the fix round's first request carried, as the model saw it. */
      let fixPrompt: string | null = null;
      let worktree = "";
      const server = await startAnthropicServer({
        script: [
          // The first job: writes a buggy add.mjs, runs the gate's command itself, sees it fail,
          // and ends its turn anyway.
          meter.step((request) => {
            worktree = worktreeIn(lastUserText(request));
            return useTool(
              "Write",
              { file_path: join(worktree, "add.mjs"), content: BUGGY },
              {
                text: "I'll write add.mjs.",
                usage: { inputTokens: 1200, outputTokens: 40, cacheWriteTokens: 300 },
              },
            );
          }),
          meter.step(() =>
            useTool(
              "Bash",
              { command: "node check.mjs", description: "Run the check" },
              { usage: { inputTokens: 1400, outputTokens: 25, cacheReadTokens: 900 } },
            ),
          ),
          meter.step((request) =>
            say(`The check says: ${toolResults(request)[0]?.content ?? "nothing"}`, {
              inputTokens: 1500,
              outputTokens: 30,
              cacheReadTokens: 1000,
            }),
          ),
          // The fix round, a new session: only Baton's prompt can tell it what failed. It reads
          // add.mjs and fixes it only when the prompt carries the gate's failure.
          meter.step((request) => {
            fixPrompt = lastUserText(request);
            if (!fixPrompt.includes(FAILURE)) {
              return say("Nothing tells me what failed, so I change nothing.", {
                inputTokens: 900,
                outputTokens: 12,
              });
            }
            return useTool(
              "Read",
              { file_path: join(worktreeIn(fixPrompt), "add.mjs") },
              {
                text: "add(2, 3) returned -1. Let me look at add.mjs.",
                usage: { inputTokens: 2100, outputTokens: 35, cacheWriteTokens: 700 },
              },
            );
          }),
          meter.step(() =>
            useTool(
              "Edit",
              { file_path: join(worktree, "add.mjs"), old_string: "a - b", new_string: "a + b" },
              {
                text: "It subtracts. Fixing.",
                usage: { inputTokens: 2200, outputTokens: 45, cacheReadTokens: 1500 },
              },
            ),
          ),
          meter.step(() =>
            useTool(
              "Bash",
              { command: "node check.mjs", description: "Run the check" },
              { usage: { inputTokens: 2300, outputTokens: 22, cacheReadTokens: 1800 } },
            ),
          ),
          meter.step((request) =>
            say(`Fixed. The check says: ${toolResults(request)[0]?.content ?? "nothing"}`, {
              inputTokens: 2400,
              outputTokens: 18,
              cacheReadTokens: 2000,
            }),
          ),
        ],
      });
      onTestFinished(() => server.close());
      meter.attach(server);
      const home = await makeClaudeHome();
      onTestFinished(() => home.cleanup());

      const p = await project({
        config: `version: 1
defaults:
  agent: claude
  runtime: ${runtime}
  timeout: 2m
  stall_timeout: 2m
  grace: 2s
agents:
${claudeAgentYaml("claude", { server, home: home.path, model: MODEL })}
pipelines:
  default:
    stages:
      - id: implement
        prompt: prompts/implement.md
        gates:
          - { name: check, run: "node check.mjs", timeout: 30s }
        fix: { max_rounds: 2 }
        on_fail: fail
`,
        files: { "check.mjs": CHECK, "prompts/implement.md": PROMPT },
      });

      const run = await p.run(["run", "Make add() add"], { timeoutMs: 25_000 });
      expect(run.stderr).toBe("");
      expect(run.code, run.stdout).toBe(0);

      // The model saw the gate fail in its own Bash call, then the fix round's prompt carried the
      // gate's output under Baton's heading, and only then did it write the fix.
      const main = server.mainRequests();
      expect(main).toHaveLength(7);
      expect(toolResults(main[1]!)).toEqual([expect.objectContaining({ isError: false })]);
      expect(toolResults(main[2]!)).toEqual([
        expect.objectContaining({
          content: expect.stringContaining(FAILURE) as string,
          isError: true,
        }),
      ]);
      expect(fixPrompt).toContain("## Checks that failed (fix round 1)");
      expect(fixPrompt).toContain(`### check\n\n\`\`\`\n${FAILURE}`);
      expect(fixPrompt).toContain("Task #1: Make add() add");
      // Read, Edit and Bash all went through: the agent may work in its worktree unasked.
      for (const request of main.slice(4)) {
        expect(toolResults(request)).toEqual([expect.objectContaining({ isError: false })]);
      }
      expect(toolResults(main[6]!)[0]?.content).toBe("ok: add(2, 3) is 5");
      expect(server.exhausted).toBe(0);
      expect(server.requests.filter((r) => r.kind === "side")).toEqual([]);
      expect(main.every((r) => r.model === MODEL)).toBe(true);

      const view = await pipelineStatus(p, 1);
      expect(view.status).toBe("completed");
      expect(view.worktree).toBe(worktree);
      expect(worktreeFile(view, "add.mjs")).toBe(FIXED);
      const stage = stageOf(view, "implement");
      expect(stage).toMatchObject({ status: "succeeded", attempts: 1, fix_rounds: 1 });

      // Two jobs, each its own Claude Code session; each recorded exactly the tokens the server
      // sent that session, and the cost Claude Code reported, which is the list price of them.
      const jobs = jobsOf(p);
      expect(jobs.map((j) => [j.trigger, j.fix_round, j.status, j.error_class])).toEqual([
        ["initial", 0, "failed", "gate"],
        ["fix", 1, "succeeded", null],
      ]);
      const sessions = jobs.map((j) => j.agent_session_id);
      expect(new Set(sessions).size).toBe(2);
      expect(meter.replies.map((r) => r.sessionId)).toEqual([
        ...Array<string | null>(3).fill(sessions[0] ?? null),
        ...Array<string | null>(4).fill(sessions[1] ?? null),
      ]);
      for (const job of jobs) {
        const sent = meter.usageOf(job.agent_session_id ?? "");
        expect(job.model).toBe(MODEL);
        expect({
          inputTokens: job.tokens_in,
          outputTokens: job.tokens_out,
          cacheReadTokens: job.cache_read_tokens,
          cacheWriteTokens: job.cache_write_tokens,
        }).toEqual(sent);
        const expected = costOf(meter.replies.filter((r) => r.sessionId === job.agent_session_id));
        expect(expected).toBeGreaterThan(0);
        expect(job.cost_usd).toBeCloseTo(expected, 12);
        // What Baton recorded is Claude Code's own figure, from its last `result` line.
        expect(job.cost_usd).toBe(reportedCost(job.log_path ?? ""));
      }
      const total = sumUsage(meter.replies.map((r) => r.usage));
      expect(total).toEqual(server.usage());
      expect(stage.tokens).toBe(
        total.inputTokens + total.outputTokens + total.cacheReadTokens + total.cacheWriteTokens,
      );
      expect(stage.cost_usd).toBeCloseTo(costOf(meter.replies), 9);
    });
  },
);

/** `total_cost_usd` of the last `result` line in a Claude Code session log. */
function reportedCost(logPath: string): number | null {
  let cost: number | null = null;
  for (const line of readFileSync(logPath, "utf8").split("\n")) {
    if (line.startsWith("{")) {
      const value = JSON.parse(line) as { type?: unknown; total_cost_usd?: unknown };
      if (value.type === "result" && typeof value.total_cost_usd === "number") {
        cost = value.total_cost_usd;
      }
    }
  }
  return cost;
}
