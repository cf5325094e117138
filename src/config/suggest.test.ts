import { describe, expect, test } from "vitest";
import { closestMatch, didYouMean } from "./suggest.js";

describe("closestMatch", () => {
  test.each([
    ["plna", ["plan", "build"], "plan"],
    ["neds", ["id", "needs", "gates"], "needs"],
    ["cluade", ["claude", "codex"], "claude"],
    ["timeot", ["timeout", "grace"], "timeout"],
    ["deploy", ["plan", "build"], undefined],
    ["x", ["plan"], undefined],
    ["PLAN", ["plan"], "plan"],
  ] as const)("%s among %j → %s", (word, choices, expected) => {
    expect(closestMatch(word, choices)).toBe(expected);
  });
});

describe("didYouMean", () => {
  test("suggests a close choice, and nothing for an exact or distant one", () => {
    expect(didYouMean("biuld", ["build"])).toBe(" (did you mean 'build'?)");
    expect(didYouMean("build", ["build"])).toBe("");
    expect(didYouMean("zzz", ["build"])).toBe("");
  });
});
