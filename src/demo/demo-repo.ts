/** The files of the demo's throwaway repository: a small module with a real bug and its tests. */

export function demoRepoFiles(agentScript: string): Record<string, string> {
  return {
    "package.json": `${JSON.stringify({ name: "stats-demo", private: true, type: "module", scripts: { test: "node --test test/stats.test.js" } }, null, 2)}\n`,
    "README.md": "# stats-demo\n\nA tiny module with a bug, used by `baton demo`.\n",
    "src/stats.js": `/** The middle value of a list of numbers. */
export function median(values) {
  if (values.length === 0) {
    throw new RangeError("median of an empty list");
  }
  return values[Math.floor(values.length / 2)];
}
`,
    "test/stats.test.js": `import assert from "node:assert/strict";
import { test } from "node:test";
import { median } from "../src/stats.js";

test("odd length", () => assert.equal(median([3, 1, 2]), 2));
test("even length", () => assert.equal(median([4, 1, 3, 2]), 2.5));
test("empty list", () => assert.throws(() => median([]), RangeError));
`,
    "baton.yaml": `# The demo's pipeline: plan, then implement with a test gate, then review.
version: 1
defaults:
  agent: demo
  runtime: process
  timeout: 5m
  stall_timeout: 2m
agents:
  demo:
    # A scripted stand-in for a coding agent; it says so in its output.
    command: ["${process.execPath}", "${agentScript}", "{prompt_file}"]
pipelines:
  default:
    stages:
      - id: plan
        prompt: prompts/plan.md
        outputs: [PLAN.md]
      - id: implement
        needs: [plan]
        prompt: prompts/implement.md
        gates:
          - { name: test, run: "node --test test/stats.test.js", timeout: 2m }
        fix: { max_rounds: 2 }
        on_fail: escalate
      - id: review
        needs: [implement]
        prompt: prompts/review.md
        outputs: [REVIEW.md]
`,
    "prompts/plan.md":
      "Plan the work for task #{{task.number}}: {{task.title}}\n\n{{task.body}}\n\nWrite the plan to PLAN.md.\n",
    "prompts/implement.md":
      "Implement task #{{task.number}}: {{task.title}}\n\nThe plan:\n\n{{artifacts.plan.PLAN.md}}\n\n{{failures}}\n",
    "prompts/review.md":
      "Review the change for task #{{task.number}} on branch {{pipeline.branch}}. Write REVIEW.md.\n",
    ".gitignore": "node_modules/\n",
  };
}
