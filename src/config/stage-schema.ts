/**
 * Schemas of one pipeline stage in `baton.yaml`, with its needs, gates, fix loop and failure
 * policy. They check the shape of each key; which keys may go together (a stage is exactly one
 * kind, a gate is a command or a judge) is checked by the rules, so that a stage with a problem
 * still takes part in the checks of the graph.
 */
import { z } from "zod";
import { AGGREGATES, FINAL_ACTIONS, NEED_CONDITIONS, RUNTIMES } from "../core/pipeline-def.js";
import {
  countSchema,
  durationSchema,
  nameSchema,
  strictObject,
  textSchema,
} from "./schema-helpers.js";
import { didYouMean } from "./suggest.js";

const agentName = nameSchema("agent name");

/** A path relative to the directory holding `baton.yaml`. */
const promptPath = textSchema(
  "Prompt template file, relative to the directory holding baton.yaml. Variables such as {{task.title}} are filled in; nothing else runs.",
);

const outputGlob = z
  .string()
  .min(1, { error: "must not be empty" })
  .refine((glob) => !glob.startsWith("/") && !/^[A-Za-z]:[\\/]/.test(glob), {
    error: (issue) =>
      `'${String(issue.input)}' is absolute; outputs are globs relative to the worktree, such as 'PLAN.md' or 'docs/**/*.md'`,
  })
  .refine((glob) => !glob.split(/[\\/]/).includes(".."), {
    error: (issue) =>
      `'${String(issue.input)}' leaves the worktree; remove the '..' segments (outputs are globs relative to the worktree)`,
  });

const needSchema = z.union(
  [
    nameSchema("stage id").describe("Id of a stage that must succeed first."),
    strictObject({
      stage: nameSchema(
        "stage id",
        "missing 'stage': the id of the stage to wait for, as in { stage: plan, when: failure }",
      ).describe("Id of the stage this one waits for."),
      when: z
        .enum(NEED_CONDITIONS)
        .default("success")
        .describe(
          "Run when that stage succeeds (success, the default), fails (failure), or either (always).",
        ),
    }),
  ],
  { error: () => "a need is a stage id, or { stage: <id>, when: success | failure | always }" },
);

const judgeSchema = strictObject({
  agent: agentName.optional().describe("Agent that judges. Default: defaults.agent."),
  prompt: promptPath
    .optional()
    .describe("Prompt file for the judge; it must answer JSON {pass, score, reasons}. Required."),
  pass_threshold: z
    .number()
    .min(0, { error: "must be from 0 to 1" })
    .max(1, { error: "must be from 0 to 1" })
    .default(0.7)
    .describe("The gate passes when the judge's score is at least this (0 to 1). Default: 0.7."),
});

const gateSchema = strictObject({
  name: textSchema(
    "Gate name, unique within the stage; shown in results and fix prompts.",
    "the gate has no name; add one, such as 'name: test'",
  ),
  run: textSchema(
    "Shell command run in the worktree (sh -c); the gate passes on exit 0. A gate has either run or judge.",
  ).optional(),
  judge: judgeSchema
    .optional()
    .describe(
      "An agent that judges the work instead of a command. A gate has either run or judge.",
    ),
  autofix: textSchema(
    "Command gates only: run once when the gate fails, then the gates run again.",
  ).optional(),
  timeout: durationSchema("Time limit of the gate. Default: 10m.").default("10m"),
});

const fixSchema = strictObject({
  max_rounds: countSchema(
    0,
    "Fix rounds after the gates fail: agent jobs given the failing gates' output. Default: 2; 0 turns fixing off.",
  ).default(2),
  agent: agentName.optional().describe("Agent for fix rounds. Default: the stage's agent."),
  prompt: promptPath
    .optional()
    .describe(
      "Prompt file for fix rounds. Default: the stage's prompt with the failures appended.",
    ),
});

const thenSchema = z
  .enum(FINAL_ACTIONS)
  .default("fail")
  .describe("What happens when the retries or routes are used up: fail (default) or escalate.");

const backoffSchema = strictObject({
  base: durationSchema("Delay before the first retry. Default: 30s.").default("30s"),
  factor: z
    .number()
    .min(1, { error: "must be at least 1" })
    .default(2)
    .describe("Each delay is the previous one times this. Default: 2."),
  max: durationSchema("Longest delay. Default: 10m.").default("10m"),
  jitter: z
    .boolean()
    .default(true)
    .describe("Spread each delay over [delay/2, delay]. Default: true."),
});

const retrySchema = z.union(
  [
    countSchema(1, "Number of retries, with the default backoff."),
    strictObject({
      max: countSchema(1, "Number of retries. Default: 2.").default(2),
      backoff: backoffSchema
        .prefault({})
        .describe(
          "Exponential backoff between retries. Default: 30s, factor 2, at most 10m, jitter.",
        ),
      then: thenSchema,
    }),
  ],
  { error: () => "retry takes a number of retries, or { max, backoff, then }" },
);

const onFailSchema = z
  .union(
    [
      z.enum(["fail", "escalate", "retry"], {
        error: (issue) =>
          `'${String(issue.input)}' is not an on_fail action; use fail, escalate or retry, or { retry: ... } or { route: ... }${didYouMean(String(issue.input), ["fail", "escalate", "retry"])}`,
      }),
      strictObject({ retry: retrySchema.describe("Run the stage again, after a backoff.") }),
      strictObject({
        route: nameSchema("stage id").describe(
          "An earlier stage this one depends on: it runs again with this failure as context.",
        ),
        max: countSchema(1, "Most routes back from this stage. Default: 2.").default(2),
        then: thenSchema,
      }),
    ],
    {
      error: () =>
        "on_fail is fail, escalate, retry, { retry: <n> | { max, backoff, then } }, or { route: <stage>, max, then }",
    },
  )
  .describe(
    "When the stage still fails after its gates and fix rounds: fail (default), escalate to a person, retry, or route back to an earlier stage.",
  );

const aggregateSchema = z
  .union(
    [
      z.enum(AGGREGATES, {
        error: (issue) =>
          `'${String(issue.input)}' is not an aggregate; use ${AGGREGATES.join(", ")}, or { run: <command> }${didYouMean(String(issue.input), AGGREGATES)}`,
      }),
      strictObject({ run: textSchema("Command that merges the fan-out members' outputs.") }),
    ],
    { error: () => "aggregate is concat, vote, first-success, or { run: <command> }" },
  )
  .describe(
    "Fan-out only: how the members' results combine: concat (default), vote, first-success, or { run: <command> }.",
  );

/** Spending limits: tokens, dollars, wall-clock time. */
export const budgetSchema = strictObject({
  tokens: countSchema(1, "Most tokens (input plus output) to spend.").optional(),
  cost_usd: z
    .number()
    .positive({ error: "must be more than 0" })
    .optional()
    .describe("Most US dollars to spend."),
  wallclock: durationSchema("Most wall-clock time to run.").optional(),
}).describe("Limits; a job that passes one is stopped and fails with error class budget.");

/** One stage of a pipeline as written in `baton.yaml`. */
export const stageSchema = strictObject({
  id: nameSchema(
    "stage id",
    "the stage has no id; add one, such as 'id: plan' (lowercase letters, digits, '-' and '_')",
  ).describe("Stage id, unique within the pipeline."),
  agent: agentName
    .optional()
    .describe("Agent stage: the agent that runs the prompt. Default: defaults.agent."),
  prompt: promptPath
    .optional()
    .describe("Agent or fan-out stage: prompt file, relative to the directory holding baton.yaml."),
  run: textSchema("Run stage: a shell command run in the worktree (sh -c).").optional(),
  uses: textSchema("Built-in stage: open-pr.").optional(),
  with: z
    .record(z.string(), z.string())
    .optional()
    .describe("Built-in stages only: string options for the built-in."),
  agents: z
    .array(agentName)
    .optional()
    .describe("Fan-out stage: two or more agents that each run the prompt."),
  aggregate: aggregateSchema.optional(),
  outputs: z
    .array(outputGlob)
    .optional()
    .describe(
      "Globs relative to the worktree; matching files are recorded as artifacts that later prompts read as {{artifacts.<stage>.<file>}}.",
    ),
  needs: z
    .array(needSchema)
    .optional()
    .describe("Stages that must finish first: ids, or { stage, when }."),
  gates: z
    .array(gateSchema)
    .optional()
    .describe("Checks run in order after the stage: commands (run) or judges (judge)."),
  fix: fixSchema.optional().describe("The fix loop when gates fail. Default: 2 rounds."),
  on_fail: onFailSchema.optional(),
  timeout: durationSchema(
    "Wall-clock limit of one job of this stage. Default: defaults.timeout.",
  ).optional(),
  stall_timeout: durationSchema(
    "No output for this long means stalled. Default: defaults.stall_timeout.",
  ).optional(),
  grace: durationSchema(
    "After the wrap-up steer at a timeout, kill after this. Default: defaults.grace.",
  ).optional(),
  commit: z
    .boolean()
    .optional()
    .describe("Commit what the job left uncommitted. Default: defaults.commit."),
  runtime: z
    .enum(RUNTIMES)
    .optional()
    .describe("auto, process or tmux. Default: the agent's runtime, else defaults.runtime."),
  interactive: z
    .boolean()
    .optional()
    .describe(
      "Run the agent's interactive terminal UI in a tmux session (people can attach), instead of its headless mode. Default: false.",
    ),
  budget: budgetSchema.optional(),
});

/** One stage as parsed. */
export type RawStage = z.output<typeof stageSchema>;
/** One gate as parsed. */
export type RawGate = z.output<typeof gateSchema>;
/** A stage's `on_fail` as parsed, in any of its forms. */
export type RawOnFail = z.output<typeof onFailSchema>;
/** A budget as parsed. */
export type RawBudget = z.output<typeof budgetSchema>;
