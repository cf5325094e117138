import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { formatConfigIssue } from "../core/errors.js";
import { HOUR, MINUTE, SECOND } from "../core/duration.js";
import type { BatonConfig } from "../core/pipeline-def.js";
import { listPromptPaths, validateConfig, type ConfigResult } from "./validate-config.js";

const FIXTURE = join(import.meta.dirname, "../../test/fixtures/config/full");
const FILE = "/repo/baton.yaml";

function validate(text: string, prompts: Record<string, string | null> = {}): ConfigResult {
  return validateConfig({
    file: FILE,
    root: "/repo",
    text,
    prompts: new Map(Object.entries(prompts)),
  });
}

function readFixture(): { text: string; prompts: Map<string, string | null> } {
  const text = readFileSync(join(FIXTURE, "baton.yaml"), "utf8");
  const prompts = new Map<string, string | null>(
    listPromptPaths(text).map((path) => [path, readFileSync(join(FIXTURE, path), "utf8")]),
  );
  return { text, prompts };
}

function okValue(result: ConfigResult): BatonConfig {
  if (!result.ok) {
    throw new Error(result.errors.map(formatConfigIssue).join("\n"));
  }
  return result.value;
}

describe("validateConfig: a valid file", () => {
  const { text, prompts } = readFixture();
  const result = validateConfig({
    file: join(FIXTURE, "baton.yaml"),
    root: FIXTURE,
    text,
    prompts,
  });
  const config = okValue(result);
  const prompt = (path: string) => ({ path, template: prompts.get(path) ?? "<missing>" });

  test("has no warnings", () => {
    expect(result.warnings).toEqual([]);
  });

  test("fills defaults, limits and durations in milliseconds", () => {
    expect(config.version).toBe(1);
    expect(config.file).toBe(join(FIXTURE, "baton.yaml"));
    expect(config.root).toBe(FIXTURE);
    expect(config.defaults).toEqual({
      agent: "claude",
      runtime: "process",
      timeoutMs: HOUR + 30 * MINUTE,
      stallTimeoutMs: 5 * MINUTE,
      graceMs: 30 * SECOND,
      idleAfterMs: 2 * MINUTE,
      rateLimitPauseMs: 900_000,
      commit: false,
      pipeline: "ship",
    });
    expect(config.limits).toEqual({
      maxRunningPipelines: 2,
      maxRunningJobs: 4,
      perAgent: { claude: 2, fixer: 1 },
    });
  });

  test("merges user agents into the built-ins", () => {
    const builtin = (name: string) => ({
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
    });
    expect(config.agents).toEqual({
      claude: builtin("claude"),
      codex: { ...builtin("codex"), model: "gpt-5-codex" },
      opencode: builtin("opencode"),
      aider: builtin("aider"),
      gemini: builtin("gemini"),
      fixer: {
        name: "fixer",
        adapter: "command",
        command: ["node", "tools/fixer.mjs", "{prompt_file}", "--model={model}"],
        model: null,
        env: { FIXER_MODE: "strict" },
        passEnv: ["OPENAI_API_KEY"],
        runtime: null,
        fallback: null,
        sandbox: true,
        prices: null,
      },
      "claude-opus": {
        ...builtin("claude-opus"),
        adapter: "claude",
        model: "opus",
        runtime: "tmux",
      },
    });
  });

  test("normalises every stage kind, gate, fix and on_fail form", () => {
    const common = {
      needs: [],
      gates: [],
      fix: { maxRounds: 2, agent: null, prompt: null },
      onFail: { kind: "fail" },
      timeoutMs: HOUR + 30 * MINUTE,
      stallTimeoutMs: 5 * MINUTE,
      graceMs: 30 * SECOND,
      outputs: [],
      commit: false,
      runtime: "process",
      interactive: false,
      budget: { tokens: null, costUsd: null, wallclockMs: null },
    };
    const defaultBackoff = { baseMs: 30 * SECOND, factor: 2, maxMs: 10 * MINUTE, jitter: true };
    expect(config.pipelines.ship).toEqual({
      name: "ship",
      stages: [
        {
          ...common,
          id: "plan",
          kind: "agent",
          agent: "claude-opus",
          agentFromDefault: false,
          prompt: prompt("prompts/plan.md"),
          outputs: ["PLAN.md"],
          // The stage's one agent has its own runtime.
          runtime: "tmux",
        },
        {
          ...common,
          id: "implement",
          kind: "agent",
          agent: "claude",
          agentFromDefault: true,
          prompt: prompt("prompts/implement.md"),
          needs: [{ stage: "plan", when: "success" }],
          gates: [
            {
              kind: "command",
              name: "test",
              run: "npm test",
              autofix: "npm run fix",
              timeoutMs: 5 * MINUTE,
            },
            {
              kind: "judge",
              name: "spec",
              agent: "codex",
              prompt: prompt("prompts/judge.md"),
              passThreshold: 0.8,
              timeoutMs: 10 * MINUTE,
            },
          ],
          fix: { maxRounds: 3, agent: "fixer", prompt: prompt("prompts/fix.md") },
          onFail: {
            kind: "retry",
            max: 3,
            backoff: { baseMs: 10 * SECOND, factor: 3, maxMs: 5 * MINUTE, jitter: false },
            then: "escalate",
          },
          timeoutMs: 30 * MINUTE,
          commit: true,
        },
        {
          ...common,
          id: "check",
          kind: "run",
          run: "npm run lint",
          needs: [{ stage: "implement", when: "success" }],
          onFail: { kind: "retry", max: 2, backoff: defaultBackoff, then: "fail" },
          runtime: "tmux",
        },
        {
          ...common,
          id: "reviews",
          kind: "fanout",
          agents: ["claude", "codex"],
          prompt: prompt("prompts/review.md"),
          aggregate: { kind: "run", run: "node tools/merge-reviews.mjs" },
          needs: [{ stage: "check", when: "always" }],
          onFail: { kind: "route", to: "implement", max: 2, then: "fail" },
        },
        {
          ...common,
          id: "pr",
          kind: "uses",
          uses: "open-pr",
          with: { draft: "true" },
          needs: [{ stage: "reviews", when: "success" }],
          onFail: { kind: "retry", max: 4, backoff: defaultBackoff, then: "fail" },
        },
      ],
      budget: { tokens: null, costUsd: null, wallclockMs: null },
    });
  });

  test("adds the built-in pipelines, normalised with the file's defaults", () => {
    expect(Object.keys(config.pipelines)).toEqual(["ship", "feature", "delivery", "idea"]);
    const feature = config.pipelines.feature;
    expect(feature?.stages.map((s) => s.id)).toEqual(["plan", "implement", "review", "pr"]);
    const plan = feature?.stages[0];
    expect(plan?.kind).toBe("agent");
    if (plan?.kind === "agent") {
      expect(plan.agent).toBe("claude");
      expect(plan.prompt.path).toBe("builtin:feature/plan.md");
      expect(plan.prompt.template).toContain("{{task.title}}");
      expect(plan.stallTimeoutMs).toBe(5 * MINUTE);
    }
  });
});

describe("validateConfig: problems", () => {
  test("reports every problem of a file at once, in file order", () => {
    const text = [
      "version: 1",
      "defaults:",
      "  timeout: soon",
      "limits:",
      "  max_running_jobs: 0",
      "agents:",
      "  helper: { command: [run, '{file}'] }",
      "pipelines:",
      "  default:",
      "    stages:",
      "      - id: plan",
      "        prompt: prompts/plan.md",
      "        colour: blue",
      "      - id: build",
      "        needs: [plan, deploy]",
      "        run: make",
      "        gates:",
      "          - { name: t, run: make test }",
      "          - { name: t, run: make lint }",
      "      - id: deploy",
      "        needs: [build]",
      "        agent: helper",
      "        prompt: prompts/deploy.md",
      "        on_fail: { route: plan }",
    ].join("\n");
    const result = validate(text, {
      "prompts/plan.md": "{{task.title}} {{tusk}}",
      "prompts/deploy.md": null,
    });
    expect(result.ok).toBe(false);
    const lines = result.ok ? [] : result.errors.map(formatConfigIssue);
    expect(lines.map((line) => line.split(": ").slice(0, 2).join(": "))).toEqual([
      `${FILE}:3:12: defaults.timeout`,
      `${FILE}:5:21: limits.max_running_jobs`,
      `${FILE}:7:28: agents.helper.command.1`,
      `${FILE}:13:9: pipelines.default.stages.0.colour`,
      `${FILE}:15:23: pipelines.default.stages.1.needs.1`,
      `${FILE}:19:21: pipelines.default.stages.1.gates.1.name`,
      `${FILE}:23:17: pipelines.default.stages.2.prompt`,
      "/repo/prompts/plan.md:1:16: pipelines.default.stages.0.prompt",
    ]);
    expect(lines[1]).toContain("must be at least 1, got 0");
    expect(lines[4]).toContain("a cycle: build → deploy → build");
  });

  test("is not thrown off by unusual documents", () => {
    const cases: [string, string][] = [
      ["- version: 1\n", "the file holds a list, but baton.yaml is a mapping"],
      ["just text\n", "the file holds 'just text', but baton.yaml is a mapping"],
      ["version: 1\npipelines: *missing\n", "cannot read the YAML"],
      ["version: 1\n__proto__: { polluted: true }\n", "unknown key '__proto__'"],
      [
        "version: 1\npipelines: { default: { stages: [] } }\n",
        "a pipeline needs at least one stage",
      ],
      ["version: 1\npipelines: [a, b]\n", "expected a mapping (key: value), got a list"],
    ];
    for (const [text, message] of cases) {
      const result = validate(text);
      expect(result.ok, text).toBe(false);
      expect(result.ok ? "" : result.errors.map(formatConfigIssue).join("\n"), text).toContain(
        message,
      );
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test("an empty value counts as not given", () => {
    const result = validate("version: 1\ndefaults:\nlimits:\n  per_agent:\n");
    expect(okValue(result).defaults.agent).toBe("claude");
    expect(okValue(result).limits.perAgent).toEqual({});
  });

  test("a minimal file gets every default and the built-in pipelines", () => {
    const config = okValue(validate("version: 1\n"));
    expect(config.defaults).toEqual({
      agent: "claude",
      runtime: "auto",
      timeoutMs: 45 * MINUTE,
      stallTimeoutMs: 10 * MINUTE,
      graceMs: 2 * MINUTE,
      idleAfterMs: 2 * MINUTE,
      rateLimitPauseMs: 900_000,
      commit: true,
      pipeline: "default",
    });
    expect(config.limits).toEqual({ maxRunningPipelines: 3, maxRunningJobs: 6, perAgent: {} });
    expect(Object.keys(config.pipelines)).toEqual(["feature", "delivery", "idea"]);
  });

  test("a pipeline of the file replaces the built-in of the same name", () => {
    const text = [
      "version: 1",
      "defaults: { pipeline: feature }",
      "pipelines:",
      "  feature:",
      "    stages:",
      "      - { id: only, run: make }",
    ].join("\n");
    const config = okValue(validate(text));
    expect(Object.keys(config.pipelines)).toEqual(["feature", "delivery", "idea"]);
    expect(config.pipelines.feature?.stages.map((s) => s.id)).toEqual(["only"]);
  });
});

describe("listPromptPaths", () => {
  test("lists stage, fix and judge prompts once each, in order", () => {
    expect(listPromptPaths(readFixture().text)).toEqual([
      "prompts/plan.md",
      "prompts/implement.md",
      "prompts/fix.md",
      "prompts/judge.md",
      "prompts/review.md",
    ]);
  });

  test("reads what it can from an invalid file", () => {
    const text = [
      "version: 7",
      "pipelines:",
      "  a:",
      "    stages:",
      "      - { id: X, prompt: one.md, bogus: 1 }",
      "      - { prompt: 3 }",
      "      - just a string",
      "  b: nonsense",
      "  c:",
      "    stages:",
      "      - { id: y, gates: [{ judge: { prompt: two.md } }, 5], fix: { prompt: one.md } }",
    ].join("\n");
    expect(listPromptPaths(text)).toEqual(["one.md", "two.md"]);
    expect(listPromptPaths("pipelines: [\n")).toEqual([]);
    expect(listPromptPaths("a: *nowhere\n")).toEqual([]);
  });
});
