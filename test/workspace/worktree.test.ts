import { access, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { branchName } from "../../src/core/branch-name.js";
import { AppError, ConflictError, ErrorCodes, UsageError } from "../../src/core/errors.js";
import { commitAll } from "../../src/workspace/commit.js";
import { ensureWorktree, listWorktrees, removeWorktree } from "../../src/workspace/worktree.js";
import { git, makeGitRepo, makeTempDir, type GitRepo } from "../helpers/git-repo.js";

let repo: GitRepo;
let worktreesRoot: string;

beforeEach(async () => {
  repo = await makeGitRepo({ files: { "README.md": "# app\n", "src/app.ts": "export {};\n" } });
  worktreesRoot = await makeTempDir("baton-worktrees-");
});

afterEach(async () => {
  await repo.cleanup();
  await rm(worktreesRoot, { recursive: true, force: true });
});

function ensure(branch: string, extra: { baseRef?: string; projectName?: string } = {}) {
  return ensureWorktree({
    projectRoot: repo.root,
    worktreesRoot,
    projectName: extra.projectName ?? "app",
    branch,
    ...(extra.baseRef === undefined ? {} : { baseRef: extra.baseRef }),
  });
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

async function head(dir: string, ref = "HEAD"): Promise<string> {
  return (await git(dir, ["rev-parse", ref])).trim();
}

describe("ensureWorktree", () => {
  it("creates the branch from HEAD in <root>/<project>/<branch>", async () => {
    const branch = branchName(42, "Fix login");
    const mainHead = await head(repo.root);

    const wt = await ensure(branch);

    expect(wt).toEqual({
      path: join(worktreesRoot, "app", "baton", "42-fix-login"),
      branch: "baton/42-fix-login",
      baseCommit: mainHead,
      created: true,
    });
    expect(await readFile(join(wt.path, "src/app.ts"), "utf8")).toBe("export {};\n");
    expect((await git(wt.path, ["symbolic-ref", "--short", "HEAD"])).trim()).toBe(branch);
    expect(await head(repo.root, `refs/heads/${branch}`)).toBe(mainHead);
    expect(await listWorktrees(repo.root)).toEqual([
      { path: repo.root, branch: "main", head: mainHead },
      { path: wt.path, branch, head: mainHead },
    ]);
  });

  it("reuses the worktree on a second call, keeping its files", async () => {
    const first = await ensure("baton/1-reuse");
    await writeFile(join(first.path, "work-in-progress.txt"), "keep me\n");

    const second = await ensure("baton/1-reuse");

    expect(second).toEqual({ ...first, created: false });
    expect(await readFile(join(second.path, "work-in-progress.txt"), "utf8")).toBe("keep me\n");
    expect(await listWorktrees(repo.root)).toHaveLength(2);
  });

  it("checks out an existing branch at its own tip, ignoring baseRef", async () => {
    const oldHead = await head(repo.root);
    await git(repo.root, ["branch", "baton/2-existing"]);
    await writeFile(join(repo.root, "later.txt"), "later\n");
    await git(repo.root, ["add", "-A"]);
    await git(repo.root, ["commit", "-q", "-m", "later"]);
    expect(await head(repo.root)).not.toBe(oldHead);

    const wt = await ensure("baton/2-existing", { baseRef: "main" });

    expect(wt.created).toBe(true);
    expect(wt.baseCommit).toBe(oldHead);
    expect(await exists(join(wt.path, "later.txt"))).toBe(false);
    expect((await git(wt.path, ["symbolic-ref", "--short", "HEAD"])).trim()).toBe(
      "baton/2-existing",
    );
  });

  it("starts a new branch from baseRef when given, without tracking it", async () => {
    const firstCommit = await head(repo.root);
    await git(repo.root, ["tag", "v1"]);
    await git(repo.root, ["branch", "release"]);
    // With "always", a branch started from a branch name would track it.
    await git(repo.root, ["config", "branch.autoSetupMerge", "always"]);
    await writeFile(join(repo.root, "later.txt"), "later\n");
    await git(repo.root, ["add", "-A"]);
    await git(repo.root, ["commit", "-q", "-m", "later"]);

    const fromTag = await ensure("baton/3-from-tag", { baseRef: "v1" });
    const fromBranch = await ensure("baton/3-from-branch", { baseRef: "release" });

    expect(fromTag.baseCommit).toBe(firstCommit);
    expect(await head(fromTag.path)).toBe(firstCommit);
    expect(fromBranch.baseCommit).toBe(firstCommit);
    const upstream = await git(repo.root, [
      "config",
      "--get-regexp",
      "^branch\\.baton/3-from-branch\\.",
    ]).catch(() => "");
    expect(upstream).toBe("");
  });

  it("rejects a baseRef that names no commit", async () => {
    await expect(ensure("baton/4-x", { baseRef: "no-such-ref" })).rejects.toThrow(
      /base ref "no-such-ref" names no commit/,
    );
  });

  it("works again after the worktree directory was deleted by hand", async () => {
    const first = await ensure("baton/5-deleted");
    await rm(first.path, { recursive: true, force: true });

    const second = await ensure("baton/5-deleted");

    expect(second.created).toBe(true);
    expect(second.path).toBe(first.path);
    expect(await readFile(join(second.path, "README.md"), "utf8")).toBe("# app\n");
    const porcelain = await git(repo.root, ["worktree", "list", "--porcelain"]);
    expect(porcelain).not.toContain("prunable");
    expect(await listWorktrees(repo.root)).toHaveLength(2);
  });

  it("fails clearly for a project without commits", async () => {
    const empty = await makeGitRepo({ commit: false, files: { "a.txt": "a\n" } });
    try {
      const error = await ensureWorktree({
        projectRoot: empty.root,
        worktreesRoot,
        projectName: "empty",
        branch: "baton/1-x",
      }).catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe(ErrorCodes.GIT);
      expect((error as AppError).message).toBe(
        `${empty.root} has no commits yet; make a first commit before running Baton on it`,
      );
    } finally {
      await empty.cleanup();
    }
  });

  it("works when the project's HEAD is detached", async () => {
    await git(repo.root, ["checkout", "-q", "--detach"]);
    const detachedHead = await head(repo.root);

    const wt = await ensure("baton/6-detached");

    expect(wt.baseCommit).toBe(detachedHead);
    expect((await listWorktrees(repo.root))[0]).toEqual({
      path: repo.root,
      branch: null,
      head: detachedHead,
    });
  });

  it("never touches the user's checkout: branch, staged, modified and untracked files", async () => {
    await writeFile(join(repo.root, "README.md"), "# app, edited by the user\n");
    await writeFile(join(repo.root, "staged.txt"), "staged\n");
    await git(repo.root, ["add", "staged.txt"]);
    await writeFile(join(repo.root, "untracked.txt"), "untracked\n");
    const statusBefore = await git(repo.root, ["status", "--porcelain"]);
    const headBefore = await head(repo.root);

    const wt = await ensure("baton/7-isolated");
    await writeFile(join(wt.path, "README.md"), "# agent change\n");
    await writeFile(join(wt.path, "agent.txt"), "agent\n");
    await commitAll({ worktree: wt.path, message: "agent work" });
    await removeWorktree({ projectRoot: repo.root, path: wt.path });

    expect((await git(repo.root, ["symbolic-ref", "--short", "HEAD"])).trim()).toBe("main");
    expect(await head(repo.root)).toBe(headBefore);
    expect(await git(repo.root, ["status", "--porcelain"])).toBe(statusBefore);
    expect(await readFile(join(repo.root, "README.md"), "utf8")).toBe(
      "# app, edited by the user\n",
    );
    expect(await exists(join(repo.root, "agent.txt"))).toBe(false);
  });

  it("refuses a worktree path that was switched to another branch", async () => {
    const wt = await ensure("baton/8-switched");
    await git(wt.path, ["switch", "-q", "-c", "something-else"]);

    await expect(ensure("baton/8-switched")).rejects.toThrow(ConflictError);
    await expect(ensure("baton/8-switched")).rejects.toThrow(/is on branch something-else/);
  });

  it("refuses a branch that is checked out in the user's checkout", async () => {
    await expect(ensure("main")).rejects.toThrow(
      new RegExp(`branch main is already checked out at ${repo.root}`),
    );
    expect((await git(repo.root, ["symbolic-ref", "--short", "HEAD"])).trim()).toBe("main");
  });

  it("refuses a non-empty directory that is not a worktree", async () => {
    const path = join(worktreesRoot, "app", "baton", "9-occupied");
    await git(worktreesRoot, ["init", "-q", path]);

    await expect(ensure("baton/9-occupied")).rejects.toThrow(
      /already exists and is not a worktree/,
    );
  });

  it("rejects branch and project names that could escape the worktrees root", async () => {
    await expect(ensure("../../escape")).rejects.toThrow(UsageError);
    await expect(ensure("-rf")).rejects.toThrow(UsageError);
    await expect(ensure("baton/1-x", { projectName: "../up" })).rejects.toThrow(UsageError);
    await expect(ensure("baton/1-x", { projectName: ".." })).rejects.toThrow(UsageError);
    expect(await listWorktrees(repo.root)).toHaveLength(1);
  });
});

describe("removeWorktree", () => {
  it("removes the worktree, uncommitted work included, and deletes the branch", async () => {
    const wt = await ensure("baton/10-remove");
    await writeFile(join(wt.path, "uncommitted.txt"), "lost\n");

    await removeWorktree({ projectRoot: repo.root, path: wt.path, deleteBranch: wt.branch });

    expect(await exists(wt.path)).toBe(false);
    expect(await listWorktrees(repo.root)).toHaveLength(1);
    expect(await git(repo.root, ["branch", "--list", wt.branch])).toBe("");
  });

  it("keeps the branch unless asked to delete it", async () => {
    const wt = await ensure("baton/11-keep-branch");

    await removeWorktree({ projectRoot: repo.root, path: wt.path });

    expect(await exists(wt.path)).toBe(false);
    expect((await git(repo.root, ["branch", "--list", wt.branch])).trim()).toBe(wt.branch);
  });

  it("is safe when the worktree and the branch are already gone", async () => {
    const wt = await ensure("baton/12-gone");
    await rm(wt.path, { recursive: true, force: true });

    await removeWorktree({ projectRoot: repo.root, path: wt.path, deleteBranch: wt.branch });
    await removeWorktree({ projectRoot: repo.root, path: wt.path, deleteBranch: wt.branch });

    expect(await git(repo.root, ["worktree", "list", "--porcelain"])).not.toContain(wt.path);
    expect(await git(repo.root, ["branch", "--list", wt.branch])).toBe("");
  });

  it("refuses to remove the project's own checkout", async () => {
    await expect(removeWorktree({ projectRoot: repo.root, path: repo.root })).rejects.toThrow(
      /it is the project's own checkout/,
    );
    expect(await exists(join(repo.root, "README.md"))).toBe(true);
    // The user works in a linked worktree of their own and runs Baton from there.
    const own = await ensure("feature/mine", { projectName: "own" });
    await expect(removeWorktree({ projectRoot: own.path, path: own.path })).rejects.toThrow(
      /it is the project's own checkout/,
    );
    expect(await exists(join(own.path, "README.md"))).toBe(true);
  });
});
