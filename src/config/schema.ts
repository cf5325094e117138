/**
 * The schema of `baton.yaml` as written: snake_case keys, durations as text, every key
 * described, and each default either applied here (static defaults) or named in the
 * description (defaults that come from elsewhere in the file). Objects are strict: an unknown
 * key is an error that lists the supported ones. Cross-key checks live in the rules.
 */
import { z } from "zod";
import { RUNTIMES } from "../core/pipeline-def.js";
import { ADAPTER_NAMES } from "./builtins.js";
import {
  countSchema,
  durationSchema,
  nameSchema,
  strictObject,
  textSchema,
} from "./schema-helpers.js";
import { budgetSchema, stageSchema } from "./stage-schema.js";
import { COMPLEXITY_TIERS, ROUTER_MODES } from "../core/pipeline-def.js";

const runtimeSchema = z.enum(RUNTIMES);

const defaultsSchema = strictObject({
  agent: nameSchema("agent name")
    .default("claude")
    .describe("Agent of stages and judges that name none. Default: claude."),
  runtime: runtimeSchema
    .default("auto")
    .describe(
      "Where sessions run: auto (tmux when installed, else process), process or tmux. Default: auto.",
    ),
  timeout: durationSchema("Wall-clock limit of one session. Default: 45m.").default("45m"),
  stall_timeout: durationSchema("No output for this long means stalled. Default: 10m.").default(
    "10m",
  ),
  grace: durationSchema(
    "After the wrap-up steer at a timeout or stall, kill the session after this. Default: 2m.",
  ).default("2m"),
  idle_after: durationSchema(
    "An interactive session quiet this long, its agent still running, has finished its turn. Default: 2m.",
  ).default("2m"),
  rate_limit_pause: durationSchema(
    "How long a rate-limited agent pauses when its output names no reset time. Default: 15m.",
  ).default("15m"),
  commit: z
    .boolean()
    .default(true)
    .describe("Commit what an agent left uncommitted at the end of its job. Default: true."),
  pipeline: nameSchema("pipeline name")
    .default("default")
    .describe("Pipeline used when a task names none. Default: default."),
});

const limitsSchema = strictObject({
  max_running_pipelines: countSchema(1, "Pipelines running at once. Default: 3.").default(3),
  max_running_jobs: countSchema(1, "Jobs running at once, over all pipelines. Default: 6.").default(
    6,
  ),
  per_agent: z
    .record(nameSchema("agent name"), countSchema(1, "Jobs of this agent running at once."))
    .default({})
    .describe("Jobs running at once per agent, such as { claude: 2 }. Default: no limit."),
});

const agentSchema = strictObject({
  command: z
    .array(z.string().min(1, { error: "must not be empty" }))
    .min(1, { error: "needs at least the program to run" })
    .optional()
    .describe(
      "Argv of a command agent (no shell). Placeholders: {prompt_file}, {worktree}, {task}, {stage}, {model}; without {prompt_file} the prompt goes to stdin.",
    ),
  adapter: z
    .enum(ADAPTER_NAMES)
    .optional()
    .describe(
      "How Baton drives the agent: command (any argv) or a built-in CLI adapter. Default: command when command is given, else the built-in of the same name.",
    ),
  model: textSchema("Model passed to the agent. Default: the agent's own default.").optional(),
  env: z
    .record(z.string(), z.string())
    .optional()
    .describe("Extra environment variables for the agent (string values)."),
  pass_env: z
    .array(
      z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
        error: (issue) => `'${String(issue.input)}' is not an environment variable name`,
      }),
    )
    .optional()
    .describe(
      "Names of Baton's own environment variables the agent may see, such as ANTHROPIC_API_KEY.",
    ),
  runtime: runtimeSchema
    .optional()
    .describe(
      "Runtime for this agent's sessions: auto, process or tmux. Default: defaults.runtime.",
    ),
  fallback: nameSchema("agent name")
    .optional()
    .describe("Agent that takes this agent's waiting work while it is rate limited."),
  sandbox: z
    .boolean()
    .optional()
    .describe(
      "Keep the agent off the project's own checkout, to its worktree only. Default: true.",
    ),
  prices: strictObject({
    input: z.number().min(0).describe("USD per million input tokens."),
    output: z.number().min(0).describe("USD per million output tokens."),
    cache_read: z.number().min(0).optional().describe("USD per million cached input tokens read."),
    cache_write: z
      .number()
      .min(0)
      .optional()
      .describe("USD per million input tokens written to the cache."),
  })
    .optional()
    .describe("Prices for agents that report no cost. Default: Baton's table for known models."),
});

const routerSchema = strictObject({
  mode: z
    .enum(ROUTER_MODES)
    .default("labels")
    .describe(
      "labels: only agent: and complexity: labels route; round_robin: cycle through agents; llm: ask an agent. Default: labels.",
    ),
  agents: z
    .array(nameSchema("agent name"))
    .optional()
    .describe("Agents to route between. Default: every agent the file defines or names."),
  agent: nameSchema("agent name")
    .optional()
    .describe("llm: the agent that routes. Default: defaults.agent."),
  model: textSchema("llm: the model the routing agent uses.").optional(),
  prompt: textSchema("llm: routing prompt file. Default: Baton's own.").optional(),
  timeout: durationSchema("llm: time limit of one routing call. Default: 2m.").default("2m"),
  fallback_executor: nameSchema("agent name")
    .optional()
    .describe("Agent used when routing fails. Default: defaults.agent."),
  max_route_attempts: countSchema(1, "llm: attempts before falling back. Default: 2.").default(2),
});

const pipelineSchema = strictObject({
  stages: z
    .array(stageSchema)
    .min(1, { error: "a pipeline needs at least one stage" })
    .describe("The stages; needs make the graph, independent stages run in parallel."),
  budget: budgetSchema.optional(),
});

/** The whole `baton.yaml` as written. */
export const configSchema = strictObject({
  version: z
    .literal(1, {
      error: (issue) =>
        issue.input === undefined
          ? "missing 'version'; add 'version: 1' at the top of the file"
          : `unsupported version ${JSON.stringify(issue.input)}; the only supported version is 1`,
    })
    .describe("Format version of this file. Must be 1."),
  defaults: defaultsSchema.prefault({}).describe("Defaults for every pipeline and stage."),
  limits: limitsSchema.prefault({}).describe("How much runs at once."),
  agents: z
    .record(nameSchema("agent name"), agentSchema)
    .optional()
    .describe(
      "Agents: override fields of the built-ins (claude, codex, opencode, aider, gemini) or add command agents.",
    ),
  router: routerSchema.prefault({}).describe("How a task's agent and model are chosen."),
  model_map: z
    .partialRecord(
      z.enum(COMPLEXITY_TIERS),
      z.record(nameSchema("agent name"), textSchema("Model name.")),
    )
    .optional()
    .describe("Model per complexity tier and agent, such as { complex: { claude: opus } }."),
  pipelines: z
    .record(nameSchema("pipeline name"), pipelineSchema)
    .optional()
    .describe(
      "Pipeline definitions by name. The built-in feature, delivery and idea pipelines are available unless defined here.",
    ),
});

/** `baton.yaml` as parsed: snake_case, durations as text, static defaults applied. */
export type RawConfig = z.output<typeof configSchema>;
/** One entry under `agents`, as parsed. */
export type RawAgent = z.output<typeof agentSchema>;
/** One entry under `pipelines`, as parsed. */
export type RawPipeline = z.output<typeof pipelineSchema>;
