import { describe, expect, it } from "vitest";
import { parseWorktreePorcelain } from "./worktree-porcelain.js";

describe("parseWorktreePorcelain", () => {
  it("reads branches, detached heads, bare, locked and prunable entries", () => {
    const output = [
      "worktree /srv/app.git",
      "bare",
      "",
      "worktree /srv/app",
      "HEAD 1111111111111111111111111111111111111111",
      "branch refs/heads/main",
      "",
      "worktree /home/me/.baton/worktrees/app/baton/42-fix-login",
      "HEAD 2222222222222222222222222222222222222222",
      "branch refs/heads/baton/42-fix-login",
      "locked",
      "",
      "worktree /tmp/with space/detached",
      "HEAD 3333333333333333333333333333333333333333",
      "detached",
      "prunable gitdir file points to non-existent location",
      "some-future-key value",
      "",
    ].join("\n");

    expect(parseWorktreePorcelain(output)).toEqual([
      { path: "/srv/app.git", branch: null, head: "", bare: true, prunable: false, locked: false },
      {
        path: "/srv/app",
        branch: "main",
        head: "1111111111111111111111111111111111111111",
        bare: false,
        prunable: false,
        locked: false,
      },
      {
        path: "/home/me/.baton/worktrees/app/baton/42-fix-login",
        branch: "baton/42-fix-login",
        head: "2222222222222222222222222222222222222222",
        bare: false,
        prunable: false,
        locked: true,
      },
      {
        path: "/tmp/with space/detached",
        branch: null,
        head: "3333333333333333333333333333333333333333",
        bare: false,
        prunable: true,
        locked: false,
      },
    ]);
  });

  it("returns nothing for empty output and ignores lines before the first entry", () => {
    expect(parseWorktreePorcelain("")).toEqual([]);
    expect(parseWorktreePorcelain("HEAD abc\nbranch refs/heads/x\n")).toEqual([]);
  });
});
