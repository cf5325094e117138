/**
 * OpenCode (sst/opencode, `opencode-ai` on npm), run headless: `opencode run --format json` in
 * the job's worktree, the prompt on stdin (OpenCode reads piped stdin as the message when no
 * message argument is given), JSONL events on stdout (see `opencode-events.ts`). The model is
 * `--model provider/model`; without one, OpenCode's configured default. Interactive stages run
 * its terminal UI instead: `opencode --prompt=<prompt>` (see `interactiveInvocation`).
 *
 * - Providers, keys and models come from OpenCode's own config and auth store (`opencode auth
 *   login`, `~/.config/opencode/opencode.json`, or the agent's `env`/`pass_env` for a
 *   provider's key variable), so nothing secret is in argv.
 * - Permissions: OpenCode has no OS sandbox; its permission rules decide what a tool call may
 *   do, and current versions of `opencode run` reject any call whose rule is `ask` (no one can
 *   answer; `run --auto` would approve them, and is not used). Baton sets
 *   `OPENCODE_PERMISSION` (merged over the user's config, last, by OpenCode) so that
 *   `external_directory` (any tool touching a path outside the working directory: read, edit,
 *   list, glob, grep and bash commands naming such a path) is `deny` for a sandboxed agent,
 *   keeping it in its worktree, and `allow` with sandboxing off. Edits and commands inside the
 *   worktree are allowed by OpenCode's defaults; a user config that sets them to `ask` makes
 *   them rejected here.
 * - Steering: none. `opencode run` reads the whole of stdin before it starts and exits when the
 *   session goes idle. An interactive session takes messages typed into its terminal (tmux).
 * - Cost: OpenCode prices every step from its models.dev catalogue and reports it; a model it
 *   has no price for reports 0, which Baton treats as unknown (see the parser).
 */
import { AppError, ErrorCodes } from "../core/errors.js";
import type {
  AgentAdapter,
  FailureInput,
  FailureVerdict,
  Invocation,
  InvocationInput,
} from "./adapter.js";
import { classifyFromOutput } from "./classify.js";
import { plainText } from "./json-line.js";
import { createOpenCodeParser } from "./opencode-parser.js";
import { promptArgument } from "./prompt-argument.js";

const PROGRAM = "opencode";

/** The permission rules Baton merges over the user's OpenCode config, as JSON. */
function openCodePermission(forbiddenDirs: readonly string[]): string {
  return JSON.stringify({ external_directory: forbiddenDirs.length > 0 ? "deny" : "allow" });
}

function modelArgs(model: string | null): string[] {
  if (model === null) {
    return [];
  }
  if (!model.includes("/")) {
    throw new AppError(
      ErrorCodes.CONFIG_INVALID,
      `opencode model '${model}' names no provider; give it as provider/model, e.g. anthropic/${model}`,
    );
  }
  return [`--model=${model}`];
}

/**
 * OpenCode's terminal UI for an interactive (tmux) session, in the worktree, with the prompt
 * (or a pointer to the prompt file, when too long for one argument) as its `--prompt`. OpenCode
 * reports no turn ends to Baton here: the stage's `idle_after` quiet period ends a turn.
 */
function interactiveInvocation(input: InvocationInput, model: string | null): Invocation {
  return {
    argv: [PROGRAM, ...modelArgs(model), `--prompt=${promptArgument(input)}`],
    stdin: "null",
    env: { OPENCODE_PERMISSION: openCodePermission(input.forbiddenDirs) },
    initialInput: null,
  };
}

/** Why an OpenCode session failed: its last error event, else its exit and plain output. Pure. */
export function classifyOpenCodeFailure(input: FailureInput): FailureVerdict {
  for (let i = input.events.length - 1; i >= 0; i -= 1) {
    const event = input.events[i];
    if (event?.kind === "error") {
      return { errorClass: event.errorClass, message: event.message, resetAt: event.resetAt };
    }
  }
  return classifyFromOutput({ ...input, outputTail: plainText(input.outputTail) });
}

/** `opencode run --format json`, or its terminal UI for interactive stages. */
export const openCodeAdapter: AgentAdapter = {
  name: "opencode",
  steering: "none",
  invocation(input: InvocationInput): Invocation {
    const model = input.model ?? input.agent.model;
    if (input.interactive) {
      return interactiveInvocation(input, model);
    }
    return {
      argv: [PROGRAM, "run", "--format", "json", ...modelArgs(model)],
      stdin: "prompt",
      env: { OPENCODE_PERMISSION: openCodePermission(input.forbiddenDirs) },
      initialInput: null,
    };
  },
  steerText: (message) => (message.endsWith("\n") ? message : `${message}\n`),
  createParser: () => createOpenCodeParser(),
  classifyFailure: classifyOpenCodeFailure,
};
