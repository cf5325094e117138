import { describe, expect, it } from "vitest";
import { lastPaneLines, paneTarget, sessionTarget } from "./tmux-session-query.js";

describe("lastPaneLines", () => {
  const screen = "1\n2\n3\n\n4\n   \n\n\n";
  it.each([
    [1, "4\n"],
    [3, "3\n\n4\n"],
    [10, "1\n2\n3\n\n4\n"],
    [0, ""],
  ])("last %i line(s)", (lines, text) => {
    expect(lastPaneLines(screen, lines)).toBe(text);
  });

  it("is empty for an empty pane", () => {
    expect(lastPaneLines("\n\n\n", 5)).toBe("");
  });
});

describe("targets", () => {
  it("name sessions exactly, and panes through their session", () => {
    expect(sessionTarget("baton-1")).toBe("=baton-1");
    expect(paneTarget("baton-1")).toBe("=baton-1:");
  });
});
