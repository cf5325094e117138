/**
 * One turn of an agent that answers and exits: a judge gate, the llm router. The prompt goes
 * through a file; the agent runs headless in `cwd`, killed at `timeoutMs`; its last words come
 * back as text, with what it spent when its output says.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { getAdapter } from "../agents/registry.js";
import type { AgentDef } from "../core/pipeline-def.js";
import { readLogTail } from "../sessions/log-tail.js";
import { jobUsage, readAgentOutput } from "./agent-output.js";
import { sessionEnvironment } from "./environment.js";
import { runShell } from "./run-shell.js";
import type { JobUsage } from "../store/jobs.repository.js";

/** How much of a plain-text agent's output counts as its answer. */
const ANSWER_BYTES = 64 * 1024;

export interface OneShotInput {
  agent: AgentDef;
  /** `null` runs the agent's own model. */
  model: string | null;
  prompt: string;
  /** Names the prompt and log files in `dir`. */
  name: string;
  dir: string;
  cwd: string;
  /** Baton's own environment, filtered as for a session. */
  baseEnv: Readonly<Record<string, string | undefined>>;
  /** Baton's variables for the agent (`BATON_TASK`, …). */
  jobEnv: Readonly<Record<string, string>>;
  pathPrefix: readonly string[];
  forbiddenDirs: readonly string[];
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface OneShotResult {
  /** What the agent said last: its final result when its output is structured, else its output. */
  text: string;
  exitCode: number | null;
  timedOut: boolean;
  /** The last few KiB of the raw output, for messages. */
  outputTail: string;
  usage: JobUsage | null;
  logFile: string;
  durationMs: number;
}

/** Runs the agent once. Rejects only when it cannot start at all. */
export async function runOneShot(input: OneShotInput): Promise<OneShotResult> {
  mkdirSync(input.dir, { recursive: true });
  const promptFile = join(input.dir, `${input.name}.prompt.md`);
  const logFile = join(input.dir, `${input.name}.log`);
  writeFileSync(promptFile, input.prompt);
  const adapter = getAdapter(input.agent.adapter);
  const invocation = adapter.invocation({
    agent: input.agent,
    promptFile,
    prompt: input.prompt,
    worktree: input.cwd,
    taskNumber: Number(input.jobEnv.BATON_TASK ?? 0),
    stageId: input.name,
    model: input.model ?? input.agent.model,
    forbiddenDirs: input.forbiddenDirs,
    interactive: false,
    oneShot: true,
  });
  const env = sessionEnvironment({
    base: input.baseEnv,
    passEnv: input.agent.passEnv,
    agentEnv: input.agent.env,
    adapterEnv: invocation.env,
    job: input.jobEnv,
    pathPrefix: input.pathPrefix,
  });
  const result = await runShell({
    argv: invocation.argv,
    ...(invocation.stdin === "prompt" ? { stdinFile: promptFile } : {}),
    cwd: input.cwd,
    env,
    timeoutMs: input.timeoutMs,
    logFile,
    pidFile: join(input.dir, `${input.name}.pid`),
    ...(input.signal === undefined ? {} : { signal: input.signal }),
  });
  const summary = await readAgentOutput(input.agent.adapter, logFile);
  const last = summary?.lastResult?.text ?? lastTurn(summary?.events ?? []);
  return {
    text: last ?? (await readLogTail(logFile, ANSWER_BYTES)),
    exitCode: result.exitCode,
    timedOut: result.timedOut,
    outputTail: result.outputTail,
    usage:
      summary?.usage == null
        ? null
        : jobUsage(summary.usage, input.model ?? summary.model ?? input.agent.model, input.agent),
    logFile,
    durationMs: result.durationMs,
  };
}

function lastTurn(events: readonly { kind: string; text?: string }[]): string | null {
  for (let i = events.length - 1; i >= 0; i -= 1) {
    const event = events[i];
    if (event?.kind === "turn" && typeof event.text === "string") {
      return event.text;
    }
  }
  return null;
}
