import type { InvocationInput } from "./adapter.js";

/** Prompts longer than this go to an interactive session as a pointer to the prompt file. */
const MAX_PROMPT_ARG_BYTES = 64 * 1024;

/**
 * The prompt as one argument of an interactive session's argv: the prompt itself, or, when it
 * is too long for one argument, an instruction to read the prompt file.
 */
export function promptArgument(input: Pick<InvocationInput, "prompt" | "promptFile">): string {
  return Buffer.byteLength(input.prompt, "utf8") <= MAX_PROMPT_ARG_BYTES
    ? input.prompt
    : `Your task is in the file ${input.promptFile}. Read it first, then carry it out.`;
}
