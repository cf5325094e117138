import { describe, expect, it } from "vitest";
import { listTemplateReferences, renderTemplate } from "./template.js";

describe("renderTemplate", () => {
  const scope = {
    task: { number: 42, title: "Fix $(rm -rf /)", labels: ["bug", "ui"] },
    fix_round: 0,
    artifacts: { plan: { "PLAN.md": "# Plan", "docs/notes.txt": "n" } },
  };

  it("substitutes variables and nothing else", () => {
    const result = renderTemplate("#{{task.number}} {{ task.title }} {{fix_round}}", scope);
    expect(result).toEqual({
      text: "#42 Fix $(rm -rf /) 0",
      missing: [],
      used: ["task.number", "task.title", "fix_round"],
    });
  });

  it("reaches keys that hold dots and slashes", () => {
    expect(
      renderTemplate("{{artifacts.plan.PLAN.md}}|{{artifacts.plan.docs/notes.txt}}", scope).text,
    ).toBe("# Plan|n");
  });

  it("renders lists one per line and reports missing paths", () => {
    const result = renderTemplate("{{task.labels}}/{{task.nope}}/{{task}}", scope);
    expect(result.text).toBe("bug\nui//");
    expect(result.missing).toEqual(["task.nope", "task"]);
  });

  it("leaves text that only looks like a template alone", () => {
    expect(renderTemplate("{{#each x}} {{> partial}} {{ 1 + 2 }}", scope).text).toBe(
      "{{#each x}} {{> partial}} {{ 1 + 2 }}",
    );
  });

  it("does not re-expand values that contain braces", () => {
    const text = renderTemplate("{{task.title}}", {
      task: { title: "{{fix_round}}" },
      fix_round: 3,
    }).text;
    expect(text).toBe("{{fix_round}}");
  });

  it("lists references with positions", () => {
    expect(listTemplateReferences("a\n  {{task.title}} {{bad}}")).toEqual([
      { path: "task.title", root: "task", line: 2, col: 3 },
      { path: "bad", root: "bad", line: 2, col: 18 },
    ]);
  });
});
