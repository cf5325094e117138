import { AppError, ErrorCodes } from "../core/errors.js";
import { runGit } from "./git.js";

/** The identity used for commits in a repository where git has none configured. */
const FALLBACK_IDENTITY = { "user.name": "Baton", "user.email": "baton@localhost" } as const;

export interface CommitResult {
  /** False when there was nothing to commit; no commit was made then. */
  committed: boolean;
  /** The new commit, or `null` when nothing was committed. */
  sha: string | null;
}

/**
 * Stages everything in `worktree` (`git add -A`: new, modified and deleted files, honouring
 * `.gitignore`) and commits it with `message`, byte for byte: the message is one argv element
 * (never a shell string) and `--cleanup=verbatim` keeps its blank lines and `#` lines. Hooks
 * are skipped (`--no-verify`) so a user's pre-commit hook cannot block agent work. When git
 * has no `user.name` or `user.email` for this repository (local, global or system), the
 * missing one is supplied as `Baton <baton@localhost>` for this commit only; nothing is
 * written to any config.
 *
 * Returns `{ committed: false, sha: null }` when nothing is staged. Throws `ProcessExitError`
 * when git fails (a merge in progress, a signing key that is not available…).
 *
 * @example
 * const { committed, sha } = await commitAll({ worktree, message: "baton: implement #42" });
 */
export async function commitAll(opts: {
  worktree: string;
  message: string;
}): Promise<CommitResult> {
  const cwd = opts.worktree;
  await runGit(["add", "-A"], { cwd });
  // `diff --cached --quiet` exits 1 when something is staged, 0 when the index matches HEAD.
  const staged = await runGit(["diff", "--cached", "--quiet"], { cwd, allowFailure: true });
  if (staged.exitCode === 0) {
    return { committed: false, sha: null };
  }
  if (staged.exitCode !== 1) {
    // Any other code is a real failure; rerun without allowFailure to get the error.
    await runGit(["diff", "--cached", "--quiet"], { cwd });
  }
  const identity = await missingIdentityArgs(cwd);
  await runGit(
    [
      ...identity,
      "commit",
      "--no-verify",
      // Signing could wait on a passphrase prompt nobody sees; the user signs when they merge.
      "--no-gpg-sign",
      "--allow-empty-message",
      "--cleanup=verbatim",
      `--message=${opts.message}`,
    ],
    { cwd },
  );
  return { committed: true, sha: await headCommit(cwd) };
}

/**
 * The commit `HEAD` points at in `dir` (full 40- or 64-hex id). Throws an `AppError` (code
 * `GIT`) when the repository has no commits yet, `ProcessExitError` when `dir` is not a repository.
 */
export async function headCommit(dir: string): Promise<string> {
  const result = await runGit(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], {
    cwd: dir,
    allowFailure: true,
  });
  if (result.exitCode === 0) {
    return result.stdout.trim();
  }
  // Tell "not a repository" (a real git error) from "no commits yet".
  await runGit(["rev-parse", "--git-dir"], { cwd: dir });
  throw new AppError(
    ErrorCodes.GIT,
    `${dir} has no commits yet; make a first commit before running Baton on it`,
  );
}

/**
 * True when `dir` has staged, unstaged or untracked (not ignored) changes. Reads only: it takes
 * no optional locks, so it is safe while an agent works in the same worktree.
 */
export async function hasUncommittedChanges(dir: string): Promise<boolean> {
  const { stdout } = await runGit(
    ["--no-optional-locks", "status", "--porcelain", "--untracked-files=all"],
    { cwd: dir },
  );
  return stdout.trim() !== "";
}

/** `-c user.name=Baton` and/or `-c user.email=…` for whichever git has no value for. */
async function missingIdentityArgs(cwd: string): Promise<string[]> {
  const args: string[] = [];
  for (const [key, value] of Object.entries(FALLBACK_IDENTITY)) {
    const configured = await runGit(["config", "--get", key], { cwd, allowFailure: true });
    if (configured.exitCode !== 0 || configured.stdout.trim() === "") {
      args.push("-c", `${key}=${value}`);
    }
  }
  return args;
}
