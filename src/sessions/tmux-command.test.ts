import { describe, expect, it } from "vitest";
import { classifyTmuxFailure, escapeTmuxArgument, escapeTmuxFormat } from "./tmux-command.js";

describe("escapeTmuxArgument", () => {
  it.each([
    ["plain", "plain"],
    ["", ""],
    ["a;", "a\\;"],
    [";", "\\;"],
    ["a\\;", "a\\\\;"],
    [";;", ";\\;"],
    ["a;b", "a;b"],
    ["{ }", "{ }"],
  ])("%j → %j", (arg, escaped) => {
    expect(escapeTmuxArgument(arg)).toBe(escaped);
  });
});

describe("escapeTmuxFormat", () => {
  it("doubles every #", () => {
    expect(escapeTmuxFormat("/a/#{x}/##/#(cmd)")).toBe("/a/##{x}/####/##(cmd)");
  });
});

describe("classifyTmuxFailure", () => {
  it.each([
    ["no server running on /tmp/tmux-0/baton\n", "no-server"],
    ["error connecting to /tmp/tmux-0/baton (No such file or directory)\n", "no-server"],
    ["error connecting to /tmp/tmux-0/baton (Connection refused)\n", "no-server"],
    ["server exited unexpectedly\n", "no-server"],
    ["lost server\n", "no-server"],
    ["can't find session: baton-1\n", "no-session"],
    ["can't find window: baton-1\n", "no-session"],
    ["can't find pane: baton-1\n", "no-session"],
    ["no current target\n", "no-session"],
    ["error connecting to /tmp/tmux-0/baton (Permission denied)\n", "other"],
    ["duplicate session: baton-1\n", "other"],
    ["command too long\n", "other"],
    ["", "other"],
  ])("%j is %s", (stderr, kind) => {
    expect(classifyTmuxFailure(stderr)).toBe(kind);
  });
});
