/**
 * Rules about agents: every name a stage uses is defined, every agent can be driven, and
 * command placeholders are ones Baton fills in.
 */
import { BUILTIN_AGENT_NAMES, COMMAND_PLACEHOLDERS } from "./builtins.js";
import { listNames, stageEntries, type RuleContext } from "./rule-context.js";
import type { Path } from "./schema-issues.js";
import { didYouMean } from "./suggest.js";

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Every agent named by defaults, stages, fan-outs, fixes and judges is built in or defined. */
export function knownAgents(context: RuleContext): void {
  const known = Object.keys(context.config.agents);
  const check = (name: string, path: Path): void => {
    if (!known.includes(name)) {
      context.error({
        path,
        message: `unknown agent '${name}'; known agents are: ${listNames(known)}; define it under 'agents' or use a known one${didYouMean(name, known)}`,
      });
    }
  };
  check(context.raw.defaults.agent, ["defaults", "agent"]);
  for (const [name, entry] of Object.entries(context.raw.agents ?? {})) {
    if (entry.fallback !== undefined) {
      check(entry.fallback, ["agents", name, "fallback"]);
      if (entry.fallback === name) {
        context.error({
          path: ["agents", name, "fallback"],
          message: `agent '${name}' cannot be its own fallback; name another agent`,
        });
      }
    }
  }
  const router = context.raw.router;
  if (router.agent !== undefined) {
    check(router.agent, ["router", "agent"]);
  }
  if (router.fallback_executor !== undefined) {
    check(router.fallback_executor, ["router", "fallback_executor"]);
  }
  router.agents?.forEach((name, index) => {
    check(name, ["router", "agents", index]);
  });
  for (const [tier, models] of Object.entries(context.raw.model_map ?? {})) {
    for (const name of Object.keys(models ?? {})) {
      if (!known.includes(name)) {
        context.warning({
          path: ["model_map", tier, name],
          atKey: true,
          message: `model_map names unknown agent '${name}'; it is ignored${didYouMean(name, known)}`,
        });
      }
    }
  }
  for (const { raw, path } of stageEntries(context)) {
    if (raw.agent !== undefined) {
      check(raw.agent, [...path, "agent"]);
    }
    raw.agents?.forEach((name, index) => {
      check(name, [...path, "agents", index]);
    });
    if (raw.fix?.agent !== undefined) {
      check(raw.fix.agent, [...path, "fix", "agent"]);
    }
    raw.gates?.forEach((gate, index) => {
      if (gate.judge?.agent !== undefined) {
        check(gate.judge.agent, [...path, "gates", index, "judge", "agent"]);
      }
    });
  }
}

/** An agent has a command (adapter `command`) or a built-in adapter, not both. */
export function agentsHaveAdapter(context: RuleContext): void {
  const builtins: readonly string[] = BUILTIN_AGENT_NAMES;
  for (const [name, entry] of Object.entries(context.raw.agents ?? {})) {
    const path = ["agents", name];
    if (entry.command !== undefined && entry.adapter !== undefined && entry.adapter !== "command") {
      context.error({
        path: [...path, "adapter"],
        message: `'command' is only used by adapter 'command'; remove 'adapter' to run the command, or remove 'command' to use the ${entry.adapter} adapter`,
      });
    } else if (entry.command === undefined && entry.adapter === "command") {
      context.error({
        path: [...path, "adapter"],
        message: `adapter 'command' needs 'command': the argv to run, such as ["node", "tools/agent.mjs", "{prompt_file}"]`,
      });
    } else if (
      entry.command === undefined &&
      entry.adapter === undefined &&
      !builtins.includes(name)
    ) {
      context.error({
        path,
        message: `agent '${name}' has no command and no adapter; add 'command: [...]' or 'adapter: <one of ${listNames(builtins)}>'`,
      });
    }
  }
}

/** Command arguments use only the placeholders Baton fills in. */
export function commandPlaceholdersKnown(context: RuleContext): void {
  const known: readonly string[] = COMMAND_PLACEHOLDERS;
  for (const [name, entry] of Object.entries(context.raw.agents ?? {})) {
    entry.command?.forEach((arg, index) => {
      for (const match of arg.matchAll(PLACEHOLDER)) {
        const placeholder = match[1] ?? "";
        if (!known.includes(placeholder)) {
          context.error({
            path: ["agents", name, "command", index],
            message: `unknown placeholder '{${placeholder}}'; placeholders are: ${known.map((p) => `{${p}}`).join(", ")}${didYouMean(placeholder, known)}`,
          });
        }
      }
    });
  }
}

/** A per-agent limit names an agent; otherwise it limits nothing (a warning). */
export function perAgentLimitsKnown(context: RuleContext): void {
  const known = Object.keys(context.config.agents);
  for (const name of Object.keys(context.raw.limits.per_agent)) {
    if (!known.includes(name)) {
      context.warning({
        path: ["limits", "per_agent", name],
        atKey: true,
        message: `limit for unknown agent '${name}' has no effect; known agents are: ${listNames(known)}${didYouMean(name, known)}`,
      });
    }
  }
}
