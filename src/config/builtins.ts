/**
 * The names `baton.yaml` may use without defining them: built-in agents and their adapters,
 * built-in stages, and the placeholders of a command agent's argv.
 */
import { BUILTIN_AGENT_NAMES } from "../core/builtins.js";
import type { AgentDef } from "../core/pipeline-def.js";

export {
  ADAPTER_NAMES,
  BUILTIN_AGENT_NAMES,
  BUILTIN_STAGE_NAMES,
  COMMAND_PLACEHOLDERS,
} from "../core/builtins.js";

/** Stage ids, agent and pipeline names: short, lowercase, safe in branch names and labels. */
export const NAME_PATTERN = /^[a-z][a-z0-9_-]*$/;

/** The built-in agents with nothing configured: their own adapter, default model, no extra env. */
export function builtinAgents(): Record<string, AgentDef> {
  return Object.fromEntries(
    BUILTIN_AGENT_NAMES.map((name) => [
      name,
      {
        name,
        adapter: name,
        command: null,
        model: null,
        env: {},
        passEnv: [],
        runtime: null,
        fallback: null,
        sandbox: true,
        prices: null,
      },
    ]),
  );
}

/** Pipelines every project has unless its `baton.yaml` defines one of the same name. */
export const BUILTIN_PIPELINE_NAMES = ["feature", "delivery", "idea"] as const;
