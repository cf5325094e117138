/**
 * A stage's gates: checks run in the worktree after its job. Every gate runs, in order, so a
 * fix round sees all failures at once. When some fail and have an `autofix`, those commands
 * run and then all gates run once more; what still fails is the result.
 */
import { join } from "node:path";
import { z } from "zod";
import { failureFingerprint } from "../core/fingerprint.js";
import type { AgentDef, GateDef, JudgeGateDef } from "../core/pipeline-def.js";
import { renderTemplate, type TemplateScope } from "../core/template.js";
import { runOneShot } from "./one-shot.js";
import { runShell } from "./run-shell.js";

export interface GateRun {
  gate: string;
  passed: boolean;
  exitCode: number | null;
  /** True for results from the round after autofix commands ran. */
  autofixed: boolean;
  outputTail: string;
  fingerprint: string | null;
  durationMs: number;
}

export interface GateRunInput {
  gates: readonly GateDef[];
  worktree: string;
  /** Directory for gate logs and the running gate's pid file. */
  dir: string;
  env: Record<string, string>;
  /** Baton's own environment and `bin`, from which judge agents get theirs. */
  baseEnv: Readonly<Record<string, string | undefined>>;
  pathPrefix: readonly string[];
  agents: Readonly<Record<string, AgentDef>>;
  /** Directories judge agents must not touch (the project's own checkout). */
  forbiddenDirs: readonly string[];
  /** Variables for judge prompts. */
  scope: TemplateScope;
  signal?: AbortSignal;
}

const judgeAnswer = z.object({
  pass: z.boolean().optional(),
  score: z.number().min(0).max(1).optional(),
  reasons: z.array(z.string()).optional(),
});

/** The last JSON object in `output` that reads as a judge's answer, if any. */
export function parseJudgeAnswer(output: string): z.infer<typeof judgeAnswer> | null {
  for (
    let start = output.lastIndexOf("{");
    start >= 0;
    start = output.lastIndexOf("{", start - 1)
  ) {
    const end = output.indexOf("}", start);
    for (let close = end; close >= 0; close = output.indexOf("}", close + 1)) {
      try {
        const parsed = judgeAnswer.safeParse(JSON.parse(output.slice(start, close + 1)));
        if (parsed.success && (parsed.data.pass !== undefined || parsed.data.score !== undefined)) {
          return parsed.data;
        }
      } catch {
        // Not JSON yet; try a longer slice.
      }
    }
    if (start === 0) {
      break;
    }
  }
  return null;
}

async function runJudge(gate: JudgeGateDef, input: GateRunInput, round: number): Promise<GateRun> {
  const agent = input.agents[gate.agent];
  if (agent === undefined) {
    return {
      gate: gate.name,
      passed: false,
      exitCode: null,
      autofixed: round > 0,
      outputTail: `judge agent ${gate.agent} is not defined`,
      fingerprint: null,
      durationMs: 0,
    };
  }
  const result = await runOneShot({
    agent,
    model: null,
    prompt: renderTemplate(gate.prompt.template, input.scope).text,
    name: `${gate.name}.${round}`,
    dir: join(input.dir, "gates"),
    cwd: input.worktree,
    baseEnv: input.baseEnv,
    jobEnv: jobVariables(input.env),
    pathPrefix: input.pathPrefix,
    forbiddenDirs: input.forbiddenDirs,
    timeoutMs: gate.timeoutMs,
    ...(input.signal === undefined ? {} : { signal: input.signal }),
  });
  const answer = parseJudgeAnswer(result.text);
  const score = answer?.score ?? (answer?.pass === true ? 1 : 0);
  const passed = answer !== null && answer.pass !== false && score >= gate.passThreshold;
  const verdict =
    answer === null
      ? "the judge gave no JSON answer {pass, score, reasons}"
      : `score ${score} (needs ${gate.passThreshold})${answer.reasons === undefined ? "" : `: ${answer.reasons.join("; ")}`}`;
  const outputTail = passed ? verdict : `${verdict}\n\n${result.outputTail}`;
  return {
    gate: gate.name,
    passed,
    exitCode: result.exitCode,
    autofixed: round > 0,
    outputTail,
    fingerprint: passed ? null : failureFingerprint(gate.name, verdict),
    durationMs: result.durationMs,
  };
}

/** Baton's own variables among a gate's environment, which a judge agent gets too. */
function jobVariables(env: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter(([name]) => name.startsWith("BATON_")));
}

async function runOne(gate: GateDef, input: GateRunInput, round: number): Promise<GateRun> {
  if (gate.kind === "judge") {
    return runJudge(gate, input, round);
  }
  const result = await runShell({
    command: gate.run,
    cwd: input.worktree,
    env: input.env,
    timeoutMs: gate.timeoutMs,
    logFile: join(input.dir, "gates", `${gate.name}.${round}.log`),
    pidFile: join(input.dir, "gate.pid"),
    ...(input.signal === undefined ? {} : { signal: input.signal }),
  });
  const passed = result.exitCode === 0 && !result.timedOut;
  const outputTail = result.timedOut
    ? `${result.outputTail}\n[baton] gate ${gate.name} timed out after ${Math.round(gate.timeoutMs / 1000)}s and was killed`
    : result.outputTail;
  return {
    gate: gate.name,
    passed,
    exitCode: result.exitCode,
    autofixed: round > 0,
    outputTail,
    fingerprint: passed ? null : failureFingerprint(gate.name, outputTail),
    durationMs: result.durationMs,
  };
}

/** Runs the gates (and autofixes). Resolves with every result and the final failures. */
export async function runGates(
  input: GateRunInput,
): Promise<{ results: GateRun[]; failing: GateRun[] }> {
  const results: GateRun[] = [];
  const first: GateRun[] = [];
  for (const gate of input.gates) {
    first.push(await runOne(gate, input, 0));
  }
  results.push(...first);
  const failed = first.filter((r) => !r.passed);
  const fixable = input.gates.filter(
    (g) => g.kind === "command" && g.autofix !== null && failed.some((r) => r.gate === g.name),
  );
  if (fixable.length === 0) {
    return { results, failing: failed };
  }
  for (const gate of fixable) {
    if (gate.kind === "command" && gate.autofix !== null) {
      await runShell({
        command: gate.autofix,
        cwd: input.worktree,
        env: input.env,
        timeoutMs: gate.timeoutMs,
        logFile: join(input.dir, "gates", `${gate.name}.autofix.log`),
        pidFile: join(input.dir, "gate.pid"),
        ...(input.signal === undefined ? {} : { signal: input.signal }),
      });
    }
  }
  const second: GateRun[] = [];
  for (const gate of input.gates) {
    second.push(await runOne(gate, input, 1));
  }
  results.push(...second);
  return { results, failing: second.filter((r) => !r.passed) };
}
