/**
 * The second step: the parsed file (schema output, snake_case, durations as text) becomes a
 * `BatonConfig` with every default filled in, durations in milliseconds and prompt texts read.
 * Tolerant of stages the rules will reject (no kind, an agent stage without a prompt), so the
 * rules can check a whole file; only a file without errors is handed out.
 */
import { MINUTE, SECOND, parseDuration } from "../core/duration.js";
import type {
  AgentDef,
  BackoffDef,
  BatonConfig,
  Defaults,
  GateDef,
  OnFailDef,
  PipelineDef,
  PromptDef,
  RouterDef,
  BudgetDef,
  StageDef,
} from "../core/pipeline-def.js";
import { NO_BUDGET } from "../core/pipeline-def.js";
import { builtinAgents } from "./builtins.js";
import type { RawAgent, RawConfig, RawPipeline } from "./schema.js";
import type { RawBudget, RawGate, RawOnFail, RawStage } from "./stage-schema.js";

/** Turns a prompt path as written into its `PromptDef` (text read by the caller). */
export type PromptResolver = (path: string) => PromptDef;

/** Where the file is, and how its prompt paths become prompts. */
export interface NormalizeContext {
  /** Absolute path of `baton.yaml`. */
  file: string;
  /** Absolute path of the directory holding it. */
  root: string;
  prompt: PromptResolver;
}

/** Kept equal to the schema's backoff defaults, for the `retry` forms that give none. */
const DEFAULT_BACKOFF: BackoffDef = {
  baseMs: 30 * SECOND,
  factor: 2,
  maxMs: 10 * MINUTE,
  jitter: true,
};
const DEFAULT_RETRIES = 2;
const DEFAULT_FIX_ROUNDS = 2;

/**
 * Builds the `BatonConfig` of a parsed file: built-in agents merged with the file's, the file's
 * pipelines (built-in pipelines are added by `validateConfig`). Pure; never throws.
 */
export function normalizeConfig(raw: RawConfig, context: NormalizeContext): BatonConfig {
  const defaults = normalizeDefaults(raw.defaults);
  const agents = normalizeAgents(raw.agents ?? {});
  const pipelines: Record<string, PipelineDef> = {};
  for (const [name, pipeline] of Object.entries(raw.pipelines ?? {})) {
    pipelines[name] = normalizePipeline(name, pipeline, defaults, agents, context.prompt);
  }
  return {
    version: 1,
    file: context.file,
    root: context.root,
    defaults,
    limits: {
      maxRunningPipelines: raw.limits.max_running_pipelines,
      maxRunningJobs: raw.limits.max_running_jobs,
      perAgent: { ...raw.limits.per_agent },
    },
    agents,
    pipelines,
    router: normalizeRouter(raw.router, defaults, Object.keys(raw.agents ?? {}), context.prompt),
    modelMap: structuredClone(raw.model_map ?? {}),
  };
}

function normalizeRouter(
  raw: RawConfig["router"],
  defaults: Defaults,
  declared: readonly string[],
  prompt: PromptResolver,
): RouterDef {
  return {
    mode: raw.mode,
    // Round robin and the llm router choose among the agents the file itself declares.
    agents: [...(raw.agents ?? (declared.length > 0 ? declared : [defaults.agent]))],
    agent: raw.agent ?? (raw.mode === "llm" ? defaults.agent : null),
    model: raw.model ?? null,
    prompt: raw.prompt === undefined ? null : prompt(raw.prompt),
    timeoutMs: ms(raw.timeout),
    fallbackExecutor: raw.fallback_executor ?? defaults.agent,
    maxRouteAttempts: raw.max_route_attempts,
  };
}

function normalizeBudget(raw: RawBudget | undefined): BudgetDef {
  return raw === undefined
    ? { ...NO_BUDGET }
    : {
        tokens: raw.tokens ?? null,
        costUsd: raw.cost_usd ?? null,
        wallclockMs: raw.wallclock === undefined ? null : ms(raw.wallclock),
      };
}

/** The defaults section with durations in milliseconds. */
function normalizeDefaults(raw: RawConfig["defaults"]): Defaults {
  return {
    agent: raw.agent,
    runtime: raw.runtime,
    timeoutMs: ms(raw.timeout),
    stallTimeoutMs: ms(raw.stall_timeout),
    graceMs: ms(raw.grace),
    idleAfterMs: ms(raw.idle_after),
    rateLimitPauseMs: ms(raw.rate_limit_pause),
    commit: raw.commit,
    pipeline: raw.pipeline,
  };
}

/** Built-in agents, with the file's entries overriding fields of a built-in or adding agents. */
function normalizeAgents(raw: Record<string, RawAgent>): Record<string, AgentDef> {
  const agents = builtinAgents();
  for (const [name, entry] of Object.entries(raw)) {
    const base = agents[name];
    const command = entry.command ?? base?.command ?? null;
    agents[name] = {
      name,
      adapter:
        entry.adapter ?? (entry.command !== undefined ? "command" : (base?.adapter ?? "command")),
      command: command === null ? null : [...command],
      model: entry.model ?? base?.model ?? null,
      env: { ...base?.env, ...entry.env },
      passEnv: [...(entry.pass_env ?? base?.passEnv ?? [])],
      runtime: entry.runtime ?? base?.runtime ?? null,
      fallback: entry.fallback ?? base?.fallback ?? null,
      sandbox: entry.sandbox ?? base?.sandbox ?? true,
      prices:
        entry.prices === undefined
          ? (base?.prices ?? null)
          : {
              inputPerMTok: entry.prices.input,
              outputPerMTok: entry.prices.output,
              cacheReadPerMTok: entry.prices.cache_read ?? entry.prices.input,
              cacheWritePerMTok: entry.prices.cache_write ?? entry.prices.input,
            },
    };
  }
  return agents;
}

/** One pipeline, its stages in written order. */
export function normalizePipeline(
  name: string,
  raw: RawPipeline,
  defaults: Defaults,
  agents: Readonly<Record<string, AgentDef>>,
  prompt: PromptResolver,
): PipelineDef {
  return {
    name,
    stages: raw.stages.map((stage) => normalizeStage(stage, defaults, agents, prompt)),
    budget: normalizeBudget(raw.budget),
  };
}

function normalizeStage(
  raw: RawStage,
  defaults: Defaults,
  agents: Readonly<Record<string, AgentDef>>,
  prompt: PromptResolver,
): StageDef {
  const agent = raw.agent ?? defaults.agent;
  const common = {
    id: raw.id,
    needs: (raw.needs ?? []).map((need) =>
      typeof need === "string" ? { stage: need, when: "success" as const } : { ...need },
    ),
    gates: (raw.gates ?? []).map((gate) => normalizeGate(gate, defaults, prompt)),
    fix: {
      maxRounds: raw.fix?.max_rounds ?? DEFAULT_FIX_ROUNDS,
      agent: raw.fix?.agent ?? null,
      prompt: raw.fix?.prompt === undefined ? null : prompt(raw.fix.prompt),
    },
    onFail: normalizeOnFail(raw.on_fail),
    timeoutMs: raw.timeout === undefined ? defaults.timeoutMs : ms(raw.timeout),
    stallTimeoutMs:
      raw.stall_timeout === undefined ? defaults.stallTimeoutMs : ms(raw.stall_timeout),
    graceMs: raw.grace === undefined ? defaults.graceMs : ms(raw.grace),
    outputs: [...(raw.outputs ?? [])],
    commit: raw.commit ?? defaults.commit,
    // An agent's own runtime applies to the stages it runs alone, unless the stage says.
    runtime:
      raw.runtime ??
      (raw.agents === undefined && raw.prompt !== undefined ? agents[agent]?.runtime : null) ??
      defaults.runtime,
    interactive: raw.interactive ?? false,
    budget: normalizeBudget(raw.budget),
  };
  const stagePrompt = prompt(raw.prompt ?? "");
  if (raw.agents !== undefined) {
    const aggregate = raw.aggregate ?? "concat";
    return {
      ...common,
      kind: "fanout",
      agents: [...raw.agents],
      prompt: stagePrompt,
      aggregate:
        typeof aggregate === "string" ? { kind: aggregate } : { kind: "run", run: aggregate.run },
    };
  }
  if (raw.run !== undefined) {
    return { ...common, kind: "run", run: raw.run };
  }
  if (raw.uses !== undefined) {
    return { ...common, kind: "uses", uses: raw.uses, with: { ...raw.with } };
  }
  return {
    ...common,
    kind: "agent",
    agent,
    agentFromDefault: raw.agent === undefined,
    prompt: stagePrompt,
  };
}

function normalizeGate(raw: RawGate, defaults: Defaults, prompt: PromptResolver): GateDef {
  const timeoutMs = ms(raw.timeout);
  if (raw.judge !== undefined) {
    return {
      kind: "judge",
      name: raw.name,
      agent: raw.judge.agent ?? defaults.agent,
      prompt: prompt(raw.judge.prompt ?? ""),
      passThreshold: raw.judge.pass_threshold,
      timeoutMs,
    };
  }
  return {
    kind: "command",
    name: raw.name,
    run: raw.run ?? "",
    autofix: raw.autofix ?? null,
    timeoutMs,
  };
}

function normalizeOnFail(raw: RawOnFail | undefined): OnFailDef {
  if (raw === undefined || raw === "fail") {
    return { kind: "fail" };
  }
  if (raw === "escalate") {
    return { kind: "escalate" };
  }
  if (raw === "retry") {
    return { kind: "retry", max: DEFAULT_RETRIES, backoff: { ...DEFAULT_BACKOFF }, then: "fail" };
  }
  if ("route" in raw) {
    return { kind: "route", to: raw.route, max: raw.max, then: raw.then };
  }
  if (typeof raw.retry === "number") {
    return { kind: "retry", max: raw.retry, backoff: { ...DEFAULT_BACKOFF }, then: "fail" };
  }
  const { backoff } = raw.retry;
  return {
    kind: "retry",
    max: raw.retry.max,
    backoff: {
      baseMs: ms(backoff.base),
      factor: backoff.factor,
      maxMs: ms(backoff.max),
      jitter: backoff.jitter,
    },
    then: raw.retry.then,
  };
}

/** The schema has checked every duration, so the fallback is never used. */
function ms(text: string): number {
  return parseDuration(text) ?? 0;
}
