/**
 * One case per check: a small baton.yaml and the exact issues `baton config validate` prints
 * for it, positions included.
 */
import { describe, expect, test } from "vitest";
import { formatConfigIssue } from "../core/errors.js";
import { listPromptPaths, validateConfig } from "./validate-config.js";

const FILE = "/repo/baton.yaml";

interface Case {
  name: string;
  yaml: string[];
  /** Prompt texts; paths the YAML names and this leaves out read as a plain prompt. */
  prompts?: Record<string, string | null>;
  errors?: string[];
  warnings?: string[];
}

function check(yaml: string[], overrides: Record<string, string | null> = {}) {
  const text = `${yaml.join("\n")}\n`;
  const prompts = new Map<string, string | null>(
    listPromptPaths(text).map((path) => [path, "Work on {{task.title}}."]),
  );
  for (const [path, content] of Object.entries(overrides)) {
    prompts.set(path, content);
  }
  const result = validateConfig({ file: FILE, root: "/repo", text, prompts });
  return {
    errors: result.ok ? [] : result.errors.map(formatConfigIssue),
    warnings: result.warnings.map(formatConfigIssue),
  };
}

const pipeline = (...stages: string[]): string[] => [
  "version: 1",
  "pipelines:",
  "  default:",
  "    stages:",
  ...stages,
];

const KINDS =
  "a stage is exactly one of: an agent stage (prompt, optionally agent), a run stage (run), a built-in stage (uses), or a fan-out (agents and prompt)";
const AGENTS = "known agents are: claude, codex, opencode, aider, gemini";
const DURATION = "is not a duration; use a number and a unit, such as 90s, 10m or 1h30m";

const CASES: Case[] = [
  {
    name: "unknown top-level key",
    yaml: ["version: 1", "pipeline: default"],
    errors: [
      `${FILE}:2:1: pipeline: unknown key 'pipeline'; supported keys are: version, defaults, limits, agents, router, model_map, pipelines (did you mean 'pipelines'?)`,
    ],
  },
  {
    name: "unknown key in a gate",
    yaml: pipeline(
      "      - id: check",
      "        run: make",
      "        gates:",
      "          - { name: test, run: make test, retries: 2 }",
    ),
    errors: [
      `${FILE}:8:43: pipelines.default.stages.0.gates.0.retries: unknown key 'retries'; supported keys are: name, run, judge, autofix, timeout`,
    ],
  },
  {
    name: "version not 1",
    yaml: ["version: 2"],
    errors: [`${FILE}:1:10: version: unsupported version 2; the only supported version is 1`],
  },
  {
    name: "version missing",
    yaml: ["defaults:", "  agent: claude"],
    errors: [`${FILE}:1:1: version: missing 'version'; add 'version: 1' at the top of the file`],
  },
  {
    name: "duplicate stage ids",
    yaml: pipeline(
      "      - id: build",
      "        run: make",
      "      - id: build",
      "        run: make all",
    ),
    errors: [
      `${FILE}:7:13: pipelines.default.stages.1.id: duplicate stage id 'build' (stage 0 has it too); stage ids must be unique within a pipeline`,
    ],
  },
  {
    name: "a duplicate stage id beside a need naming no stage: each stage named once",
    yaml: pipeline(
      "      - id: build",
      "        needs: [lint]",
      "        run: make",
      "      - id: build",
      "        run: make all",
    ),
    errors: [
      `${FILE}:6:17: pipelines.default.stages.0.needs.0: stage 'build' needs 'lint', which is not a stage of pipeline 'default'; stages are: build`,
      `${FILE}:8:13: pipelines.default.stages.1.id: duplicate stage id 'build' (stage 0 has it too); stage ids must be unique within a pipeline`,
    ],
  },
  {
    name: "needs naming no stage",
    yaml: pipeline(
      "      - id: plan",
      "        run: make plan",
      "      - id: build",
      "        needs: [plna]",
      "        run: make",
    ),
    errors: [
      `${FILE}:8:17: pipelines.default.stages.1.needs.0: stage 'build' needs 'plna', which is not a stage of pipeline 'default'; stages are: plan, build (did you mean 'plan'?)`,
    ],
  },
  {
    name: "a cycle, named",
    yaml: pipeline(
      "      - id: a",
      "        needs: [c]",
      "        run: make a",
      "      - id: b",
      "        needs: [a]",
      "        run: make b",
      "      - id: c",
      "        needs: [{ stage: b, when: always }]",
      "        run: make c",
    ),
    errors: [
      `${FILE}:6:17: pipelines.default.stages.0.needs.0: stages depend on each other in a cycle: a → c → b → a (each needs the next); remove one of these needs`,
    ],
  },
  {
    name: "missing stage, fix and judge prompt files",
    yaml: pipeline(
      "      - id: plan",
      "        prompt: prompts/plan.md",
      "        fix: { prompt: prompts/fix.md }",
      "        gates:",
      "          - name: spec",
      "            judge: { prompt: prompts/judge.md }",
    ),
    prompts: { "prompts/plan.md": null, "prompts/fix.md": null, "prompts/judge.md": null },
    errors: [
      `${FILE}:6:17: pipelines.default.stages.0.prompt: prompt file 'prompts/plan.md' not found at /repo/prompts/plan.md; create it, or fix the path (it is relative to the directory holding baton.yaml)`,
      `${FILE}:7:24: pipelines.default.stages.0.fix.prompt: prompt file 'prompts/fix.md' not found at /repo/prompts/fix.md; create it, or fix the path (it is relative to the directory holding baton.yaml)`,
      `${FILE}:10:30: pipelines.default.stages.0.gates.0.judge.prompt: prompt file 'prompts/judge.md' not found at /repo/prompts/judge.md; create it, or fix the path (it is relative to the directory holding baton.yaml)`,
    ],
  },
  {
    name: "bad durations, bare numbers included",
    yaml: [
      "version: 1",
      "defaults:",
      "  timeout: 10 minutes",
      "  grace: 90",
      "pipelines:",
      "  default:",
      "    stages:",
      "      - id: check",
      "        run: make",
      "        stall_timeout: 5 m",
    ],
    errors: [
      `${FILE}:3:12: defaults.timeout: '10 minutes' ${DURATION}`,
      `${FILE}:4:10: defaults.grace: '90' ${DURATION}`,
      `${FILE}:10:24: pipelines.default.stages.0.stall_timeout: '5 m' ${DURATION}`,
    ],
  },
  {
    name: "a stage of no kind",
    yaml: pipeline("      - id: plan", "        outputs: [PLAN.md]"),
    errors: [
      `${FILE}:5:9: pipelines.default.stages.0: stage 'plan' has none of prompt, run, uses or agents; ${KINDS}`,
    ],
  },
  {
    name: "a stage of two kinds",
    yaml: pipeline("      - id: plan", "        prompt: prompts/plan.md", "        run: make plan"),
    errors: [
      `${FILE}:5:9: pipelines.default.stages.0: stage 'plan' has keys of several kinds (prompt, run); ${KINDS}`,
    ],
  },
  {
    name: "an agent stage without a prompt",
    yaml: pipeline("      - id: plan", "        agent: codex"),
    errors: [
      `${FILE}:5:9: pipelines.default.stages.0: agent stage 'plan' has no prompt; add 'prompt: prompts/plan.md'`,
    ],
  },
  {
    name: "route target not a stage",
    yaml: pipeline(
      "      - id: build",
      "        run: make",
      "      - id: test",
      "        needs: [build]",
      "        run: make test",
      "        on_fail: { route: biuld }",
    ),
    errors: [
      `${FILE}:10:27: pipelines.default.stages.1.on_fail.route: route target 'biuld' is not a stage of pipeline 'default'; stages are: build, test (did you mean 'build'?)`,
    ],
  },
  {
    name: "route target not an earlier stage it depends on",
    yaml: pipeline(
      "      - id: lint",
      "        run: make lint",
      "      - id: build",
      "        run: make",
      "      - id: test",
      "        needs: [build]",
      "        run: make test",
      "        on_fail: { route: lint, max: 3 }",
    ),
    errors: [
      `${FILE}:12:27: pipelines.default.stages.2.on_fail.route: route target 'lint' is not an earlier stage that 'test' depends on; route may go back to: build`,
    ],
  },
  {
    name: "unknown agents: defaults, stage, fix, judge and fan-out",
    yaml: [
      "version: 1",
      "defaults:",
      "  agent: gpt",
      "pipelines:",
      "  default:",
      "    stages:",
      "      - id: plan",
      "        agent: cluade",
      "        prompt: prompts/plan.md",
      "        fix: { agent: fixer }",
      "        gates:",
      "          - name: spec",
      "            judge: { agent: judge, prompt: prompts/judge.md }",
      "      - id: review",
      "        agents: [claude, codx]",
      "        prompt: prompts/review.md",
    ],
    errors: [
      `${FILE}:3:10: defaults.agent: unknown agent 'gpt'; ${AGENTS}; define it under 'agents' or use a known one`,
      `${FILE}:8:16: pipelines.default.stages.0.agent: unknown agent 'cluade'; ${AGENTS}; define it under 'agents' or use a known one (did you mean 'claude'?)`,
      `${FILE}:10:23: pipelines.default.stages.0.fix.agent: unknown agent 'fixer'; ${AGENTS}; define it under 'agents' or use a known one`,
      `${FILE}:13:29: pipelines.default.stages.0.gates.0.judge.agent: unknown agent 'judge'; ${AGENTS}; define it under 'agents' or use a known one`,
      `${FILE}:15:26: pipelines.default.stages.1.agents.1: unknown agent 'codx'; ${AGENTS}; define it under 'agents' or use a known one (did you mean 'codex'?)`,
    ],
  },
  {
    name: "unknown built-in stage",
    yaml: pipeline("      - id: pr", "        uses: open-mr"),
    errors: [
      `${FILE}:6:15: pipelines.default.stages.0.uses: unknown built-in stage 'open-mr'; built-in stages are: open-pr (did you mean 'open-pr'?)`,
    ],
  },
  {
    name: "duplicate gate names",
    yaml: pipeline(
      "      - id: build",
      "        run: make",
      "        gates:",
      "          - { name: test, run: make test }",
      "          - { name: test, run: make check }",
    ),
    errors: [
      `${FILE}:9:21: pipelines.default.stages.0.gates.1.name: duplicate gate name 'test' in stage 'build'; gate names must be unique within a stage`,
    ],
  },
  {
    name: "defaults.pipeline naming no pipeline",
    yaml: [
      "version: 1",
      "defaults:",
      "  pipeline: main",
      "pipelines:",
      "  default:",
      "    stages:",
      "      - id: build",
      "        run: make",
    ],
    errors: [
      `${FILE}:3:13: defaults.pipeline: no pipeline named 'main'; pipelines are: default, feature, delivery, idea; set defaults.pipeline to one of them`,
    ],
  },
  {
    name: "per_agent naming an unknown agent is a warning",
    yaml: ["version: 1", "limits:", "  per_agent: { claude: 2, gpt: 1 }"],
    warnings: [
      `${FILE}:3:27: limits.per_agent.gpt: limit for unknown agent 'gpt' has no effect; ${AGENTS}`,
    ],
  },
  {
    name: "unknown template variable, located in the prompt file",
    yaml: pipeline("      - id: plan", "        prompt: prompts/plan.md"),
    prompts: { "prompts/plan.md": "# Plan\n\nWork on {{task.title}}.\nIssue: {{ issue.body }}\n" },
    errors: [
      "/repo/prompts/plan.md:4:8: pipelines.default.stages.0.prompt: unknown template variable '{{issue.body}}'; variables start with one of: task, stage, pipeline, worktree, attempt, fix_round, failures, route, spawn, artifacts, artifact_paths",
    ],
  },
  {
    name: "artifacts of stages that do not run before are warnings",
    yaml: pipeline(
      "      - id: plan",
      "        prompt: prompts/plan.md",
      "        outputs: [PLAN.md]",
      "      - id: build",
      "        prompt: prompts/build.md",
      "        gates:",
      "          - name: spec",
      "            judge: { prompt: prompts/judge.md }",
    ),
    prompts: {
      "prompts/build.md": "Follow:\n{{artifacts.plan.PLAN.md}}\n{{artifacts.deploy.LOG}}\n",
      // A judge runs after its stage, so it may read the stage's own artifacts.
      "prompts/judge.md":
        "Judge {{artifact_paths.build.out.txt}} against {{artifacts.plan.PLAN.md}}",
    },
    warnings: [
      "/repo/prompts/build.md:2:1: pipelines.default.stages.1.prompt: '{{artifacts.plan.PLAN.md}}' reads an artifact of stage 'plan', which stage 'build' does not depend on, so it will be empty; add 'plan' to the needs of 'build'",
      "/repo/prompts/build.md:3:1: pipelines.default.stages.1.prompt: '{{artifacts.deploy.LOG}}' names no stage of pipeline 'default'; stages are: plan, build",
      "/repo/prompts/judge.md:1:48: pipelines.default.stages.1.gates.0.judge.prompt: '{{artifacts.plan.PLAN.md}}' reads an artifact of stage 'plan', which stage 'build' does not depend on, so it will be empty; add 'plan' to the needs of 'build'",
    ],
  },
  {
    name: "a fan-out with one agent",
    yaml: pipeline(
      "      - id: review",
      "        agents: [claude]",
      "        prompt: prompts/review.md",
    ),
    errors: [
      `${FILE}:6:17: pipelines.default.stages.0.agents: a fan-out needs at least 2 agents, got 1; for one agent write 'agent: claude' instead`,
    ],
  },
  {
    name: "unknown command placeholder",
    yaml: [
      "version: 1",
      "agents:",
      "  fixer:",
      '    command: [node, fix.mjs, "--in={prompt}", "{worktree}"]',
    ],
    errors: [
      `${FILE}:4:30: agents.fixer.command.2: unknown placeholder '{prompt}'; placeholders are: {prompt_file}, {worktree}, {task}, {stage}, {model}`,
    ],
  },
  {
    name: "YAML syntax errors",
    yaml: ["version: 1", "pipelines:", "  default:", "    stages: [", "      - id: x"],
    errors: [
      `${FILE}:5:7: invalid YAML: Block collections are not allowed within flow collections`,
      `${FILE}:6:1: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]`,
    ],
  },
  {
    name: "outputs outside the worktree",
    yaml: pipeline(
      "      - id: build",
      "        run: make",
      "        outputs: [/tmp/out.log, ../secrets/*, dist/**]",
    ),
    errors: [
      `${FILE}:7:19: pipelines.default.stages.0.outputs.0: '/tmp/out.log' is absolute; outputs are globs relative to the worktree, such as 'PLAN.md' or 'docs/**/*.md'`,
      `${FILE}:7:33: pipelines.default.stages.0.outputs.1: '../secrets/*' leaves the worktree; remove the '..' segments (outputs are globs relative to the worktree)`,
    ],
  },
  {
    name: "agents with no way to run, or two",
    yaml: [
      "version: 1",
      "agents:",
      "  helper: { model: small }",
      "  wrapped: { adapter: claude, command: [claude-wrapper] }",
      "  bare: { adapter: command }",
    ],
    errors: [
      `${FILE}:3:11: agents.helper: agent 'helper' has no command and no adapter; add 'command: [...]' or 'adapter: <one of claude, codex, opencode, aider, gemini>'`,
      `${FILE}:4:23: agents.wrapped.adapter: 'command' is only used by adapter 'command'; remove 'adapter' to run the command, or remove 'command' to use the claude adapter`,
      `${FILE}:5:20: agents.bare.adapter: adapter 'command' needs 'command': the argv to run, such as ["node", "tools/agent.mjs", "{prompt_file}"]`,
    ],
  },
  {
    name: "gates that are not exactly a command or a judge",
    yaml: pipeline(
      "      - id: build",
      "        run: make",
      "        gates:",
      "          - { name: both, run: make test, judge: { prompt: prompts/judge.md } }",
      "          - { name: neither, timeout: 1m }",
      "          - { name: judged, judge: { pass_threshold: 0.5 }, autofix: make fmt }",
    ),
    errors: [
      `${FILE}:8:13: pipelines.default.stages.0.gates.0: gate 'both' has both run and judge; a gate is a command (run) or a judge (judge): split it into two gates`,
      `${FILE}:9:13: pipelines.default.stages.0.gates.1: gate 'neither' has neither run nor judge; add 'run: <command>' or 'judge: { prompt: <file> }'`,
      `${FILE}:10:36: pipelines.default.stages.0.gates.2.judge: the judge of gate 'judged' has no prompt; add 'prompt: <file>' asking for JSON {pass, score, reasons}`,
      `${FILE}:10:70: pipelines.default.stages.0.gates.2.autofix: 'autofix' only applies to command gates (with 'run'); remove it`,
    ],
  },
  {
    name: "fix rounds of a run stage need an agent and a prompt",
    yaml: pipeline("      - id: build", "        run: make", "        fix: { max_rounds: 2 }"),
    errors: [
      `${FILE}:7:14: pipelines.default.stages.0.fix: stage 'build' has no agent or prompt of its own, so its fix rounds need 'agent' and 'prompt' under 'fix'; add them, or set 'max_rounds: 0'`,
    ],
  },
  {
    name: "a stage with an invalid id is left out; later stages keep their index",
    yaml: pipeline(
      "      - id: Build",
      "        run: make",
      "      - id: test",
      "        needs: [lint]",
      "        run: make test",
    ),
    errors: [
      `${FILE}:5:13: pipelines.default.stages.0.id: 'Build' is not a valid stage id; use lowercase letters, digits, '-' and '_', starting with a letter`,
      `${FILE}:8:17: pipelines.default.stages.1.needs.0: stage 'test' needs 'lint', which is not a stage of pipeline 'default'; stages are: test`,
    ],
  },
  {
    name: "required keys missing: stage id, gate name, need stage",
    yaml: pipeline(
      "      - run: make",
      "      - id: test",
      "        run: make test",
      "        needs: [{ when: failure }]",
      "        gates: [{ run: make lint }]",
    ),
    errors: [
      `${FILE}:5:9: pipelines.default.stages.0.id: the stage has no id; add one, such as 'id: plan' (lowercase letters, digits, '-' and '_')`,
      `${FILE}:8:17: pipelines.default.stages.1.needs.0.stage: missing 'stage': the id of the stage to wait for, as in { stage: plan, when: failure }`,
      `${FILE}:9:17: pipelines.default.stages.1.gates.0.name: the gate has no name; add one, such as 'name: test'`,
    ],
  },
  {
    name: "an empty file",
    yaml: ["# nothing here yet"],
    errors: [
      `${FILE}: the file is empty; add 'version: 1' and your pipelines, or run 'baton init' for a starter`,
    ],
  },
  {
    name: "on_fail in a form that is not one",
    yaml: pipeline(
      "      - id: a",
      "        run: make",
      "        on_fail: retyr",
      "      - id: b",
      "        run: make",
      "        on_fail: { retry: { max: 2, backof: { base: 1m } } }",
      "      - id: c",
      "        run: make",
      "        on_fail: {}",
    ),
    errors: [
      `${FILE}:7:18: pipelines.default.stages.0.on_fail: 'retyr' is not an on_fail action; use fail, escalate or retry, or { retry: ... } or { route: ... } (did you mean 'retry'?)`,
      `${FILE}:10:37: pipelines.default.stages.1.on_fail.retry.backof: unknown key 'backof'; supported keys are: max, backoff, then (did you mean 'backoff'?)`,
      `${FILE}:13:18: pipelines.default.stages.2.on_fail: on_fail is fail, escalate, retry, { retry: <n> | { max, backoff, then } }, or { route: <stage>, max, then }`,
    ],
  },
];

describe("config rules", () => {
  test.each(CASES)("$name", ({ yaml, prompts, errors = [], warnings = [] }) => {
    expect(check(yaml, prompts)).toEqual({ errors, warnings });
  });
});
