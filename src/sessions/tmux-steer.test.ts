import { describe, expect, it } from "vitest";
import { confirmationNeedle, normalizeSteerText } from "./tmux-steer.js";

describe("normalizeSteerText", () => {
  it.each([
    ["plain", "plain"],
    ["wrap up\n", "wrap up"],
    ["a\r\nb\rc\n\n\n", "a\nb\nc"],
    ["keep\ttabs", "keep\ttabs"],
    [
      "no \u0003ctrl-c, \u001b[2Jescape, \u007fdel or \u009bcsi",
      "no ctrl-c, [2Jescape, del or csi",
    ],
    ["unicode é ✓ 日本", "unicode é ✓ 日本"],
  ])("%j → %j", (message, text) => {
    expect(normalizeSteerText(message)).toBe(text);
  });
});

describe("confirmationNeedle", () => {
  it.each([
    ["one line", "one line"],
    ["first\nlast line  ", "last line"],
    ["first\nlast\n  \n", "last"],
    ["a\tlonger part\tb", "longer part"],
    ["", null],
    [" \n\t\n", null],
  ])("%j → %j", (text, needle) => {
    expect(confirmationNeedle(text)).toBe(needle);
  });
});
