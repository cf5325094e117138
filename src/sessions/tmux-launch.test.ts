import { describe, expect, it } from "vitest";
import {
  makeLogPipeCommand,
  makeTmuxPaneArgv,
  quoteForShell,
  TMUX_LAUNCH_SCRIPT,
} from "./tmux-launch.js";
import { TMUX_WRAPPER_SCRIPT } from "./wrapper-script.js";

describe("makeTmuxPaneArgv", () => {
  it("runs the launcher, then env -i's words, then the process runtime's wrapper", () => {
    const argv = makeTmuxPaneArgv({
      name: "baton-p-1-plan-1",
      dir: "/s",
      argv: ["prog", "a;"],
      cwd: "/w",
      env: { PATH: "/bin", PWD: "/p", BATON_SESSION: "spoofed" },
      stdin: { kind: "file", path: "/s/prompt" },
    });
    expect(argv).toEqual([
      "/bin/sh",
      "-c",
      TMUX_LAUNCH_SCRIPT,
      "baton-launch",
      "/s/gate",
      "file",
      "/s/prompt",
      "PATH=/bin",
      "PWD=/p",
      "BATON_SESSION=baton-p-1-plan-1",
      "/bin/sh",
      "-c",
      TMUX_WRAPPER_SCRIPT,
      "baton-session",
      "/s",
      "PWD=/p",
      "--",
      "prog",
      "a;",
    ]);
  });

  it("gives a fifo session its stdin FIFO, and leaves the terminal to a null session", () => {
    const argvOf = (kind: "fifo" | "null"): string[] =>
      makeTmuxPaneArgv({ name: "n", dir: "/s", argv: ["p"], cwd: "/", env: {}, stdin: { kind } });
    expect(argvOf("fifo").slice(5, 7)).toEqual(["fifo", "/s/stdin"]);
    expect(argvOf("null").slice(5, 7)).toEqual(["null", ""]);
  });
});

describe("makeLogPipeCommand", () => {
  it("quotes the paths for sh and doubles # for tmux's format expansion", () => {
    expect(makeLogPipeCommand("/a b/it's #1")).toBe(
      "cat >> '/a b/it'\\''s ##1/log'; : > '/a b/it'\\''s ##1/log-closed'",
    );
  });
});

describe("quoteForShell", () => {
  it("single-quotes, closing and reopening around each quote", () => {
    expect(quoteForShell("")).toBe("''");
    expect(quoteForShell("a'b")).toBe("'a'\\''b'");
    expect(quoteForShell('$(x) `y` "z"')).toBe("'$(x) `y` \"z\"'");
  });
});
