/**
 * Routing: which agent and model run a task's agent stages. Pure.
 *
 * An `agent:<name>` label wins; a `complexity:<simple|medium|complex>` label sets the tier.
 * What the labels leave open, the router decides: `labels` leaves it to the stages' own agents,
 * `round_robin` takes the next agent in turn, `llm` asks an agent (run by the engine; its answer
 * is read here). The tier picks the model: `model_map[tier][agent]`, else the agent's own.
 *
 * Only stages whose agent came from `defaults.agent` take the routed agent; a stage that names
 * its agent keeps it, though the tier still picks that agent's model.
 */
import {
  COMPLEXITY_TIERS,
  type AgentDef,
  type ComplexityTier,
  type PipelineSnapshot,
  type RouteResult,
  type StageDef,
} from "./pipeline-def.js";

/** What a task's labels say about routing. */
export interface LabelRoute {
  agent: string | null;
  complexity: ComplexityTier | null;
}

/** Reads `agent:<name>` and `complexity:<tier>` labels; the last of each kind wins. */
export function labelRoute(labels: readonly string[]): LabelRoute {
  let agent: string | null = null;
  let complexity: ComplexityTier | null = null;
  for (const label of labels) {
    const [key, ...rest] = label.split(":");
    const value = rest.join(":").trim();
    if (key === "agent" && value !== "") {
      agent = value;
    } else if (key === "complexity" && isTier(value)) {
      complexity = value;
    }
  }
  return { agent, complexity };
}

function isTier(value: string): value is ComplexityTier {
  return (COMPLEXITY_TIERS as readonly string[]).includes(value);
}

/**
 * The route decided when a pipeline is created, or `null` when nothing routes it (no labels,
 * `labels` mode) or when the llm router must be asked first (see `needsLlmRoute`).
 * `turn` counts the project's round-robin routes so far.
 */
export function routeAtCreation(
  snapshot: PipelineSnapshot,
  labels: readonly string[],
  turn: number,
): RouteResult | null {
  const router = snapshot.router;
  const fromLabels = labelRoute(labels);
  const known = knownAgent(snapshot, fromLabels.agent);
  const warning =
    fromLabels.agent !== null && known === null
      ? `label agent:${fromLabels.agent} names no agent this pipeline can run; ignored`
      : null;
  const labelled = { agent: known, complexity: fromLabels.complexity };
  switch (router.mode) {
    case "labels":
      if (labelled.agent === null && labelled.complexity === null && warning === null) {
        return null;
      }
      return finish(snapshot, {
        agent: labelled.agent ?? snapshot.defaults.agent,
        complexity: labelled.complexity,
        reason: labelled.agent !== null ? `label agent:${labelled.agent}` : "labels",
        warning,
      });
    case "round_robin": {
      const pool = router.agents.filter((a) => snapshot.agents[a] !== undefined);
      const next = pool.length === 0 ? snapshot.defaults.agent : pool[turn % pool.length];
      return finish(snapshot, {
        agent: labelled.agent ?? next ?? snapshot.defaults.agent,
        complexity: labelled.complexity,
        reason:
          labelled.agent !== null
            ? `label agent:${labelled.agent}`
            : `round robin (${(turn % Math.max(1, pool.length)) + 1} of ${pool.length})`,
        warning,
      });
    }
    case "llm":
      if (labelled.agent !== null && labelled.complexity !== null) {
        return finish(snapshot, {
          agent: labelled.agent,
          complexity: labelled.complexity,
          reason: `labels agent:${labelled.agent} and complexity:${labelled.complexity}`,
          warning,
        });
      }
      return null;
  }
}

/** Whether the pipeline waits for the llm router before its agent stages can run. */
export function needsLlmRoute(snapshot: PipelineSnapshot, route: RouteResult | null): boolean {
  return (
    route === null &&
    snapshot.router.mode === "llm" &&
    snapshot.pipeline.stages.some((s) => s.kind === "agent" || s.kind === "fanout")
  );
}

/** The llm router's answer, as the routing prompt asks for it. */
export interface RouterAnswer {
  agent: string;
  complexity: ComplexityTier;
  reason: string;
}

/**
 * Reads the router agent's answer: the last JSON object in `text` with an `agent` among
 * `agents` and a known `complexity`. Returns why not, for anything else.
 */
export function parseRouterAnswer(
  text: string,
  agents: readonly string[],
): RouterAnswer | { problem: string } {
  const candidates: unknown[] = [];
  for (let start = text.indexOf("{"); start >= 0; start = text.indexOf("{", start + 1)) {
    for (let close = text.indexOf("}", start); close >= 0; close = text.indexOf("}", close + 1)) {
      try {
        candidates.push(JSON.parse(text.slice(start, close + 1)));
        break;
      } catch {
        // Not a whole object yet; try the next closing brace.
      }
    }
  }
  let problem = `no JSON object {"agent", "complexity", "reason"} in the answer: ${preview(text)}`;
  for (const value of candidates.reverse()) {
    if (typeof value !== "object" || value === null) {
      continue;
    }
    const { agent, complexity, reason } = value as Record<string, unknown>;
    if (typeof agent !== "string" || !agents.includes(agent)) {
      problem = `answer names agent ${JSON.stringify(agent)}, not one of ${agents.join(", ")}`;
      continue;
    }
    if (typeof complexity !== "string" || !isTier(complexity)) {
      problem = `answer names complexity ${JSON.stringify(complexity)}, not one of ${COMPLEXITY_TIERS.join(", ")}`;
      continue;
    }
    return { agent, complexity, reason: typeof reason === "string" ? reason : "" };
  }
  return { problem };
}

function preview(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line === "" ? "(empty)" : line.length > 120 ? `${line.slice(0, 119)}…` : line;
}

/**
 * The route from the llm router's answer (or its failure), with the task's labels still
 * winning over what the router said.
 */
export function routeFromAnswer(
  snapshot: PipelineSnapshot,
  labels: readonly string[],
  answer: RouterAnswer | { problem: string },
): RouteResult {
  const fromLabels = labelRoute(labels);
  const labelled = knownAgent(snapshot, fromLabels.agent);
  if ("problem" in answer) {
    const fallback = snapshot.router.fallbackExecutor ?? snapshot.defaults.agent;
    return finish(snapshot, {
      agent: labelled ?? fallback,
      complexity: fromLabels.complexity,
      reason: `router failed; fallback executor ${fallback}`,
      warning: `routing failed after ${snapshot.router.maxRouteAttempts} attempt(s): ${answer.problem}`,
    });
  }
  return finish(snapshot, {
    agent: labelled ?? answer.agent,
    complexity: fromLabels.complexity ?? answer.complexity,
    reason: answer.reason === "" ? "llm router" : `llm router: ${answer.reason}`,
    warning: null,
  });
}

function knownAgent(snapshot: PipelineSnapshot, agent: string | null): string | null {
  return agent !== null && snapshot.agents[agent] !== undefined ? agent : null;
}

function finish(snapshot: PipelineSnapshot, route: Omit<RouteResult, "model">): RouteResult {
  return { ...route, model: modelFor(snapshot, route.complexity, route.agent) };
}

/** The model `agent` runs at `tier`: the model map's, else `null` (the agent's own). */
export function modelFor(
  snapshot: PipelineSnapshot,
  tier: ComplexityTier | null,
  agent: string,
): string | null {
  return tier === null ? null : (snapshot.modelMap[tier]?.[agent] ?? null);
}

/** The agent and model a new job of an agent stage runs, given the pipeline's route. */
export function stageAgentChoice(
  snapshot: PipelineSnapshot,
  route: RouteResult | null,
  stage: StageDef & { kind: "agent" },
): { agent: string; model: string | null } {
  if (route === null) {
    return { agent: stage.agent, model: null };
  }
  if (stage.agentFromDefault && snapshot.agents[route.agent] !== undefined) {
    return { agent: route.agent, model: route.model };
  }
  return { agent: stage.agent, model: modelFor(snapshot, route.complexity, stage.agent) };
}

/**
 * The agent that takes work from `agent` while it is paused: its `fallback` chain, first one
 * not paused at `now`; `null` when there is none.
 */
export function fallbackFor(
  agents: Readonly<Record<string, AgentDef>>,
  agent: string,
  pausedUntil: Readonly<Record<string, number>>,
  now: number,
): string | null {
  const seen = new Set([agent]);
  let next = agents[agent]?.fallback ?? null;
  while (next !== null && !seen.has(next)) {
    const until = pausedUntil[next];
    if (agents[next] !== undefined && (until === undefined || until <= now)) {
      return next;
    }
    seen.add(next);
    next = agents[next]?.fallback ?? null;
  }
  return null;
}
