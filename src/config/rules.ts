/**
 * The third step: named checks across keys, run on a parsed and normalised file. Each rule
 * pushes to errors or warnings through its context; all of them run, so every problem is
 * reported at once. The rules live by topic in graph-rules.ts, stage-rules.ts, agent-rules.ts
 * and prompt-rules.ts; this module lists them.
 */
import {
  agentsHaveAdapter,
  commandPlaceholdersKnown,
  knownAgents,
  perAgentLimitsKnown,
} from "./agent-rules.js";
import {
  defaultPipelineExists,
  needsExistingStages,
  noCycles,
  noDuplicateStageIds,
  routeTargetsAncestor,
} from "./graph-rules.js";
import {
  artifactsFromAncestors,
  promptFilesExist,
  templateVariablesKnown,
} from "./prompt-rules.js";
import type { Rule, RuleContext } from "./rule-context.js";
import {
  fanoutHasTwoAgents,
  fixableStages,
  gateIsOneKind,
  knownBuiltinStages,
  noDuplicateGateNames,
  stageIsOneKind,
} from "./stage-rules.js";

/** Every rule, in the order their findings read best. */
const RULES: readonly Rule[] = [
  noDuplicateStageIds,
  stageIsOneKind,
  needsExistingStages,
  noCycles,
  routeTargetsAncestor,
  gateIsOneKind,
  noDuplicateGateNames,
  knownBuiltinStages,
  fanoutHasTwoAgents,
  fixableStages,
  knownAgents,
  agentsHaveAdapter,
  commandPlaceholdersKnown,
  perAgentLimitsKnown,
  defaultPipelineExists,
  promptFilesExist,
  templateVariablesKnown,
  artifactsFromAncestors,
];

/** Runs every rule against `context`; findings go to its `error` and `warning`. */
export function runRules(context: RuleContext): void {
  for (const rule of RULES) {
    rule(context);
  }
}
