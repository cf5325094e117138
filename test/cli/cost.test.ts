/**
 * Token usage and cost as the CLI reports them: `baton analytics cost` and the TOKENS and COST
 * of `baton pipeline status` and `baton status`. The engine does not record usage yet, so the
 * test runs a pipeline, then writes each job's usage, model and start time into the project's
 * SQLite file, as the engine will.
 */
import { join } from "node:path";
import Database from "better-sqlite3";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { assertBuilt, type CliProject } from "../helpers/cli.js";
import { agentScript, pipelineStatus, PROMPT, project } from "./kit.js";

beforeAll(assertBuilt);

const HOUR = 60 * 60 * 1000;
/** 2027-01-15T00:00:00Z and the day after. */
const DAY1 = Date.UTC(2027, 0, 15);
const DAY2 = DAY1 + 24 * HOUR;

/** `build` runs agent `work`, `review` agent `other`, `check` is a command stage. */
const CONFIG = `version: 1
defaults:
  agent: work
  runtime: process
  timeout: 30s
  stall_timeout: 30s
  grace: 1s
agents:
  work:
    command: ["sh", "agents/work.sh", "{prompt_file}"]
  other:
    command: ["sh", "agents/work.sh", "{prompt_file}"]
pipelines:
  default:
    stages:
      - id: build
        prompt: prompts/p.md
      - id: review
        needs: [build]
        agent: other
        prompt: prompts/p.md
      - id: check
        needs: [review]
        run: 'true'
`;

interface StageUsage {
  model: string | null;
  startedAt: number;
  tokensIn: number;
  tokensOut: number;
  cacheRead: number;
  cacheWrite: number;
  costUsd: number;
}

/** What each stage's one job spent. 0.1 + 0.2 is not 0.3 in floating point; totals must be. */
const USAGE: Record<string, StageUsage> = {
  build: {
    model: "opus",
    startedAt: DAY1 + HOUR,
    tokensIn: 1000,
    tokensOut: 200,
    cacheRead: 3000,
    cacheWrite: 400,
    costUsd: 0.1,
  },
  review: {
    model: "gpt",
    startedAt: DAY2 + HOUR,
    tokensIn: 2000,
    tokensOut: 300,
    cacheRead: 500,
    cacheWrite: 0,
    costUsd: 0.2,
  },
  check: {
    model: null,
    startedAt: DAY2 + 2 * HOUR,
    tokensIn: 0,
    tokensOut: 0,
    cacheRead: 0,
    cacheWrite: 0,
    costUsd: 0,
  },
};

/** Writes `USAGE` into the jobs of the project's store, one job per stage. */
function writeUsage(p: CliProject): void {
  const db = new Database(join(p.home, "baton.db"));
  try {
    const jobs = z
      .array(z.object({ id: z.string(), stage_id: z.string() }))
      .parse(db.prepare("select id, stage_id from jobs order by seq").all());
    expect(jobs.map((j) => j.stage_id)).toEqual(["build", "review", "check"]);
    const update = db.prepare(
      `update jobs set model = ?, started_at = ?, finished_at = ?, tokens_in = ?, tokens_out = ?,
         cache_read_tokens = ?, cache_write_tokens = ?, cost_usd = ? where id = ?`,
    );
    for (const job of jobs) {
      const u = USAGE[job.stage_id];
      if (u === undefined) {
        throw new Error(`no usage for stage ${job.stage_id}`);
      }
      update.run(
        u.model,
        u.startedAt,
        u.startedAt + HOUR,
        u.tokensIn,
        u.tokensOut,
        u.cacheRead,
        u.cacheWrite,
        u.costUsd,
        job.id,
      );
    }
  } finally {
    db.close();
  }
}

const costRow = z.strictObject({
  agent: z.string().optional(),
  model: z.string().optional(),
  stage: z.string().optional(),
  day: z.string().optional(),
  jobs: z.number().int(),
  tokens_in: z.number().int(),
  tokens_out: z.number().int(),
  cache_read_tokens: z.number().int(),
  cache_write_tokens: z.number().int(),
  cost_usd: z.number(),
});

async function cost(p: CliProject, args: string[]): Promise<z.infer<typeof costRow>[]> {
  return z.array(costRow).parse(await p.json(["analytics", "cost", ...args, "--format", "json"]));
}

/** The numbers of a group: jobs, tokens in, out, cache read, cache write, cost. */
const numbers = (r: z.infer<typeof costRow>) => [
  r.jobs,
  r.tokens_in,
  r.tokens_out,
  r.cache_read_tokens,
  r.cache_write_tokens,
  r.cost_usd,
];

describe("token usage and cost in the CLI", () => {
  it("analytics cost groups by agent, model, stage and day; pipeline status sums per stage", async () => {
    const p = await project({
      config: CONFIG,
      files: { "agents/work.sh": agentScript(), "prompts/p.md": PROMPT },
    });
    const ran = await p.run(["run", "Spend some tokens"]);
    expect(ran.stderr).toBe("");
    expect(ran.code).toBe(0);
    writeUsage(p);

    const BUILD = [1, 1000, 200, 3000, 400, 0.1];
    const REVIEW = [1, 2000, 300, 500, 0, 0.2];
    const CHECK = [1, 0, 0, 0, 0, 0];

    // Default: by agent, most expensive first; the command stage has no agent.
    const byAgent = await cost(p, []);
    expect(byAgent.map((r) => [r.agent, ...numbers(r)])).toEqual([
      ["other", ...REVIEW],
      ["work", ...BUILD],
      ["-", ...CHECK],
    ]);
    expect(await p.json(["analytics", "cost", "--by", "agent", "--json"])).toEqual(byAgent);

    const byModel = await cost(p, ["--by", "model"]);
    expect(byModel.map((r) => [r.model, ...numbers(r)])).toEqual([
      ["gpt", ...REVIEW],
      ["opus", ...BUILD],
      ["-", ...CHECK],
    ]);

    const byStage = await cost(p, ["--by", "stage"]);
    expect(byStage.map((r) => [r.stage, ...numbers(r)])).toEqual([
      ["review", ...REVIEW],
      ["build", ...BUILD],
      ["check", ...CHECK],
    ]);

    // Days ascending, as UTC dates; review and check share the second day.
    const byDay = await cost(p, ["--by", "day"]);
    expect(byDay.map((r) => [r.day, ...numbers(r)])).toEqual([
      ["2027-01-15", ...BUILD],
      ["2027-01-16", 2, 2000, 300, 500, 0, 0.2],
    ]);

    // Several keys: a comma list and a repeated option are the same.
    const combined = await cost(p, ["--by", "day,agent"]);
    expect(await cost(p, ["--by", "day", "--by", "agent"])).toEqual(combined);
    expect(combined.map((r) => [r.day, r.agent, r.jobs, r.cost_usd])).toEqual([
      ["2027-01-15", "work", 1, 0.1],
      ["2027-01-16", "other", 1, 0.2],
      ["2027-01-16", "-", 1, 0],
    ]);

    const since = await cost(p, ["--by", "stage", "--since", "2027-01-16"]);
    expect(since.map((r) => r.stage)).toEqual(["review", "check"]);

    const table = await p.run(["analytics", "cost", "--by", "stage"]);
    expect(table.stderr).toBe("");
    expect(table.code).toBe(0);
    expect(table.stdout).toBe(
      [
        "STAGE   JOBS  TOKENS IN  TOKENS OUT  CACHE READ  CACHE WRITE  COST",
        "review  1     2000       300         500         0            $0.2000",
        "build   1     1000       200         3000        400          $0.1000",
        "check   1     0          0           0           0            -",
        "total   3     3000       500         3500        400          $0.3000",
        "",
      ].join("\n"),
    );

    const bad = await p.run(["analytics", "cost", "--by", "agent,colour"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--by colour is not a grouping; use agent, model, stage, day");

    // Pipeline status: every token of the stage's jobs (in, out, cache read and write).
    const view = await pipelineStatus(p, 1);
    expect(view.stages.map((s) => [s.id, s.tokens, s.cost_usd])).toEqual([
      ["build", 4600, 0.1],
      ["review", 2800, 0.2],
      ["check", 0, 0],
    ]);
    const totals = z
      .object({ tokens: z.number(), cost_usd: z.number() })
      .parse(await p.json(["pipeline", "status", "1", "--format", "json"]));
    expect(totals).toEqual({ tokens: 7400, cost_usd: 0.3 });

    const status = await p.run(["pipeline", "status", "1"]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(
      /^STAGE\s+STATUS\s+ATTEMPTS\s+FIX ROUNDS\s+DURATION\s+TOKENS\s+COST$/m,
    );
    expect(status.stdout).toMatch(/^build\s+succeeded\s+1\s+0\s+1h\S*\s+4600\s+\$0\.1000$/m);
    expect(status.stdout).toMatch(/^review\s+succeeded\s+1\s+0\s+1h\S*\s+2800\s+\$0\.2000$/m);
    expect(status.stdout).toMatch(/^check\s+succeeded\s+1\s+0\s+1h\S*\s+-\s+-$/m);
    expect(status.stdout).toMatch(/^total\s+\S+\s+7400\s+\$0\.3000$/m);

    const all = await p.run(["status"]);
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/^TASK\s+STATUS\s+STAGE\s+COST\s+AGE\s+TITLE$/m);
    expect(all.stdout).toMatch(/^#1\s+completed\s+-\s+\$0\.3000\s+\S+\s+Spend some tokens$/m);
  });
});
