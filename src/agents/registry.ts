import { AppError, ErrorCodes } from "../core/errors.js";
import type { AgentAdapter } from "./adapter.js";
import { aiderAdapter } from "./aider-adapter.js";
import { claudeAdapter } from "./claude-adapter.js";
import { codexAdapter } from "./codex-adapter.js";
import { commandAdapter } from "./command-adapter.js";
import { geminiAdapter } from "./gemini-adapter.js";
import { openCodeAdapter } from "./opencode-adapter.js";

const ADAPTERS: ReadonlyMap<string, AgentAdapter> = new Map([
  [commandAdapter.name, commandAdapter],
  [claudeAdapter.name, claudeAdapter],
  [codexAdapter.name, codexAdapter],
  [openCodeAdapter.name, openCodeAdapter],
  [aiderAdapter.name, aiderAdapter],
  [geminiAdapter.name, geminiAdapter],
]);

/** The adapter named `name`. Throws `AppError` listing the available ones when unknown. */
export function getAdapter(name: string): AgentAdapter {
  const adapter = ADAPTERS.get(name);
  if (adapter === undefined) {
    throw new AppError(
      ErrorCodes.CONFIG_INVALID,
      `no adapter '${name}' in this build of Baton; available: ${[...ADAPTERS.keys()].join(", ")}. ` +
        "Give the agent a `command` in baton.yaml to run it as a command agent.",
    );
  }
  return adapter;
}
