/**
 * Aider (Aider-AI/aider, `aider-chat` on PyPI), run on one message: `aider --message-file
 * <prompt file>` in the job's worktree (aider's git root), which sends the prompt, applies the
 * edits of the reply (and of its own follow-ups: lint fixes, files it asks to add) and exits.
 * Aider prints plain text only; `aider-parser.ts` reads its token, cost, edit and error lines.
 * The model is `--model` (aider's names: `sonnet`, `anthropic/claude-…`, `gpt-4o`, any litellm
 * model); without one, aider's default for the keys it finds. Keys come from the environment
 * (`pass_env: [ANTHROPIC_API_KEY]`) or aider's `.aider.conf.yml` / `.env`.
 *
 * Flags, all from aider's options reference:
 * - `--yes-always`: every confirmation is answered yes (create or edit files not yet in the
 *   chat, add files the reply mentions, fix lint errors). Shell commands the model suggests
 *   need an explicit yes, so aider never runs them here; `--no-suggest-shell-commands` stops
 *   the model suggesting them at all.
 * - `--no-auto-commits`, `--no-dirty-commits`: Baton commits the job's work, not aider.
 * - `--no-pretty`, `--no-fancy-input`: plain output lines for the parser, no terminal UI.
 * - `--no-stream`: each reply is printed whole, and its token counts come from the API's own
 *   usage rather than aider's estimate of a stream.
 * - `--no-check-update`, `--no-show-release-notes`, `--no-analytics`,
 *   `--no-show-model-warnings`, `--no-detect-urls`: nothing that would ask a question (which
 *   `--yes-always` would answer by installing an update, opening a browser or scraping a URL
 *   from the task text).
 * - `--chat-history-file`, `--input-history-file`: next to the prompt file, in the session's
 *   own folder, so the conversation is kept with the session and not written to the worktree.
 *   Aider still writes its repo-map cache (`.aider.tags.cache.v*`) to the worktree, and on
 *   its first run in a repository adds `.aider*` to the project's `.gitignore`.
 * - `BROWSER=true` in the environment: when aider offers a URL after an error, `--yes-always`
 *   accepts and Python opens it with `true`, which does nothing, instead of a text browser
 *   that would wait on the terminal.
 *
 * Sandbox: aider has no sandbox and no permission rules. It only edits files and never runs
 * commands here, and it edits the paths the model names, relative to the worktree; an absolute
 * path outside it is not refused. So `sandbox` changes nothing in the argv.
 *
 * Steering: none; `--message-file` sends one message and exits, and aider reads nothing from
 * stdin. Interactive stages are not supported: aider's terminal UI takes no first message.
 */
import { AppError, ErrorCodes } from "../core/errors.js";
import type {
  AgentAdapter,
  FailureInput,
  FailureVerdict,
  Invocation,
  InvocationInput,
} from "./adapter.js";
import { createAiderParser } from "./aider-parser.js";
import { classifyFromOutput, parseResetAt } from "./classify.js";

const PROGRAM = "aider";
const FLAGS = [
  "--yes-always",
  "--no-auto-commits",
  "--no-dirty-commits",
  "--no-pretty",
  "--no-fancy-input",
  "--no-stream",
  "--no-check-update",
  "--no-show-release-notes",
  "--no-analytics",
  "--no-show-model-warnings",
  "--no-detect-urls",
  "--no-suggest-shell-commands",
] as const;

/** `/s/1/prompt.md` → `/s/1/prompt` + suffix: aider's history files beside the prompt file. */
function besidePrompt(promptFile: string, suffix: string): string {
  return `${promptFile.replace(/\.[^./]*$/, "")}${suffix}`;
}

/** Why an aider run failed: the last error it printed, else its exit and output. Pure. */
export function classifyAiderFailure(input: FailureInput): FailureVerdict {
  for (let i = input.events.length - 1; i >= 0; i -= 1) {
    const event = input.events[i];
    if (event?.kind === "error") {
      const resetAt =
        event.errorClass === "rate_limit"
          ? (event.resetAt ?? parseResetAt(input.outputTail, input.now))
          : null;
      return { errorClass: event.errorClass, message: event.message, resetAt };
    }
  }
  return classifyFromOutput(input);
}

/** `aider --message-file <prompt>` with the flags above. */
export const aiderAdapter: AgentAdapter = {
  name: "aider",
  steering: "none",
  invocation(input: InvocationInput): Invocation {
    if (input.interactive) {
      throw new AppError(
        ErrorCodes.CONFIG_INVALID,
        `stage ${input.stageId} is interactive, but agent ${input.agent.name} runs aider, ` +
          "which Baton drives only on one message; set `interactive: false` on the stage, " +
          "or give it an agent whose terminal UI takes a first message (claude, codex, opencode, gemini)",
      );
    }
    const model = input.model ?? input.agent.model;
    return {
      argv: [
        PROGRAM,
        "--message-file",
        input.promptFile,
        ...FLAGS,
        "--chat-history-file",
        besidePrompt(input.promptFile, ".aider.chat.history.md"),
        "--input-history-file",
        besidePrompt(input.promptFile, ".aider.input.history"),
        ...(model === null ? [] : ["--model", model]),
      ],
      stdin: "null",
      env: { BROWSER: "true" },
      initialInput: null,
    };
  },
  steerText: (message) => (message.endsWith("\n") ? message : `${message}\n`),
  createParser: () => createAiderParser(),
  classifyFailure: classifyAiderFailure,
};
