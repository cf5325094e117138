import { describe, expect, test } from "vitest";
import { NotFoundError, formatConfigIssue } from "../../core/errors.js";
import type { BatonConfig, StageDef } from "../../core/pipeline-def.js";
import { BUILTIN_PIPELINE_NAMES } from "../builtins.js";
import { listPromptPaths, validateConfig } from "../validate-config.js";
import { TEMPLATE_NAMES, findTemplate, starterFiles } from "./starter-files.js";

/** Validates a template's files as `baton init` would write them; fails on any issue. */
function validated(name: string): BatonConfig {
  const [config, ...prompts] = starterFiles(name);
  const result = validateConfig({
    file: "/repo/baton.yaml",
    root: "/repo",
    text: config?.content ?? "",
    prompts: new Map(prompts.map((file) => [file.path, file.content])),
  });
  const issues = [...(result.ok ? [] : result.errors), ...result.warnings];
  expect(issues.map(formatConfigIssue)).toEqual([]);
  if (!result.ok) {
    throw new Error(`template ${name} is invalid`);
  }
  return result.value;
}

function stages(config: BatonConfig, pipeline: string): Map<string, StageDef> {
  return new Map((config.pipelines[pipeline]?.stages ?? []).map((s) => [s.id, s]));
}

const needsOf = (stage: StageDef | undefined): string[] => stage?.needs.map((n) => n.stage) ?? [];

describe("built-in templates", () => {
  test.each(TEMPLATE_NAMES)("%s validates with no errors or warnings", (name) => {
    validated(name);
  });

  test.each(TEMPLATE_NAMES)("%s ships exactly the prompts its baton.yaml names", (name) => {
    const [config, ...prompts] = starterFiles(name);
    expect(config?.path).toBe("baton.yaml");
    expect(prompts.map((p) => p.path).sort()).toEqual(
      listPromptPaths(config?.content ?? "").sort(),
    );
    for (const prompt of prompts) {
      expect(prompt.path).toMatch(/^prompts\/[a-z-]+\.md$/);
      expect(prompt.content.endsWith("\n")).toBe(true);
      expect(prompt.content.length).toBeGreaterThan(200);
    }
  });

  test("every built-in pipeline has a template defining it", () => {
    for (const name of BUILTIN_PIPELINE_NAMES) {
      expect(Object.keys(validated(name).pipelines)).toContain(name);
      expect(validated(name).defaults.pipeline).toBe(name);
    }
  });

  test("default: plan → implement (test gate, 3 fix rounds) → review, with a commented-out pr stage", () => {
    const byId = stages(validated("default"), "default");
    expect([...byId.keys()]).toEqual(["plan", "implement", "review"]);
    const implement = byId.get("implement");
    expect(needsOf(implement)).toEqual(["plan"]);
    expect(implement?.gates.map((g) => g.name)).toEqual(["test"]);
    expect(implement?.fix.maxRounds).toBe(3);
    expect(needsOf(byId.get("review"))).toEqual(["implement"]);
    const yaml = findTemplate("default").yaml;
    expect(yaml).toContain("#   uses: open-pr");
    // Commented well enough that each key is explained: most lines are comments.
    const lines = yaml.split("\n").filter((l) => l.trim() !== "");
    expect(lines.filter((l) => l.trim().startsWith("#")).length).toBeGreaterThan(lines.length / 2);
  });

  test("feature: plan → implement → review → pr, a rejected review routes to implement", () => {
    const byId = stages(validated("feature"), "feature");
    expect([...byId.keys()]).toEqual(["plan", "implement", "review", "pr"]);
    expect(byId.get("pr")).toMatchObject({
      kind: "uses",
      uses: "open-pr",
      needs: [{ stage: "review" }],
    });
    expect(byId.get("review")?.onFail).toEqual({
      kind: "route",
      to: "implement",
      max: 2,
      then: "escalate",
    });
  });

  test("delivery: starter → coding → reviewer → deployer → verifier, auditor, reviewer routes to coding", () => {
    const byId = stages(validated("delivery"), "delivery");
    expect([...byId.keys()]).toEqual([
      "starter",
      "coding",
      "reviewer",
      "deployer",
      "verifier",
      "auditor",
    ]);
    expect(needsOf(byId.get("coding"))).toEqual(["starter"]);
    expect(needsOf(byId.get("reviewer"))).toEqual(["coding"]);
    expect(needsOf(byId.get("deployer"))).toEqual(["reviewer"]);
    expect(needsOf(byId.get("verifier"))).toEqual(["deployer"]);
    expect(byId.get("reviewer")?.onFail).toMatchObject({ kind: "route", to: "coding" });
    expect(byId.get("auditor")?.needs).toEqual([{ stage: "verifier", when: "failure" }]);
  });

  test("idea: phases in order, security ∥ story-loop, each phase judged", () => {
    const byId = stages(validated("idea"), "idea");
    expect([...byId.keys()]).toEqual([
      "intake",
      "ideation",
      "prd",
      "architecture",
      "build",
      "security",
      "story-loop",
      "qa",
    ]);
    expect(needsOf(byId.get("security"))).toEqual(["build"]);
    expect(needsOf(byId.get("story-loop"))).toEqual(["build"]);
    expect(needsOf(byId.get("qa"))).toEqual(["security", "story-loop"]);
    for (const stage of byId.values()) {
      expect(
        stage.gates.some((g) => g.kind === "judge"),
        stage.id,
      ).toBe(true);
    }
  });

  test("prompts use the template variables", () => {
    const prompts = starterFiles("feature").slice(1);
    const implement = prompts.find((p) => p.path === "prompts/implement.md")?.content ?? "";
    expect(implement).toContain("{{task.title}}");
    expect(implement).toContain("{{task.body}}");
    expect(implement).toContain("{{artifacts.plan.PLAN.md}}");
    expect(implement).toContain("{{failures}}");
  });

  test("an unknown template is a NotFoundError listing the names", () => {
    expect(() => starterFiles("fancy")).toThrow(NotFoundError);
    expect(() => starterFiles("fancy")).toThrow(
      "no pipeline template named 'fancy'; templates are: default, feature, delivery, idea",
    );
  });
});
