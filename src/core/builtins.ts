/**
 * Names Baton knows without configuration: built-in agents and their adapters, built-in stages,
 * and the placeholders of a command agent's argv. Config validation and the adapters share them.
 */

/** Agent CLIs Baton drives out of the box; each is also the name of its adapter. */
export const BUILTIN_AGENT_NAMES = ["claude", "codex", "opencode", "aider", "gemini"] as const;

/** Adapters an agent may name: `command` runs any argv, the others drive one agent CLI. */
export const ADAPTER_NAMES = ["command", ...BUILTIN_AGENT_NAMES] as const;

/** Stages implemented by Baton itself, named by `uses:`. */
export const BUILTIN_STAGE_NAMES = ["open-pr"] as const;

/** Placeholders a command agent's argv may hold, replaced when the job starts. */
export const COMMAND_PLACEHOLDERS = ["prompt_file", "worktree", "task", "stage", "model"] as const;
