/**
 * OpenAI's Codex CLI, run headless: `codex exec --json` in the job's worktree, the prompt on
 * stdin, JSONL events on stdout (see `codex-events.ts`). Checked against codex-cli 0.169.0.
 * Interactive stages run its terminal UI instead (`codex` without `exec`, see
 * `interactiveInvocation`).
 *
 * - Provider, API key and retries come from Codex's own config (`$CODEX_HOME/config.toml`, give
 *   the agent `env: { CODEX_HOME: … }` in baton.yaml, and `pass_env` the key it names), so
 *   nothing secret is in argv. For a custom provider, `model_providers.<id>.stream_max_retries`
 *   bounds how often Codex itself retries a 429 that carries `retry-after` (it waits that long
 *   each time; default 5) and `request_max_retries` bounds retries of 5xx answers (default 4).
 *   A 429 without `retry-after` fails the turn at once. The built-in `openai` provider cannot be
 *   overridden, so its retries keep Codex's defaults.
 * - The sandbox is Codex's `workspace-write` (Landlock + seccomp; it works in unprivileged
 *   containers): the worktree, `/tmp` and `$TMPDIR` are writable, every other path is read-only,
 *   `.git` stays read-only even inside the worktree (so the agent cannot commit: Baton does),
 *   and the network is off unless `sandbox_workspace_write.network_access = true` is set in the
 *   config. With no forbidden dirs (sandboxing off), `danger-full-access`.
 * - Steering: none. `codex exec` reads the whole prompt from stdin before it starts and takes
 *   no input after that (`codex queue` only reaches the thread on its next `exec resume`). An
 *   interactive session takes messages typed into its terminal (the tmux runtime).
 * - Cost: Codex prints token counts only; `costUsd` stays `null` and Baton prices the tokens.
 */
import { isAbsolute, relative } from "node:path";
import type {
  AgentAdapter,
  AgentEvent,
  FailureInput,
  FailureVerdict,
  Invocation,
  InvocationInput,
} from "./adapter.js";
import { classifyFromOutput } from "./classify.js";
import { classifyCodexMessage } from "./codex-classify.js";
import { codexEventSchema } from "./codex-events.js";
import { createCodexParser } from "./codex-parser.js";

const SLASH_TMP = "/tmp";
/** Prompts longer than this go to an interactive session as a pointer to the prompt file. */
const MAX_PROMPT_ARG_BYTES = 64 * 1024;

/**
 * How the notification of a turn of the terminal UI's title thread starts: after a user prompt
 * the UI names the task in a separate, hidden thread, whose turn ends with a notification of its
 * own (`"input-messages":["Generate a concise, single-line task title of at most 36 characters…`)
 * while the real turn may still be running. Codex prints its notification as compact JSON.
 */
const TITLE_THREAD_NOTIFICATION = '"input-messages":["Generate a concise, single-line task title';

/**
 * The `notify` program of an interactive session: Codex runs it with one more argument, a JSON
 * object, when a turn ends (`{"type":"agent-turn-complete",…}`). It reports `idle` for the
 * session named by `BATON_SESSION` (Baton puts it and the `baton` shim in every session's
 * environment), except for the title thread's turns (see above), and ignores notifications of
 * any other type. The JSON is `$1` of the script, so it never reaches `baton`'s arguments; the
 * patterns are quoted, so nothing in them is special to the shell; and they can only match the
 * JSON's own structure, as a quote inside a JSON string is escaped.
 */
export const INTERACTIVE_NOTIFY: readonly string[] = [
  "sh",
  "-c",
  `case $1 in *'${TITLE_THREAD_NOTIFICATION}'*) ;; ` +
    `*'"type":"agent-turn-complete"'*) exec baton session event --type idle >/dev/null;; esac`,
  "baton-notify",
];

function isInside(dir: string, parent: string): boolean {
  const rel = relative(parent, dir);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

function sandboxArgs(forbiddenDirs: readonly string[]): string[] {
  if (forbiddenDirs.length === 0) {
    return ["--sandbox", "danger-full-access"];
  }
  const args = ["--sandbox", "workspace-write"];
  // workspace-write leaves /tmp and $TMPDIR writable; a forbidden dir in there would be open
  // to the agent, so close them (the agent's temp files then go in the worktree).
  if (forbiddenDirs.some((dir) => isInside(dir, SLASH_TMP))) {
    args.push(
      "-c",
      "sandbox_workspace_write.exclude_slash_tmp=true",
      "-c",
      "sandbox_workspace_write.exclude_tmpdir_env_var=true",
    );
  }
  return args;
}

/**
 * The last message Codex printed as a top-level `error` line in `outputTail`, retry notices
 * included: what it was struggling with when it was stopped from outside.
 */
function lastCodexError(outputTail: string): string | null {
  const lines = outputTail.split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]?.trim() ?? "";
    if (!line.startsWith('{"type":"error"')) {
      continue;
    }
    try {
      const parsed = codexEventSchema.safeParse(JSON.parse(line));
      if (parsed.success && parsed.data.type === "error") {
        return parsed.data.message;
      }
    } catch {
      // A cut-off line at the start of the tail: keep looking.
    }
  }
  return null;
}

/** Why a Codex session failed: its own error events first, then its output. Pure. */
export function classifyCodexFailure(input: FailureInput): FailureVerdict {
  let failed: Extract<AgentEvent, { kind: "error" }> | null = null;
  let detail: string | null = null;
  for (const event of input.events) {
    if (event.kind === "error") {
      failed = event;
    } else if (event.kind === "result" && !event.ok) {
      detail = event.detail;
    }
  }
  if (failed !== null) {
    return { errorClass: failed.errorClass, message: failed.message, resetAt: failed.resetAt };
  }
  if (detail !== null) {
    return classifyCodexMessage(detail, input.now);
  }
  const notice = lastCodexError(input.outputTail);
  if (notice !== null) {
    const verdict = classifyCodexMessage(notice, input.now);
    if (verdict.errorClass !== "permanent") {
      const how =
        input.signal !== null
          ? `was killed by ${input.signal}`
          : `exited with code ${input.exitCode ?? "?"}`;
      return { ...verdict, message: `codex ${how} while retrying; ${verdict.message}` };
    }
  }
  return classifyFromOutput(input);
}

/**
 * Codex's terminal UI for an interactive (tmux) session: `codex` in the worktree with the prompt
 * as its last argument, after `--` (a pointer to the prompt file when the prompt is too long for
 * one argument), the same sandbox and approval policy as `exec`, and `INTERACTIVE_NOTIFY` as
 * its `notify` program (replacing any of the agent's own config), so that Baton learns when a
 * turn ends. Codex reports no turn start: Baton sees a new turn only through its own steering or
 * the session's output. A turn that fails (an API error) sends no notification either; the
 * stage's `idle_after` quiet period then ends it.
 *
 * - `--no-daemon`: the turns run inside this process, so in the session's environment and
 *   process group, never in a shared Codex background server the user may have started (in
 *   0.169.0 the `-c` overrides already force this, with a warning; the flag says it outright).
 * - `--no-alt-screen`: the conversation stays in the terminal's scrollback, so a person who
 *   attaches can scroll back through it.
 *
 * The UI shows first-run screens that nobody in a Baton session answers, so run `codex` once
 * yourself under the agent's `CODEX_HOME` (and HOME): sign in, or configure a provider with an
 * `env_key`; answer the new-model announcement for the configured model, which records
 * `[notice.model_migrations]`; and trust the project's own checkout (`[projects."<checkout>"]
 * trust_level = "trusted"`): Codex asks about the repository root, which for Baton's worktrees
 * is the project's checkout.
 */
function interactiveInvocation(input: InvocationInput, model: string | null): Invocation {
  const fits = Buffer.byteLength(input.prompt, "utf8") <= MAX_PROMPT_ARG_BYTES;
  const prompt = fits
    ? input.prompt
    : `Your task is in the file ${input.promptFile}. Read it first, then carry it out.`;
  const argv = [
    "codex",
    `--cd=${input.worktree}`,
    "--no-daemon",
    "--no-alt-screen",
    ...sandboxArgs(input.forbiddenDirs),
    "-c",
    'approval_policy="never"',
    // A TOML array of strings; JSON's string escapes are valid TOML.
    "-c",
    `notify=${JSON.stringify(INTERACTIVE_NOTIFY)}`,
    ...(model === null ? [] : [`--model=${model}`]),
    "--",
    prompt,
  ];
  return { argv, stdin: "null", env: {}, initialInput: null };
}

/** `codex exec --json`, or its terminal UI for interactive stages; see the module comment. */
export const codexAdapter: AgentAdapter = {
  name: "codex",
  steering: "none",
  invocation(input: InvocationInput): Invocation {
    const model = input.model ?? input.agent.model;
    if (input.interactive) {
      return interactiveInvocation(input, model);
    }
    const argv = [
      "codex",
      "exec",
      "--json",
      `--cd=${input.worktree}`,
      // Baton decides where agents run; a worktree is a git checkout anyway.
      "--skip-git-repo-check",
      ...sandboxArgs(input.forbiddenDirs),
      // Nobody is there to approve anything; a config that asks would stall the session.
      "-c",
      'approval_policy="never"',
      ...(model === null ? [] : [`--model=${model}`]),
      // The prompt comes on stdin: task text never reaches argv or its length limits.
      "-",
    ];
    return { argv, stdin: "prompt", env: {}, initialInput: null };
  },
  steerText: (message) => (message.endsWith("\n") ? message : `${message}\n`),
  createParser: () => createCodexParser(),
  classifyFailure: classifyCodexFailure,
};
