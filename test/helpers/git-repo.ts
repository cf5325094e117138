/**
 * Real git repositories in temp dirs for tests, in the shape of changesets' `gitdir` test util
 * (scripts/test-utils/src/index.ts): a local identity, no signing, no auto gc, `main` as the
 * branch, optional files committed as the first commit.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

export interface GitRepo {
  /** Absolute path of the repository's work tree, symlinks resolved. */
  root: string;
  /** Deletes the repository and everything in it. */
  cleanup(): Promise<void>;
}

export interface MakeGitRepoOptions {
  /** Files to write, by posix path relative to the root; parent directories are created. */
  files?: Record<string, string>;
  /** Make a first commit of `files` (empty when there are none). Default true. */
  commit?: boolean;
  /**
   * Configure a local `user.name`/`user.email`. Default true. With false the first commit is
   * made with a one-off identity and the repository keeps none of its own.
   */
  identity?: boolean;
}

/** The test identity configured in each repo (unless `identity: false`). */
export const TEST_IDENTITY = { name: "Baton Test", email: "test@baton.invalid" } as const;

/**
 * Creates a real git repository in a fresh temp dir.
 *
 * @example
 * const repo = await makeGitRepo({ files: { "README.md": "# hi\n" } });
 * try { ... } finally { await repo.cleanup(); }
 */
export async function makeGitRepo(options: MakeGitRepoOptions = {}): Promise<GitRepo> {
  const root = await makeTempDir("baton-repo-");
  const cleanup = () => rm(root, { recursive: true, force: true });
  try {
    await git(root, ["-c", "init.defaultBranch=main", "init", "--quiet"]);
    // Older gits ignore init.defaultBranch; make sure the unborn branch is main either way.
    await git(root, ["symbolic-ref", "HEAD", "refs/heads/main"]);
    const config: [string, string][] = [
      ["commit.gpgsign", "false"],
      ["tag.gpgsign", "false"],
      ["tag.forceSignAnnotated", "false"],
      ["gc.auto", "0"],
      ["init.defaultBranch", "main"],
      ["core.autocrlf", "false"],
    ];
    if (options.identity !== false) {
      config.push(["user.name", TEST_IDENTITY.name], ["user.email", TEST_IDENTITY.email]);
    }
    for (const [key, value] of config) {
      await git(root, ["config", key, value]);
    }
    for (const [file, content] of Object.entries(options.files ?? {})) {
      const path = join(root, file);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, content);
    }
    if (options.commit !== false) {
      await git(root, ["add", "-A"]);
      const oneOff =
        options.identity === false
          ? ["-c", `user.name=${TEST_IDENTITY.name}`, "-c", `user.email=${TEST_IDENTITY.email}`]
          : [];
      await git(root, [...oneOff, "commit", "--quiet", "--allow-empty", "-m", "initial commit"]);
    }
  } catch (thrown) {
    await cleanup();
    throw thrown;
  }
  return { root, cleanup };
}

/** A fresh empty temp dir (symlinks resolved); the caller removes it. */
export async function makeTempDir(prefix: string): Promise<string> {
  return realpath(await mkdtemp(join(tmpdir(), prefix)));
}

/**
 * Runs git in `cwd` and returns its stdout, throwing with git's stderr on failure. For test
 * setup and assertions only; the code under test uses `runGit`.
 */
export async function git(
  cwd: string,
  args: string[],
  env: Record<string, string | undefined> = {},
): Promise<string> {
  const merged: NodeJS.ProcessEnv = { ...process.env, ...env, GIT_TERMINAL_PROMPT: "0" };
  for (const name of ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"]) {
    delete merged[name];
  }
  const { stdout } = await execFileAsync("git", args, { cwd, env: merged });
  return stdout;
}
