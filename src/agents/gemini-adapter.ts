/**
 * Gemini CLI (google-gemini/gemini-cli, `@google/gemini-cli` on npm), run headless:
 * `gemini --output-format stream-json` in the job's worktree with the prompt on stdin (Gemini
 * CLI runs headless when stdin is not a terminal, and takes what it reads there as the
 * prompt), JSONL events on stdout (see `gemini-parser.ts`). The model is `--model`; without
 * one, Gemini CLI's default (or `GEMINI_MODEL`). Interactive stages run its terminal UI with
 * `--prompt-interactive=<prompt>`, which runs the prompt and then keeps taking input.
 *
 * - Keys and login come from Gemini CLI's own settings (`~/.gemini`), or `GEMINI_API_KEY` /
 *   Vertex variables passed with `pass_env`, so nothing secret is in argv.
 * - Approval: `--approval-mode yolo`. In headless mode Gemini CLI drops every tool that would
 *   need a confirmation, so without it the agent could neither edit files nor run commands.
 *   `GEMINI_CLI_TRUST_WORKSPACE=true` trusts the worktree for the run: newer versions refuse
 *   a headless run in a folder not listed in `~/.gemini/trustedFolders.json` (exit 55), or fall
 *   back to the default approval mode there. Trusting it also loads the worktree's own
 *   `.gemini/settings.json`, if the project has one.
 * - Sandbox: Gemini CLI's file tools (read, write, edit, glob, grep, ls) refuse paths outside
 *   its workspace, which is the worktree (no `--include-directories`), whichever `sandbox`
 *   says; its shell tool is not confined. Gemini CLI's own sandbox (a Docker or Podman
 *   container, or macOS Seatbelt) is the agent's choice: `env: { GEMINI_SANDBOX: docker }`.
 *   So `sandbox` changes nothing in the argv.
 * - Steering: none. Headless Gemini CLI reads all of stdin before it starts and exits after its
 *   last turn. An interactive session takes messages typed into its terminal (tmux).
 * - Cost: Gemini CLI prints token counts only; `costUsd` stays `null` and Baton prices the
 *   tokens.
 */
import type {
  AgentAdapter,
  FailureInput,
  FailureVerdict,
  Invocation,
  InvocationInput,
} from "./adapter.js";
import { classifyFromOutput } from "./classify.js";
import { classifyGeminiError, GEMINI_EXIT_CODES } from "./gemini-classify.js";
import { createGeminiParser } from "./gemini-parser.js";
import { plainText } from "./json-line.js";
import { promptArgument } from "./prompt-argument.js";

const PROGRAM = "gemini";
const ENV = { GEMINI_CLI_TRUST_WORKSPACE: "true" } as const;
/** Gemini CLI's stderr notice while it waits to retry a failed request. */
const RETRY_NOTICE = /^Attempt \d+ failed/;

function commonArgs(model: string | null): string[] {
  return ["--approval-mode", "yolo", ...(model === null ? [] : [`--model=${model}`])];
}

/**
 * Why a Gemini CLI session failed: the error it reported (a failed `result`, or an `error`
 * event), else the exit code of one of its fatal errors, else the request it was retrying when
 * it was stopped, else its exit and plain output. Pure.
 */
export function classifyGeminiFailure(input: FailureInput): FailureVerdict {
  for (let i = input.events.length - 1; i >= 0; i -= 1) {
    const event = input.events[i];
    if (event?.kind === "error") {
      return { errorClass: event.errorClass, message: event.message, resetAt: event.resetAt };
    }
  }
  const plain = plainText(input.outputTail);
  const lines = plain.split("\n").filter((line) => line.trim() !== "");
  const last = lines.at(-1)?.slice(0, 300) ?? "";
  const exitClass = input.exitCode === null ? undefined : GEMINI_EXIT_CODES[input.exitCode];
  if (exitClass !== undefined) {
    return {
      errorClass: exitClass,
      message: `gemini exited with code ${input.exitCode ?? "?"}${last === "" ? "" : `: ${last}`}`,
      resetAt: null,
    };
  }
  const retry = lines.findLast((line) => RETRY_NOTICE.test(line));
  if (retry !== undefined) {
    const verdict = classifyGeminiError(null, retry, input.now);
    if (verdict.errorClass !== "permanent") {
      const how =
        input.signal !== null
          ? `was killed by ${input.signal}`
          : `exited with code ${input.exitCode ?? "?"}`;
      return { ...verdict, message: `gemini ${how} while retrying; ${verdict.message}` };
    }
  }
  return classifyFromOutput({ ...input, outputTail: plain });
}

/** `gemini --output-format stream-json`, or its terminal UI for interactive stages. */
export const geminiAdapter: AgentAdapter = {
  name: "gemini",
  steering: "none",
  invocation(input: InvocationInput): Invocation {
    const model = input.model ?? input.agent.model;
    if (input.interactive) {
      return {
        argv: [PROGRAM, ...commonArgs(model), `--prompt-interactive=${promptArgument(input)}`],
        stdin: "null",
        env: { ...ENV },
        initialInput: null,
      };
    }
    return {
      argv: [PROGRAM, "--output-format", "stream-json", ...commonArgs(model)],
      stdin: "prompt",
      env: { ...ENV },
      initialInput: null,
    };
  },
  steerText: (message) => (message.endsWith("\n") ? message : `${message}\n`),
  createParser: () => createGeminiParser(),
  classifyFailure: classifyGeminiFailure,
};
