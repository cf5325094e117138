import { describe, expect, test } from "vitest";
import { NotFoundError } from "../core/errors.js";
import type { BatonConfig } from "../core/pipeline-def.js";
import { snapshotPipeline } from "./snapshot.js";
import { validateConfig } from "./validate-config.js";

const TEXT = [
  "version: 1",
  "agents:",
  "  fixer: { command: [fix, '{prompt_file}'] }",
  "  judge-agent: { adapter: codex, model: o3 }",
  "  unused: { command: [noop] }",
  "pipelines:",
  "  default:",
  "    stages:",
  "      - { id: plan, agent: claude, prompt: p.md }",
  "      - id: review",
  "        needs: [plan]",
  "        agents: [codex, gemini]",
  "        prompt: p.md",
  "        fix: { agent: fixer }",
  "        gates: [{ name: spec, judge: { agent: judge-agent, prompt: p.md } }]",
  "      - { id: check, needs: [review], run: make }",
].join("\n");

function config(): BatonConfig {
  const result = validateConfig({
    file: "/repo/baton.yaml",
    root: "/repo",
    text: TEXT,
    prompts: new Map([["p.md", "Go."]]),
  });
  if (!result.ok) {
    throw new Error("the test config should be valid");
  }
  return result.value;
}

describe("snapshotPipeline", () => {
  test("keeps the pipeline, every agent (routing may pick any), the defaults and routing", () => {
    const source = config();
    const snapshot = snapshotPipeline(source, "default");
    expect(snapshot.pipeline).toEqual(source.pipelines.default);
    expect(snapshot.defaults).toEqual(source.defaults);
    expect(snapshot.router).toEqual(source.router);
    expect(snapshot.modelMap).toEqual(source.modelMap);
    expect(Object.keys(snapshot.agents).sort()).toEqual(Object.keys(source.agents).sort());
    expect(Object.keys(snapshot.agents)).toEqual(
      expect.arrayContaining(["claude", "codex", "fixer", "gemini", "judge-agent", "unused"]),
    );
    expect(snapshot.agents["judge-agent"]).toEqual(source.agents["judge-agent"]);
  });

  test("is a copy: later changes to the config do not reach it", () => {
    const source = config();
    const snapshot = snapshotPipeline(source, "default");
    source.pipelines.default?.stages.pop();
    const fixer = source.agents.fixer;
    fixer?.command?.push("--changed");
    expect(snapshot.pipeline.stages).toHaveLength(3);
    expect(snapshot.agents.fixer?.command).toEqual(["fix", "{prompt_file}"]);
  });

  test("works for built-in pipelines", () => {
    const snapshot = snapshotPipeline(config(), "feature");
    expect(snapshot.pipeline.stages.map((s) => s.id)).toEqual([
      "plan",
      "implement",
      "review",
      "pr",
    ]);
    expect(snapshot.agents.claude).toEqual(config().agents.claude);
  });

  test("throws NotFoundError listing the pipelines for an unknown name", () => {
    expect(() => snapshotPipeline(config(), "nope")).toThrow(NotFoundError);
    expect(() => snapshotPipeline(config(), "nope")).toThrow(
      "no pipeline named 'nope' in /repo/baton.yaml; pipelines are: default, feature, delivery, idea",
    );
  });
});
