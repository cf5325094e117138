/**
 * Rules about single stages: which keys go together, gates, built-ins, fan-outs and fixes.
 */
import { BUILTIN_STAGE_NAMES } from "./builtins.js";
import { listNames, stageEntries, type RuleContext } from "./rule-context.js";
import { didYouMean } from "./suggest.js";

const KINDS =
  "a stage is exactly one of: an agent stage (prompt, optionally agent), a run stage (run), a built-in stage (uses), or a fan-out (agents and prompt)";

/** A stage is exactly one kind, has what its kind needs, and no keys of other kinds. */
export function stageIsOneKind(context: RuleContext): void {
  for (const { raw, path } of stageEntries(context)) {
    const present = (["prompt", "agent", "run", "uses", "agents"] as const).filter(
      (key) => raw[key] !== undefined,
    );
    const kinds = [
      raw.agents === undefined && (raw.prompt !== undefined || raw.agent !== undefined),
      raw.run !== undefined,
      raw.uses !== undefined,
      raw.agents !== undefined,
    ].filter(Boolean).length;
    const error = (message: string, key?: string): void => {
      context.error({ path: key === undefined ? path : [...path, key], message });
    };
    if (kinds === 0) {
      error(`stage '${raw.id}' has none of prompt, run, uses or agents; ${KINDS}`);
      continue;
    }
    if (kinds > 1) {
      error(`stage '${raw.id}' has keys of several kinds (${listNames(present)}); ${KINDS}`);
      continue;
    }
    if (raw.agents !== undefined && raw.agent !== undefined) {
      error(
        `a fan-out lists its agents in 'agents'; remove 'agent' or turn 'agents' into one agent`,
        "agent",
      );
    }
    if (raw.prompt === undefined && (raw.agent !== undefined || raw.agents !== undefined)) {
      const kind = raw.agents === undefined ? "agent stage" : "fan-out";
      error(`${kind} '${raw.id}' has no prompt; add 'prompt: prompts/${raw.id}.md'`);
    }
    if (raw.aggregate !== undefined && raw.agents === undefined) {
      error("'aggregate' only applies to fan-outs (stages with 'agents'); remove it", "aggregate");
    }
    if (raw.with !== undefined && raw.uses === undefined) {
      error("'with' only applies to built-in stages (stages with 'uses'); remove it", "with");
    }
  }
}

/** A gate is a command (`run`) or a judge (`judge` with a prompt), and `autofix` is for commands. */
export function gateIsOneKind(context: RuleContext): void {
  for (const { raw, path } of stageEntries(context)) {
    (raw.gates ?? []).forEach((gate, index) => {
      const gatePath = [...path, "gates", index];
      if (gate.run !== undefined && gate.judge !== undefined) {
        context.error({
          path: gatePath,
          message: `gate '${gate.name}' has both run and judge; a gate is a command (run) or a judge (judge): split it into two gates`,
        });
      } else if (gate.run === undefined && gate.judge === undefined) {
        context.error({
          path: gatePath,
          message: `gate '${gate.name}' has neither run nor judge; add 'run: <command>' or 'judge: { prompt: <file> }'`,
        });
      } else if (gate.judge !== undefined) {
        if (gate.autofix !== undefined) {
          context.error({
            path: [...gatePath, "autofix"],
            message: "'autofix' only applies to command gates (with 'run'); remove it",
          });
        }
        if (gate.judge.prompt === undefined) {
          context.error({
            path: [...gatePath, "judge"],
            message: `the judge of gate '${gate.name}' has no prompt; add 'prompt: <file>' asking for JSON {pass, score, reasons}`,
          });
        }
      }
    });
  }
}

/** Gate names are unique within a stage, so results and fix prompts can tell them apart. */
export function noDuplicateGateNames(context: RuleContext): void {
  for (const { stage, path } of stageEntries(context)) {
    const seen = new Set<string>();
    stage.gates.forEach((gate, index) => {
      if (seen.has(gate.name)) {
        context.error({
          path: [...path, "gates", index, "name"],
          message: `duplicate gate name '${gate.name}' in stage '${stage.id}'; gate names must be unique within a stage`,
        });
      }
      seen.add(gate.name);
    });
  }
}

/** `uses` names a built-in stage. */
export function knownBuiltinStages(context: RuleContext): void {
  for (const { raw, path } of stageEntries(context)) {
    if (raw.uses !== undefined && !(BUILTIN_STAGE_NAMES as readonly string[]).includes(raw.uses)) {
      context.error({
        path: [...path, "uses"],
        message: `unknown built-in stage '${raw.uses}'; built-in stages are: ${listNames(BUILTIN_STAGE_NAMES)}${didYouMean(raw.uses, BUILTIN_STAGE_NAMES)}`,
      });
    }
  }
}

/** A fan-out has at least two agents; one agent is an agent stage. */
export function fanoutHasTwoAgents(context: RuleContext): void {
  for (const { raw, path } of stageEntries(context)) {
    if (raw.agents !== undefined && raw.agents.length < 2) {
      const single = raw.agents[0];
      context.error({
        path: [...path, "agents"],
        message: `a fan-out needs at least 2 agents, got ${raw.agents.length}; ${single === undefined ? "list two or more" : `for one agent write 'agent: ${single}' instead`}`,
      });
    }
  }
}

/**
 * A run or built-in stage has no agent or prompt of its own, so a `fix` that asks for rounds
 * must name both.
 */
export function fixableStages(context: RuleContext): void {
  for (const { raw, stage, path } of stageEntries(context)) {
    if (raw.fix === undefined || raw.fix.max_rounds === 0) {
      continue;
    }
    if (
      (stage.kind === "run" || stage.kind === "uses") &&
      (raw.fix.agent === undefined || raw.fix.prompt === undefined)
    ) {
      context.error({
        path: [...path, "fix"],
        message: `stage '${stage.id}' has no agent or prompt of its own, so its fix rounds need 'agent' and 'prompt' under 'fix'; add them, or set 'max_rounds: 0'`,
      });
    }
  }
}
