/**
 * Git worktrees for tasks: one directory and one branch per task, next to (never inside) the
 * user's checkout. A worktree at `<worktreesRoot>/<projectName>/<branch>` is in one of these
 * states, and `ensureWorktree` takes each to "registered, on the branch":
 *
 * - absent: no directory, no registration → `git worktree add` (with `-b` if the branch is new)
 * - registered, on the branch → reused as is
 * - stale: registered, but the directory was deleted by hand → pruned, then added again
 * - conflicting: registered on another branch, or an unrelated non-empty directory → error
 *
 * Nothing here checks out, resets or writes files in the user's own checkout.
 */
import { mkdir, readdir, realpath } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { AppError, ConflictError, ErrorCodes, NotFoundError, UsageError } from "../core/errors.js";
import { headCommit } from "./commit.js";
import { findGitRoot, runGit } from "./git.js";
import { parseWorktreePorcelain, type WorktreeEntry } from "./worktree-porcelain.js";

export interface EnsureWorktreeOptions {
  /** The user's checkout (or Baton's clone) of the project. */
  projectRoot: string;
  /** Where Baton keeps worktrees, usually `$BATON_HOME/worktrees`; created if missing. */
  worktreesRoot: string;
  /** One path segment naming the project under `worktreesRoot`. */
  projectName: string;
  /** The task's branch, e.g. `baton/42-fix-login` (see `branchName` in `src/core`). */
  branch: string;
  /** Where a new branch starts; `HEAD` of `projectRoot` by default. Ignored for an existing branch. */
  baseRef?: string;
}

export interface EnsuredWorktree {
  /** Absolute path of the worktree, `<worktreesRoot>/<projectName>/<branch>` with symlinks resolved. */
  path: string;
  branch: string;
  /**
   * The commit the worktree is at when the call returns: for a new branch, the commit it was
   * cut from; for an existing branch, its tip; for a reused worktree, its current `HEAD`.
   */
  baseCommit: string;
  /** False when an existing worktree was reused. */
  created: boolean;
}

export interface ListedWorktree {
  path: string;
  /** Short branch name (`baton/42-fix-login`), `null` when detached. */
  branch: string | null;
  head: string;
}

/**
 * Makes sure the task's worktree exists and is on `branch`, creating the branch from `baseRef`
 * (default `HEAD`, which may be detached) when it does not exist yet. Idempotent: a second
 * call returns the same path with `created: false`. A registration left behind by a directory
 * deleted by hand is pruned first.
 *
 * Throws `UsageError` for a branch or project name that is not safe as a ref or a path,
 * `AppError` (code `GIT`) when the project has no commits, `NotFoundError` when `baseRef` names
 * no commit, `ConflictError` when the path is taken by something else or the branch is checked
 * out in another worktree, and `ProcessExitError` when git fails otherwise.
 *
 * @example
 * const wt = await ensureWorktree({
 *   projectRoot: "/src/app",
 *   worktreesRoot: "/home/me/.baton/worktrees",
 *   projectName: "app",
 *   branch: branchName(42, "Fix login"),
 * });
 * // wt.path === "/home/me/.baton/worktrees/app/baton/42-fix-login"
 */
export async function ensureWorktree(opts: EnsureWorktreeOptions): Promise<EnsuredWorktree> {
  const { projectRoot, branch } = opts;
  await assertBranchName(branch, projectRoot);
  assertProjectName(opts.projectName);
  const worktreesRoot = resolve(opts.worktreesRoot);
  await mkdir(worktreesRoot, { recursive: true });
  const path = join(await realpath(worktreesRoot), opts.projectName, ...branch.split("/"));

  let entries = await readWorktreeEntries(projectRoot);
  const registered = entries.find((entry) => samePath(entry.path, path));
  if (registered !== undefined && !registered.prunable) {
    if (registered.branch === branch) {
      return { path, branch, baseCommit: await headCommit(path), created: false };
    }
    const onWhat = registered.branch === null ? `a detached HEAD` : `branch ${registered.branch}`;
    throw new ConflictError(
      `worktree ${path} of ${projectRoot} is on ${onWhat}, not ${branch}; remove it with \`git -C ${projectRoot} worktree remove --force ${path}\` and try again`,
    );
  }

  const stale = entries.some(
    (entry) => entry.prunable && (samePath(entry.path, path) || entry.branch === branch),
  );
  if (stale) {
    await runGit(["worktree", "prune"], { cwd: projectRoot });
    entries = await readWorktreeEntries(projectRoot);
  }
  const holder = entries.find((entry) => entry.branch === branch && !entry.prunable);
  if (holder !== undefined) {
    throw new ConflictError(
      `branch ${branch} is already checked out at ${holder.path}, so it cannot also be checked out at ${path}; switch that checkout to another branch or remove that worktree`,
    );
  }
  if (await isNonEmptyDirectoryOrFile(path)) {
    throw new ConflictError(
      `${path} already exists and is not a worktree of ${projectRoot}; move or delete it, then try again`,
    );
  }

  await mkdir(dirname(path), { recursive: true });
  if (await branchExists(projectRoot, branch)) {
    await runGit(["worktree", "add", path, branch], { cwd: projectRoot });
  } else {
    const base = await resolveBase(projectRoot, opts.baseRef);
    // A commit id as the start point: no upstream tracking is set up, and no ref name can be
    // read as an option.
    await runGit(["worktree", "add", "--no-track", "-b", branch, path, base], {
      cwd: projectRoot,
    });
  }
  return { path, branch, baseCommit: await headCommit(path), created: true };
}

/**
 * Removes the worktree at `path` (`git worktree remove --force`: uncommitted work in it is
 * lost), prunes stale registrations, and deletes `deleteBranch` (`git branch -D`) when given.
 * Safe to repeat: a worktree or branch that is already gone is not an error. A directory at
 * `path` that is not a registered worktree of the project is left alone.
 *
 * Throws `ConflictError` when `path` is the project's own checkout (main or linked), and
 * `ProcessExitError` when git refuses (a locked worktree, a branch checked out elsewhere).
 */
export async function removeWorktree(opts: {
  projectRoot: string;
  path: string;
  deleteBranch?: string;
}): Promise<void> {
  const { projectRoot } = opts;
  const path = await canonicalPath(opts.path);
  const entries = await readWorktreeEntries(projectRoot);
  const index = entries.findIndex((entry) => samePath(entry.path, path));
  const entry = entries[index];
  // git lists the main worktree first; the project itself may also be a linked worktree.
  if (index === 0 || samePath(path, (await findGitRoot(projectRoot)) ?? projectRoot)) {
    throw new ConflictError(
      `refusing to remove ${path}: it is the project's own checkout (${projectRoot}), not a Baton worktree`,
    );
  }
  if (entry !== undefined && !entry.prunable) {
    await runGit(["worktree", "remove", "--force", entry.path], { cwd: projectRoot });
  }
  await runGit(["worktree", "prune"], { cwd: projectRoot });
  if (opts.deleteBranch !== undefined) {
    await assertBranchName(opts.deleteBranch, projectRoot);
    if (await branchExists(projectRoot, opts.deleteBranch)) {
      await runGit(["branch", "-D", opts.deleteBranch], { cwd: projectRoot });
    }
  }
}

/**
 * The worktrees of the project at `projectRoot`, main checkout first, as git lists them
 * (including stale ones whose directory is gone; a bare repository's own entry is left out).
 * Reads only.
 */
export async function listWorktrees(projectRoot: string): Promise<ListedWorktree[]> {
  const entries = await readWorktreeEntries(projectRoot);
  return entries
    .filter((entry) => !entry.bare)
    .map(({ path, branch, head }) => ({ path, branch, head }));
}

async function readWorktreeEntries(projectRoot: string): Promise<WorktreeEntry[]> {
  const { stdout } = await runGit(["worktree", "list", "--porcelain"], { cwd: projectRoot });
  return parseWorktreePorcelain(stdout);
}

/** Rejects names git would refuse or read as an option, and any that could climb out of a path. */
async function assertBranchName(branch: string, projectRoot: string): Promise<void> {
  const valid =
    branch !== "" &&
    !branch.startsWith("-") &&
    (await runGit(["check-ref-format", `refs/heads/${branch}`], {
      cwd: projectRoot,
      allowFailure: true,
    }).then((result) => result.exitCode === 0));
  if (!valid) {
    throw new UsageError(
      `"${branch}" is not a valid branch name (see \`git check-ref-format\`); use branchName(n, title), e.g. "baton/42-fix-login"`,
    );
  }
}

function assertProjectName(name: string): void {
  if (name === "" || name === "." || name === ".." || /[/\\\0]/.test(name)) {
    throw new UsageError(
      `project name "${name}" cannot be used as a directory name under the worktrees root; use one path segment without "/" or "\\", e.g. "my-app"`,
    );
  }
}

async function branchExists(projectRoot: string, branch: string): Promise<boolean> {
  const result = await runGit(["show-ref", "--verify", "--quiet", `refs/heads/${branch}`], {
    cwd: projectRoot,
    allowFailure: true,
  });
  return result.exitCode === 0;
}

/** The commit a new branch starts from. */
async function resolveBase(projectRoot: string, baseRef: string | undefined): Promise<string> {
  const ref = baseRef ?? "HEAD";
  const resolved = ref.startsWith("-")
    ? null
    : await runGit(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`], {
        cwd: projectRoot,
        allowFailure: true,
      });
  if (resolved !== null && resolved.exitCode === 0) {
    return resolved.stdout.trim();
  }
  const anyCommit = await runGit(["rev-list", "-n", "1", "--all"], { cwd: projectRoot });
  if (anyCommit.stdout.trim() === "") {
    throw new AppError(
      ErrorCodes.GIT,
      `${projectRoot} has no commits yet; make a first commit before running Baton on it`,
    );
  }
  if (baseRef === undefined) {
    throw new AppError(
      ErrorCodes.GIT,
      `HEAD of ${projectRoot} points at a branch with no commits; check out a branch that has commits, or pass a base ref`,
    );
  }
  throw new NotFoundError(
    `base ref "${baseRef}" names no commit in ${projectRoot}; use a branch, tag or commit id that exists there (e.g. "main")`,
  );
}

function samePath(a: string, b: string): boolean {
  return isAbsolute(a) && resolve(a) === resolve(b);
}

/** `path` with symlinks resolved as far as it exists, so it compares equal to git's record. */
async function canonicalPath(path: string): Promise<string> {
  const absolute = resolve(path);
  try {
    return await realpath(absolute);
  } catch {
    // Missing: resolve the parent instead (it may be missing too; stop at the root).
    const parent = dirname(absolute);
    return parent === absolute ? absolute : join(await canonicalPath(parent), basename(absolute));
  }
}

async function isNonEmptyDirectoryOrFile(path: string): Promise<boolean> {
  try {
    return (await readdir(path)).length > 0;
  } catch (thrown) {
    // ENOENT: nothing there. ENOTDIR: a file is in the way, which git would refuse too.
    return errorCode(thrown) === "ENOTDIR";
  }
}

function errorCode(thrown: unknown): unknown {
  return thrown instanceof Error && "code" in thrown ? thrown.code : undefined;
}
