/**
 * An adapter knows one agent CLI: how to build its argv, how it takes the prompt, which of
 * Baton's environment it needs, how to read its structured output into events as they arrive,
 * how to steer a running session, and how to classify a failure. Adapters build argv arrays
 * only; nothing here goes through a shell, so task text in a prompt can never run as a command.
 */
import type { AgentDef } from "../core/pipeline-def.js";

export interface InvocationInput {
  agent: AgentDef;
  /** Absolute path of the rendered prompt. */
  promptFile: string;
  /** The rendered prompt itself (for adapters that pass it in their first stdin message). */
  prompt: string;
  worktree: string;
  taskNumber: number;
  stageId: string;
  /** The model chosen for this job, or `null` for the agent's default. */
  model: string | null;
  /** Directories the agent must not touch (the project's own checkout), unless sandboxing is off. */
  forbiddenDirs: readonly string[];
  /** Run the CLI's interactive terminal UI (tmux sessions with `interactive: true`). */
  interactive: boolean;
  /**
   * One turn and exit, prompt from the prompt file or stdin, no steering (judge gates, the LLM
   * router). Otherwise a session that may take more messages.
   */
  oneShot: boolean;
}

export interface Invocation {
  argv: string[];
  /**
   * What the program reads on stdin: the prompt file, a FIFO that stays open for steering
   * messages, or nothing.
   */
  stdin: "prompt" | "fifo" | "null";
  /** Environment the adapter adds (on top of Baton's scrubbed base and the agent's `env`). */
  env: Record<string, string>;
  /** Bytes written to the session's stdin FIFO right after it starts (the first message). */
  initialInput: string | null;
}

/** Token usage of a session so far. All counts are totals since the session started. */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  /** `null` when the agent does not report a cost; Baton then prices the tokens itself. */
  costUsd: number | null;
}

export const FAILURE_CLASSES = ["rate_limit", "auth", "transient", "timeout", "permanent"] as const;
export type FailureClass = (typeof FAILURE_CLASSES)[number];

/** What an agent's output said, one line at a time. */
export type AgentEvent =
  | { kind: "session"; sessionId: string; model: string | null }
  | { kind: "turn"; text: string }
  | { kind: "tool"; name: string; summary: string }
  /** The agent took a message from its input (its first prompt, or a steering message). */
  | { kind: "input" }
  | { kind: "usage"; usage: Usage }
  /** The agent finished its turn and now waits for input (or exits). */
  | { kind: "result"; ok: boolean; text: string; detail: string | null }
  | { kind: "error"; errorClass: FailureClass; message: string; resetAt: number | null };

/** A stateful reader of one session's output. Never throws for any input line. */
export interface OutputParser {
  /** Feeds one complete line (without its newline); returns what it meant. */
  line(text: string): AgentEvent[];
}

export interface FailureInput {
  exitCode: number | null;
  signal: string | null;
  /** The last few KiB of the session's output. */
  outputTail: string;
  /** The events parsed from the whole session, in order. */
  events: readonly AgentEvent[];
  now: number;
}

export interface FailureVerdict {
  errorClass: FailureClass;
  message: string;
  /** For rate limits: when the limit resets, if the output says. */
  resetAt: number | null;
}

export interface AgentAdapter {
  readonly name: string;
  /**
   * How a running headless session takes a message: on its stdin (a FIFO), through its
   * terminal (tmux sessions; a command agent's program may read it), or not at all. In an
   * `interactive` stage every agent reads its terminal and can be steered there.
   */
  readonly steering: "stdin" | "terminal" | "none";
  /** Builds the invocation. Throws `AppError` when the agent is configured wrongly. */
  invocation(input: InvocationInput): Invocation;
  /** The bytes that deliver `message` to a running session of this agent. */
  steerText(message: string): string;
  /** A parser for this agent's structured output, or `null` when it prints plain text. */
  createParser(): OutputParser | null;
  /** Why a session that did not succeed failed, from its exit, output and events. Pure. */
  classifyFailure(input: FailureInput): FailureVerdict;
}
