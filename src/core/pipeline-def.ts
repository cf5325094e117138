/**
 * The normalised, trusted form of `baton.yaml`: every default filled in, every duration in
 * milliseconds, every prompt file read into its text. `src/config/` builds these from the file;
 * a pipeline keeps a copy of its definition (a `PipelineSnapshot`) so that editing `baton.yaml`
 * never changes a pipeline that is already running.
 */

export const RUNTIMES = ["auto", "process", "tmux"] as const;
export type RuntimeChoice = (typeof RUNTIMES)[number];

export const NEED_CONDITIONS = ["success", "failure", "always"] as const;
export type NeedCondition = (typeof NEED_CONDITIONS)[number];

export interface NeedDef {
  stage: string;
  when: NeedCondition;
}

export interface PromptDef {
  /** Path as written in `baton.yaml`, for messages. */
  path: string;
  /** The template text, read when the pipeline was created. */
  template: string;
}

/** A shell command from `baton.yaml` (trusted), run with `sh -c` in the worktree; passes on exit 0. */
export interface CommandGateDef {
  kind: "command";
  name: string;
  run: string;
  /** Run once when the gate fails, then the gates run again. */
  autofix: string | null;
  timeoutMs: number;
}

/** An agent that answers JSON `{pass, score, reasons}`; passes when `score >= passThreshold`. */
export interface JudgeGateDef {
  kind: "judge";
  name: string;
  agent: string;
  prompt: PromptDef;
  passThreshold: number;
  timeoutMs: number;
}

export type GateDef = CommandGateDef | JudgeGateDef;

export interface BackoffDef {
  baseMs: number;
  factor: number;
  maxMs: number;
  /** Spread each delay over [delay/2, delay] so retries of many jobs do not line up. */
  jitter: boolean;
}

export const FINAL_ACTIONS = ["fail", "escalate"] as const;
export type FinalAction = (typeof FINAL_ACTIONS)[number];

export type OnFailDef =
  | { kind: "fail" }
  | { kind: "escalate" }
  | { kind: "retry"; max: number; backoff: BackoffDef; then: FinalAction }
  | { kind: "route"; to: string; max: number; then: FinalAction };

export const AGGREGATES = ["concat", "vote", "first-success"] as const;
export type AggregateDef = { kind: (typeof AGGREGATES)[number] } | { kind: "run"; run: string };

export interface FixDef {
  maxRounds: number;
  /** Agent for fix rounds; `null` means the stage's own agent. */
  agent: string | null;
  /** Prompt for fix rounds; `null` means the stage's prompt with the failures appended. */
  prompt: PromptDef | null;
}

/** Limits a job (stage budget) or a whole pipeline may not pass; `null` means no limit. */
export interface BudgetDef {
  tokens: number | null;
  costUsd: number | null;
  wallclockMs: number | null;
}

export const NO_BUDGET: BudgetDef = { tokens: null, costUsd: null, wallclockMs: null };

interface StageCommon {
  id: string;
  needs: NeedDef[];
  gates: GateDef[];
  fix: FixDef;
  onFail: OnFailDef;
  timeoutMs: number;
  stallTimeoutMs: number;
  /** After the wrap-up steer at a timeout, how long before the session is killed. */
  graceMs: number;
  /** Globs, relative to the worktree, recorded as artifacts when a job of the stage ends. */
  outputs: string[];
  /** Commit what the job left uncommitted in the worktree when it ends. */
  commit: boolean;
  runtime: RuntimeChoice;
  /** Run the agent's interactive terminal UI (tmux sessions), not its headless mode. */
  interactive: boolean;
  /** What one job of this stage may spend. */
  budget: BudgetDef;
}

export interface AgentStageDef extends StageCommon {
  kind: "agent";
  agent: string;
  /** The agent came from `defaults.agent`, so routing may choose another. */
  agentFromDefault: boolean;
  prompt: PromptDef;
}

export interface RunStageDef extends StageCommon {
  kind: "run";
  run: string;
}

export interface UsesStageDef extends StageCommon {
  kind: "uses";
  uses: string;
  with: Record<string, string>;
}

export interface FanoutStageDef extends StageCommon {
  kind: "fanout";
  agents: string[];
  prompt: PromptDef;
  aggregate: AggregateDef;
}

export type StageDef = AgentStageDef | RunStageDef | UsesStageDef | FanoutStageDef;
export type StageKind = StageDef["kind"];

export interface PipelineDef {
  name: string;
  /** In the order written; `needs` make the graph. */
  stages: StageDef[];
  /** What the whole pipeline may spend. */
  budget: BudgetDef;
}

export interface AgentDef {
  name: string;
  /** Which adapter drives it: `command` for any argv, or a built-in CLI adapter. */
  adapter: string;
  /**
   * Argv template for `command` agents. Placeholders, each replacing a whole element or part of
   * one: `{prompt_file}`, `{worktree}`, `{task}`, `{stage}`, `{model}`. Without `{prompt_file}`
   * the prompt is written to the agent's stdin.
   */
  command: string[] | null;
  model: string | null;
  /** Extra environment for the agent, as written in `baton.yaml`. */
  env: Record<string, string>;
  /** Names of variables from Baton's own environment the agent may see. */
  passEnv: string[];
  runtime: RuntimeChoice | null;
  /** Agent that takes this agent's waiting work while it is rate limited. */
  fallback: string | null;
  /** Keep the agent off the project's own checkout (its worktree only). */
  sandbox: boolean;
  /** USD per million tokens, for agents that report no cost; `null` uses Baton's table. */
  prices: PricesDef | null;
}

export interface PricesDef {
  inputPerMTok: number;
  outputPerMTok: number;
  cacheReadPerMTok: number;
  cacheWritePerMTok: number;
}

export const COMPLEXITY_TIERS = ["simple", "medium", "complex"] as const;
export type ComplexityTier = (typeof COMPLEXITY_TIERS)[number];

export const ROUTER_MODES = ["labels", "round_robin", "llm"] as const;
export type RouterMode = (typeof ROUTER_MODES)[number];

export interface RouterDef {
  mode: RouterMode;
  /** Agents the router picks from (round robin, llm). */
  agents: string[];
  /** llm: the agent that routes, its model, and its prompt. */
  agent: string | null;
  model: string | null;
  prompt: PromptDef | null;
  timeoutMs: number;
  /** Agent used when routing fails. */
  fallbackExecutor: string | null;
  /** llm: attempts before falling back. */
  maxRouteAttempts: number;
}

/** Routing by labels alone, with nothing else configured. */
export const LABELS_ROUTER: RouterDef = {
  mode: "labels",
  agents: [],
  agent: null,
  model: null,
  prompt: null,
  timeoutMs: 120_000,
  fallbackExecutor: null,
  maxRouteAttempts: 2,
};

export interface Limits {
  maxRunningPipelines: number;
  maxRunningJobs: number;
  perAgent: Record<string, number>;
}

export interface Defaults {
  agent: string;
  runtime: RuntimeChoice;
  timeoutMs: number;
  stallTimeoutMs: number;
  graceMs: number;
  /** An interactive session quiet this long, its agent alive, counts as idle (its turn ended). */
  idleAfterMs: number;
  /** A rate-limited agent pauses this long when its output names no reset time. */
  rateLimitPauseMs: number;
  commit: boolean;
  pipeline: string;
}

export interface BatonConfig {
  version: 1;
  /** Absolute path of the file this came from. */
  file: string;
  /** Absolute path of the directory holding the file: the project root. */
  root: string;
  defaults: Defaults;
  limits: Limits;
  agents: Record<string, AgentDef>;
  pipelines: Record<string, PipelineDef>;
  router: RouterDef;
  /** Model per complexity tier and agent: `modelMap.complex.claude = "opus"`. */
  modelMap: Partial<Record<ComplexityTier, Record<string, string>>>;
}

/**
 * What a pipeline keeps of the config it was created from: its own definition, the agents it
 * may run, and how routing picks among them. Stored as JSON, shared by pipelines that run the
 * same definition.
 */
export interface PipelineSnapshot {
  pipeline: PipelineDef;
  agents: Record<string, AgentDef>;
  defaults: Defaults;
  router: RouterDef;
  modelMap: BatonConfig["modelMap"];
}

/** What routing decided for a task. */
export interface RouteResult {
  agent: string;
  model: string | null;
  complexity: ComplexityTier | null;
  reason: string;
  /** Set when routing fell back (a router that failed or answered nonsense). */
  warning: string | null;
}

/** The agents a stage may run, in order: fan-out members, or its one agent; none for others. */
export function stageAgents(stage: StageDef): string[] {
  switch (stage.kind) {
    case "agent":
      return [stage.agent];
    case "fanout":
      return stage.agents;
    case "run":
    case "uses":
      return [];
  }
}

/** The agent that runs a fix round of `stage`, or `null` when the stage cannot be fixed. */
export function fixAgent(stage: StageDef): string | null {
  if (stage.fix.agent !== null) {
    return stage.fix.agent;
  }
  return stageAgents(stage)[0] ?? null;
}

const stageMaps = new WeakMap<PipelineSnapshot, Map<string, StageDef>>();

/** The stage of a snapshot by id; the map is built once per snapshot object. */
export function stageById(snapshot: PipelineSnapshot, id: string): StageDef | undefined {
  let map = stageMaps.get(snapshot);
  if (map === undefined) {
    map = new Map(snapshot.pipeline.stages.map((s) => [s.id, s]));
    stageMaps.set(snapshot, map);
  }
  return map.get(id);
}
