/**
 * Shared pieces of the CLI e2e tests: a `baton.yaml` around a list of stages, scripted `command`
 * agents (shell scripts committed into the test repository), and zod shapes of the JSON the
 * CLI prints, so each parse is also an assertion on the output's shape.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, onTestFinished } from "vitest";
import { z } from "zod";
import { ESC, makeCliProject, type CliProject } from "../helpers/cli.js";

/**
 * A `baton.yaml` with the `work` command agent (`sh agents/work.sh {prompt_file}`) as the
 * default agent, process sessions and short timeouts. `stages` is the YAML list of the default
 * pipeline's stages, indented by six spaces.
 */
export function batonYaml(stages: string, options: { timeout?: string } = {}): string {
  return `version: 1
defaults:
  agent: work
  runtime: process
  timeout: ${options.timeout ?? "30s"}
  stall_timeout: 30s
  grace: 1s
agents:
  work:
    command: ["sh", "agents/work.sh", "{prompt_file}"]
pipelines:
  default:
    stages:
${stages}`;
}

/**
 * The start of every scripted agent: keeps a copy of the prompt it was given, named after the
 * stage, attempt and fix round, and a line in `.agent/runs.log` per job, both in the worktree.
 */
const AGENT_PRELUDE = `#!/bin/sh
set -u
mkdir -p .agent
cp "$1" ".agent/prompt-$BATON_STAGE-a$BATON_ATTEMPT-f$BATON_FIX_ROUND.md"
echo "$BATON_STAGE attempt=$BATON_ATTEMPT fix=$BATON_FIX_ROUND task=$BATON_TASK job=$BATON_JOB_ID" >> .agent/runs.log
`;

/** The agent script: the prelude, then `body`. */
export function agentScript(body = ""): string {
  return `${AGENT_PRELUDE}${body}\n`;
}

/** A plain prompt template that shows the task title and body. */
export const PROMPT = "Task #{{task.number}}: {{task.title}}\n\n{{task.body}}\n";

/**
 * A project for one test, removed (and its processes checked) when the test finishes. Every
 * command run through it is also checked for ANSI escapes: the CLI runs without a TTY and with
 * `NO_COLOR=1`, so none may appear, whatever the command.
 */
export async function project(options: {
  config?: string;
  files?: Record<string, string>;
}): Promise<CliProject> {
  const created = await makeCliProject(options);
  onTestFinished(() => created.cleanup());
  const run: CliProject["run"] = async (args, runOptions) => {
    const result = await created.run(args, runOptions);
    expect(result.stdout, `stdout of baton ${args.join(" ")}`).not.toContain(ESC);
    expect(result.stderr, `stderr of baton ${args.join(" ")}`).not.toContain(ESC);
    return result;
  };
  return { ...created, run };
}

/** A project whose default pipeline is `stages`, with `agents/work.sh` and `prompts/p.md`. */
export function agentProject(
  stages: string,
  agentBody: string,
  options: { timeout?: string; files?: Record<string, string> } = {},
): Promise<CliProject> {
  return project({
    config: batonYaml(stages, options),
    files: {
      "agents/work.sh": agentScript(agentBody),
      "prompts/p.md": PROMPT,
      ...(options.files ?? {}),
    },
  });
}

export const stageView = z.object({
  id: z.string(),
  status: z.string(),
  attempts: z.number().int(),
  fix_rounds: z.number().int(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  tokens: z.number(),
  cost_usd: z.number(),
  error: z.string().nullable(),
});

export const pipelineView = z.object({
  task: z.number().int(),
  title: z.string(),
  status: z.enum(["pending", "running", "blocked", "completed", "failed", "cancelled"]),
  reason: z.string().nullable(),
  branch: z.string().nullable(),
  worktree: z.string().nullable(),
  stages: z.array(stageView),
});
export type PipelineView = z.infer<typeof pipelineView>;

/** `baton pipeline status <n> --format=json`, checked against its documented shape. */
export async function pipelineStatus(p: CliProject, task: number): Promise<PipelineView> {
  return pipelineView.parse(await p.json(["pipeline", "status", String(task), "--format=json"]));
}

/** One stage of a view, failing clearly when it is missing. */
export function stageOf(view: PipelineView, id: string): z.infer<typeof stageView> {
  const stage = view.stages.find((s) => s.id === id);
  if (stage === undefined) {
    throw new Error(`no stage ${id} in ${JSON.stringify(view)}`);
  }
  return stage;
}

/** The exact shape of `baton check-in --format=json`: nothing more, nothing less. */
export const checkInOutput = z.strictObject({
  actions: z.array(
    z.strictObject({
      issue: z.number().int().positive(),
      action: z.enum(["skip", "advanced", "completed", "steer", "retry", "escalate", "fail"]),
      stage: z.string(),
      message: z.string(),
    }),
  ),
});
export type CheckInOutput = z.infer<typeof checkInOutput>;

export const sessionList = z.object({
  sessions: z.array(
    z.object({
      name: z.string(),
      runtime: z.string(),
      state: z.string(),
      orphan: z.string().nullable(),
      stage: z.string().nullable(),
      job_status: z.string().nullable(),
      pid: z.number().int().nullable(),
    }),
  ),
});

/** A file the agent left in the pipeline's worktree. */
export function worktreeFile(view: PipelineView, path: string): string {
  if (view.worktree === null) {
    throw new Error(`task #${view.task} has no worktree`);
  }
  return readFileSync(join(view.worktree, path), "utf8");
}

/** Both session runtimes: tests of agents in sessions run under each. */
export const RUNTIMES = ["process", "tmux"] as const;
