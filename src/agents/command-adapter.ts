import { COMMAND_PLACEHOLDERS } from "../core/builtins.js";
import { AppError, ErrorCodes } from "../core/errors.js";
import type { AgentAdapter, Invocation, InvocationInput } from "./adapter.js";
import { classifyFromOutput } from "./classify.js";

/** `{name}` for each placeholder; each is replaced inside its own argv element. */
const PLACEHOLDER = new RegExp(`\\{(${COMMAND_PLACEHOLDERS.join("|")})\\}`, "g");

/**
 * Any program, from an argv template: `["node", "tools/fixer.mjs", "{prompt_file}"]`.
 * Without `{prompt_file}` in the template, the prompt arrives on stdin.
 */
export const commandAdapter: AgentAdapter = {
  name: "command",
  steering: "terminal",
  invocation(input: InvocationInput): Invocation {
    const template = input.agent.command;
    if (template === null || template.length === 0) {
      throw new AppError(
        ErrorCodes.CONFIG_INVALID,
        `agent ${input.agent.name} has no command; give it \`command: [program, args...]\` in baton.yaml`,
      );
    }
    const values: Record<string, string> = {
      prompt_file: input.promptFile,
      worktree: input.worktree,
      task: String(input.taskNumber),
      stage: input.stageId,
      model: input.model ?? input.agent.model ?? "",
    };
    let usesPromptFile = false;
    const argv = template.map((part) =>
      part.replace(PLACEHOLDER, (_match, name: string) => {
        if (name === "prompt_file") {
          usesPromptFile = true;
        }
        return values[name] ?? "";
      }),
    );
    return { argv, stdin: usesPromptFile ? "null" : "prompt", env: {}, initialInput: null };
  },
  steerText: (message) => (message.endsWith("\n") ? message : `${message}\n`),
  createParser: () => null,
  classifyFailure: classifyFromOutput,
};
