/**
 * The `claude` adapter: Claude Code (`@anthropic-ai/claude-code`, checked against 2.1.197).
 *
 * Sessions run `claude -p --input-format stream-json --output-format stream-json --verbose`:
 * the prompt is the first stream-json user message on the session's stdin FIFO, each steering
 * message is another, and after each turn the CLI prints a `result` line and waits for the next
 * message (it exits only at end of input, which a FIFO held open never gives, or on SIGTERM).
 * One-shot runs read the prompt as text on stdin and exit after their turn. Interactive runs
 * (tmux) start the terminal UI with the prompt as its argument, and report their turns through
 * hooks passed inline with `--settings` (see `INTERACTIVE_SETTINGS`). A steering message for an
 * interactive session is plain text typed into its terminal, not `steerText`'s stream-json line.
 *
 * Interactive runs need a Claude Code that has been set up by hand once, under the HOME the agent
 * runs with: the terminal UI shows first-run screens that nobody in a Baton session answers. Run
 * `claude` once yourself to finish onboarding (`hasCompletedOnboarding` in `~/.claude.json`),
 * answer "yes" to "use this API key?" when the agent uses `ANTHROPIC_API_KEY`
 * (`customApiKeyResponses.approved`), and trust the folder that holds Baton's worktrees, or any
 * folder above it (`projects[dir].hasTrustDialogAccepted`: Claude Code accepts the trust of any
 * ancestor). Checked against 2.1.197.
 *
 * Permissions: `--permission-mode acceptEdits` with only `Bash` pre-approved. Claude Code then
 * edits and reads files inside its working directory (the worktree) without asking, runs
 * commands, and denies anything else that would need a prompt (edits or reads elsewhere, web
 * fetches), since no one can answer one. An agent with `sandbox: false` also gets `Edit`,
 * `Write` and `Read` pre-approved, so it may work outside its worktree. `bypassPermissions` is
 * not used: Claude Code refuses it as root unless `IS_SANDBOX=1`. Forbidden directories (the
 * project's own checkout) get deny rules, which win over any approval: `Read(//dir/**)` and
 * `Edit(//dir/**)` (Edit rules cover Write and NotebookEdit too), and `Bash(...)` rules for
 * commands naming the directory, which only catch literal mentions (`cd .. && cat x` passes).
 */
import { isAbsolute, normalize, sep } from "node:path";
import { InternalError } from "../core/errors.js";
import type {
  AgentAdapter,
  AgentEvent,
  FailureInput,
  FailureVerdict,
  Invocation,
  InvocationInput,
} from "./adapter.js";
import { classifyFromOutput, parseResetAt } from "./classify.js";
import {
  apiRetryLine,
  classifyApiError,
  createClaudeParser,
  parseJsonLine,
} from "./claude-output.js";

const PROGRAM = "claude";
const PERMISSION_MODE = "acceptEdits";
const ALLOWED_TOOLS = ["Bash"] as const;
/** Pre-approved for agents with `sandbox: false`: file tools anywhere, not only the worktree. */
const UNSANDBOXED_TOOLS = ["Bash", "Edit", "Write", "Read"] as const;
/** Prompts longer than this go to an interactive session as a pointer to the prompt file. */
const MAX_PROMPT_ARG_BYTES = 64 * 1024;

/**
 * The hook command that reports `signal` for the session named by `BATON_SESSION` (Baton puts
 * it and the `baton` shim in every session's environment). Its stdout is dropped: Claude Code
 * adds a `UserPromptSubmit` hook's output to the model's context. Any failure exits 1, never 2:
 * exit code 2 (`baton`'s usage or config error) would tell Claude Code to block, which after
 * `Stop` means "keep working" with the error as the next instruction, a loop that never ends,
 * and after `UserPromptSubmit` means dropping the prompt. With 1 the UI shows the hook's error
 * and carries on, and the session's quiet period still ends the turn.
 */
function hookCommand(signal: "idle" | "active"): string {
  return `baton session event --type ${signal} >/dev/null || exit 1`;
}

function hook(signal: "idle" | "active"): { hooks: { type: "command"; command: string }[] } {
  return { hooks: [{ type: "command", command: hookCommand(signal) }] };
}

/**
 * Settings for an interactive session (`--settings` takes them inline as JSON), whose hooks tell
 * Baton when the agent works and when it waits: `UserPromptSubmit` (the prompt, a steering
 * message or a person's message was submitted) reports `active`; `Stop` (the turn ended) and the
 * `idle_prompt` notification (still waiting for input, by default 60 s after the turn ended)
 * report `idle`. They add to the user's own hooks; a `disableAllHooks` setting turns them off,
 * and the stage's `idle_after` quiet period is then what ends a turn.
 */
export const INTERACTIVE_SETTINGS = JSON.stringify({
  hooks: {
    UserPromptSubmit: [hook("active")],
    Stop: [hook("idle")],
    Notification: [{ matcher: "idle_prompt", ...hook("idle") }],
  },
});

/** One stream-json user message line, as `--input-format stream-json` reads it. */
export function userMessageLine(text: string): string {
  return `${JSON.stringify({
    type: "user",
    message: { role: "user", content: [{ type: "text", text }] },
  })}\n`;
}

/**
 * Claude Code permission rules that keep the agent out of `dirs`, skipping any directory that
 * holds the worktree itself. Absolute paths are written with Claude Code's `//` prefix (a single
 * `/` would be relative to the settings file). Throws `InternalError` for a relative directory.
 */
export function denyRules(dirs: readonly string[], worktree: string): string[] {
  const rules: string[] = [];
  const tree = stripTrailingSep(normalize(worktree));
  for (const raw of dirs) {
    if (!isAbsolute(raw)) {
      throw new InternalError(`forbidden directory ${raw} is not an absolute path`);
    }
    const dir = stripTrailingSep(normalize(raw));
    if (dir === "" || tree === dir || tree.startsWith(`${dir}${sep}`)) {
      continue;
    }
    rules.push(
      `Read(/${dir}/**)`,
      `Edit(/${dir}/**)`,
      `Bash(*${dir})`,
      `Bash(*${dir}/*)`,
      `Bash(*${dir} *)`,
    );
  }
  return rules;
}

function stripTrailingSep(path: string): string {
  return path.length > 1 && path.endsWith(sep) ? path.slice(0, -1) : path === sep ? "" : path;
}

function permissionArgs(input: InvocationInput, extraAllowed: readonly string[]): string[] {
  const model = input.model ?? input.agent.model;
  const deny = denyRules(input.forbiddenDirs, input.worktree);
  // `--allowedTools` and `--disallowedTools` take several values: each list ends at the next
  // option (or `--`), so nothing free-form may follow one directly.
  return [
    "--permission-mode",
    PERMISSION_MODE,
    ...(model === null ? [] : ["--model", model]),
    "--allowedTools",
    ...(input.agent.sandbox ? ALLOWED_TOOLS : UNSANDBOXED_TOOLS),
    ...extraAllowed,
    ...(deny.length === 0 ? [] : ["--disallowedTools", ...deny]),
  ];
}

function invocation(input: InvocationInput): Invocation {
  if (input.interactive) {
    const fits = Buffer.byteLength(input.prompt, "utf8") <= MAX_PROMPT_ARG_BYTES;
    const prompt = fits
      ? input.prompt
      : `Your task is in the file ${input.promptFile}. Read it first, then carry it out.`;
    const extra = fits ? [] : [`Read(/${input.promptFile})`];
    return {
      argv: [
        PROGRAM,
        "--settings",
        INTERACTIVE_SETTINGS,
        ...permissionArgs(input, extra),
        "--",
        prompt,
      ],
      stdin: "null",
      env: {},
      initialInput: null,
    };
  }
  const print = [PROGRAM, "-p", "--output-format", "stream-json", "--verbose"];
  if (input.oneShot) {
    return {
      argv: [...print, ...permissionArgs(input, [])],
      stdin: "prompt",
      env: {},
      initialInput: null,
    };
  }
  return {
    argv: [
      ...print,
      "--input-format",
      "stream-json",
      // Echo each message read from stdin, so the log shows the prompt and every steer in order.
      "--replay-user-messages",
      ...permissionArgs(input, []),
    ],
    stdin: "fifo",
    env: {},
    initialInput: userMessageLine(input.prompt),
  };
}

/**
 * Why a Claude Code session failed: the API error of its last turn when that turn failed, else
 * the API error it was retrying when it ended (an `api_retry` line after the last `result`),
 * else the shared classification of its non-JSON output. Pure.
 */
export function classifyClaudeFailure(input: FailureInput): FailureVerdict {
  const error = lastTurnError(input.events);
  if (error !== null) {
    const resetAt =
      error.errorClass === "rate_limit"
        ? (error.resetAt ?? parseResetAt(plainText(input.outputTail), input.now))
        : null;
    return { errorClass: error.errorClass, message: error.message, resetAt };
  }
  const retry = pendingRetry(input.outputTail);
  if (retry !== null) {
    const errorClass = classifyApiError(retry.error_status ?? null, retry.error ?? null);
    if (errorClass !== null) {
      const how =
        input.signal !== null
          ? `was killed by ${input.signal}`
          : `exited with code ${input.exitCode ?? "?"}`;
      return {
        errorClass,
        message:
          `claude ${how} while retrying an API error ` +
          `(${retry.error_status ?? "no status"}${retry.error == null ? "" : `, ${retry.error}`})`,
        resetAt: null,
      };
    }
  }
  return classifyFromOutput({ ...input, outputTail: plainText(input.outputTail) });
}

/** The `error` event of the last turn, when that turn (the last `result`) failed. */
function lastTurnError(
  events: readonly AgentEvent[],
): Extract<AgentEvent, { kind: "error" }> | null {
  let sawFailedResult = false;
  for (let i = events.length - 1; i >= 0; i -= 1) {
    const event = events[i];
    if (event?.kind === "result") {
      if (sawFailedResult || event.ok) {
        return null;
      }
      sawFailedResult = true;
    } else if (event?.kind === "error" && sawFailedResult) {
      return event;
    }
  }
  return null;
}

/** The last `api_retry` line after the last `result` line of `tail`, if any. */
function pendingRetry(tail: string): ReturnType<typeof apiRetryLine.parse> | null {
  const lines = tail.split("\n");
  for (let i = lines.length - 1; i >= 0; i -= 1) {
    const value = parseJsonLine(lines[i] ?? "");
    if (typeof value === "object" && value !== null && "type" in value && value.type === "result") {
      return null;
    }
    const retry = apiRetryLine.safeParse(value);
    if (retry.success) {
      return retry.data;
    }
  }
  return null;
}

/** The lines of `tail` that are not JSON objects: numbers inside JSON must not read as codes. */
function plainText(tail: string): string {
  return tail
    .split("\n")
    .filter((line) => parseJsonLine(line) === null)
    .join("\n");
}

/**
 * Claude Code. Steering is a stream-json user message on stdin; the parser reads its
 * stream-json output (see `claude-output.ts`).
 */
export const claudeAdapter: AgentAdapter = {
  name: "claude",
  steering: "stdin",
  invocation,
  steerText: userMessageLine,
  createParser: createClaudeParser,
  classifyFailure: classifyClaudeFailure,
};
