import { chmod, mkdir, readdir, rm, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AppError } from "../../src/core/errors.js";
import { commitAll, hasUncommittedChanges, headCommit } from "../../src/workspace/commit.js";
import { git, makeGitRepo, makeTempDir, TEST_IDENTITY, type GitRepo } from "../helpers/git-repo.js";

let repo: GitRepo;

beforeEach(async () => {
  repo = await makeGitRepo({
    files: { "keep.txt": "keep\n", "modify.txt": "before\n", "delete.txt": "bye\n" },
  });
});

afterEach(async () => {
  vi.unstubAllEnvs();
  await repo.cleanup();
});

/** The raw message of a commit: everything after the header's blank line, byte for byte. */
async function rawMessage(dir: string, sha: string): Promise<string> {
  const raw = await git(dir, ["cat-file", "commit", sha]);
  return raw.slice(raw.indexOf("\n\n") + 2);
}

describe("commitAll", () => {
  it("returns committed: false and makes no commit when nothing changed", async () => {
    const before = await headCommit(repo.root);

    expect(await commitAll({ worktree: repo.root, message: "nothing" })).toEqual({
      committed: false,
      sha: null,
    });
    expect(await headCommit(repo.root)).toBe(before);
  });

  it("commits new, modified and deleted files", async () => {
    const before = await headCommit(repo.root);
    await mkdir(join(repo.root, "new"));
    await writeFile(join(repo.root, "new", "file.txt"), "new\n");
    await writeFile(join(repo.root, "modify.txt"), "after\n");
    await unlink(join(repo.root, "delete.txt"));
    expect(await hasUncommittedChanges(repo.root)).toBe(true);

    const result = await commitAll({ worktree: repo.root, message: "agent work" });

    expect(result.committed).toBe(true);
    expect(result.sha).toBe(await headCommit(repo.root));
    expect(result.sha).not.toBe(before);
    expect(await hasUncommittedChanges(repo.root)).toBe(false);
    const changes = await git(repo.root, ["show", "--name-status", "--format=", "HEAD"]);
    expect(changes.trim().split("\n").sort()).toEqual([
      "A\tnew/file.txt",
      "D\tdelete.txt",
      "M\tmodify.txt",
    ]);
  });

  it("passes a message full of shell syntax through literally", async () => {
    await writeFile(join(repo.root, "x"), "must survive\n");
    await git(repo.root, ["add", "x"]);
    await git(repo.root, ["commit", "-q", "-m", "add x"]);
    await writeFile(join(repo.root, "change.txt"), "change\n");
    const message = [
      "fix: $(touch pwned) and `touch pwned2`; rm -rf x",
      "",
      "  'single' \"double\" \\backslash $HOME ${PATH} | cat > out && exit 1",
      "",
      "",
      "# a line git would strip as a comment",
      "trailing spaces   ",
      "",
    ].join("\n");

    const result = await commitAll({ worktree: repo.root, message });

    expect(result.committed).toBe(true);
    expect(await rawMessage(repo.root, result.sha ?? "HEAD")).toBe(message);
    const files = await readdir(repo.root);
    expect(files).toContain("x");
    expect(files).not.toContain("pwned");
    expect(files).not.toContain("pwned2");
    expect(files).not.toContain("out");
    expect(await readdir(process.cwd())).not.toContain("pwned");
  });

  it("treats a message that looks like an option as the message", async () => {
    await writeFile(join(repo.root, "change.txt"), "change\n");

    const result = await commitAll({ worktree: repo.root, message: "--amend" });

    expect(await rawMessage(repo.root, result.sha ?? "HEAD")).toBe("--amend\n");
    expect((await git(repo.root, ["rev-list", "--count", "HEAD"])).trim()).toBe("2");
  });

  it("skips the user's pre-commit and commit-msg hooks", async () => {
    const hooks = join(repo.root, ".git", "hooks");
    for (const hook of ["pre-commit", "commit-msg"]) {
      await writeFile(join(hooks, hook), "#!/bin/sh\necho blocked >&2\nexit 1\n");
      await chmod(join(hooks, hook), 0o755);
    }
    await writeFile(join(repo.root, "change.txt"), "change\n");

    const result = await commitAll({ worktree: repo.root, message: "despite hooks" });

    expect(result.committed).toBe(true);
  });

  it("keeps the configured identity", async () => {
    await writeFile(join(repo.root, "change.txt"), "change\n");

    await commitAll({ worktree: repo.root, message: "mine" });

    const author = await git(repo.root, ["log", "-1", "--format=%an <%ae>|%cn <%ce>"]);
    const who = `${TEST_IDENTITY.name} <${TEST_IDENTITY.email}>`;
    expect(author.trim()).toBe(`${who}|${who}`);
  });

  it("falls back to Baton <baton@localhost> when git has no identity, without writing config", async () => {
    const home = await makeTempDir("baton-home-");
    const anonymous = await makeGitRepo({ identity: false, files: { "a.txt": "a\n" } });
    try {
      // No global or system config and no identity variables can help.
      vi.stubEnv("HOME", home);
      vi.stubEnv("XDG_CONFIG_HOME", join(home, ".config"));
      vi.stubEnv("GIT_CONFIG_NOSYSTEM", "1");
      for (const name of [
        "GIT_CONFIG_GLOBAL",
        "GIT_CONFIG_SYSTEM",
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "EMAIL",
      ]) {
        vi.stubEnv(name, undefined);
      }
      await expect(git(anonymous.root, ["config", "--get", "user.name"])).rejects.toThrow();
      await writeFile(join(anonymous.root, "b.txt"), "b\n");

      const result = await commitAll({ worktree: anonymous.root, message: "anonymous" });

      expect(result.committed).toBe(true);
      const author = await git(anonymous.root, ["log", "-1", "--format=%an <%ae>|%cn <%ce>"]);
      expect(author.trim()).toBe("Baton <baton@localhost>|Baton <baton@localhost>");
      await expect(git(anonymous.root, ["config", "--get", "user.email"])).rejects.toThrow();
    } finally {
      vi.unstubAllEnvs();
      await anonymous.cleanup();
      await rm(home, { recursive: true, force: true });
    }
  });
});

describe("headCommit and hasUncommittedChanges", () => {
  it("reports untracked files as uncommitted changes, but not ignored ones", async () => {
    expect(await hasUncommittedChanges(repo.root)).toBe(false);
    await writeFile(join(repo.root, ".gitignore"), "ignored.txt\n");
    await git(repo.root, ["add", ".gitignore"]);
    await git(repo.root, ["commit", "-q", "-m", "ignore"]);
    await writeFile(join(repo.root, "ignored.txt"), "ignored\n");
    expect(await hasUncommittedChanges(repo.root)).toBe(false);
    await mkdir(join(repo.root, "deep", "er"), { recursive: true });
    await writeFile(join(repo.root, "deep", "er", "untracked.txt"), "new\n");
    expect(await hasUncommittedChanges(repo.root)).toBe(true);
  });

  it("returns HEAD's full id, and says so when there are no commits", async () => {
    expect(await headCommit(repo.root)).toMatch(/^[0-9a-f]{40}$/);
    const empty = await makeGitRepo({ commit: false });
    try {
      const error = await headCommit(empty.root).catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).message).toBe(
        `${empty.root} has no commits yet; make a first commit before running Baton on it`,
      );
    } finally {
      await empty.cleanup();
    }
  });
});
