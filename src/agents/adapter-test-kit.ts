/**
 * What the adapters' unit tests share: an agent as the config would define it, an invocation
 * input and a failure input with overridable defaults, transcript fixtures, and a parser run
 * over a whole transcript.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { AgentDef } from "../core/pipeline-def.js";
import type { AgentEvent, FailureInput, InvocationInput, OutputParser } from "./adapter.js";

/** The built-in agent of `adapter`, as a config that only sets `fields` defines it. */
export function builtinAgent(adapter: string, fields: Partial<AgentDef> = {}): AgentDef {
  return {
    name: adapter,
    adapter,
    command: null,
    model: null,
    env: {},
    passEnv: [],
    runtime: null,
    fallback: null,
    sandbox: true,
    prices: null,
    ...fields,
  };
}

/** A headless job of task 12's `implement` stage for `agent`, with `overrides`. */
export function invocationInput(
  agent: AgentDef,
  overrides: Partial<InvocationInput> = {},
): InvocationInput {
  return {
    agent,
    promptFile: "/srv/baton/sessions/s1/prompt.md",
    prompt: "Fix the failing test in src/sum.test.ts.",
    worktree: "/srv/baton/worktrees/app/12-fix-sum",
    taskNumber: 12,
    stageId: "implement",
    model: null,
    forbiddenDirs: ["/home/me/app"],
    interactive: false,
    oneShot: false,
    ...overrides,
  };
}

/** An exit with code 1 and no output at `now`, with `overrides`. */
export function failureInput(now: number, overrides: Partial<FailureInput> = {}): FailureInput {
  return { exitCode: 1, signal: null, outputTail: "", events: [], now, ...overrides };
}

/** A transcript from `test/fixtures/<adapter>/`. */
export function fixture(adapter: string, name: string): string {
  return readFileSync(
    join(import.meta.dirname, "..", "..", "test", "fixtures", adapter, name),
    "utf8",
  );
}

/** What `parser` makes of `text`, line by line. */
export function replay(parser: OutputParser | null, text: string): AgentEvent[] {
  if (parser === null) {
    throw new Error("this adapter has no parser");
  }
  return text.split("\n").flatMap((line) => parser.line(line));
}
