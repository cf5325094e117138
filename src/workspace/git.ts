import { spawn } from "node:child_process";
import { stat } from "node:fs/promises";
import { AppError, ErrorCodes, ProcessExitError } from "../core/errors.js";
import { coerceError } from "../lib/coerce-error.js";

/** How much of git's stderr is kept for results and errors, in bytes. */
const STDERR_TAIL_BYTES = 8 * 1024;

/**
 * Variables that point git at a repository, work tree or index other than the one in `cwd`.
 * Git sets some of them for hooks, so Baton started from a hook would otherwise act on the
 * hook's repository instead of the one it was asked about.
 */
const REPOSITORY_ENV = [
  "GIT_DIR",
  "GIT_WORK_TREE",
  "GIT_INDEX_FILE",
  "GIT_COMMON_DIR",
  "GIT_OBJECT_DIRECTORY",
  "GIT_ALTERNATE_OBJECT_DIRECTORIES",
  "GIT_NAMESPACE",
  "GIT_PREFIX",
] as const;

export interface RunGitOptions {
  /** The directory git runs in; it selects the repository. */
  cwd: string;
  /** Extra variables, added to Baton's own environment (minus the repository variables). */
  env?: Record<string, string>;
  /** Written to git's stdin, which is closed afterwards. Without it stdin is empty. */
  input?: string;
  /** Return a non-zero exit as a result instead of throwing. */
  allowFailure?: boolean;
}

export interface GitResult {
  /** Everything git wrote to stdout. */
  stdout: string;
  /** The last 8 KiB of what git wrote to stderr. */
  stderr: string;
  exitCode: number;
}

/**
 * Runs `git <args>` in `options.cwd` without a shell: every argument reaches git literally.
 * Git never prompts (`GIT_TERMINAL_PROMPT=0`, stdin is empty unless `input` is given), and the
 * inherited `GIT_DIR`, `GIT_WORK_TREE`, `GIT_INDEX_FILE` and similar are dropped so `cwd` alone
 * decides the repository.
 *
 * Throws `ProcessExitError` when git exits non-zero (unless `allowFailure`) or dies on a
 * signal; its message names the command, the directory and git's own error line. Throws an
 * `AppError` with code `GIT` when git cannot be started (not installed, `cwd` missing).
 *
 * @example
 * const { stdout } = await runGit(["rev-parse", "HEAD"], { cwd: worktree });
 */
export async function runGit(args: string[], options: RunGitOptions): Promise<GitResult> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of REPOSITORY_ENV) {
    delete env[name];
  }
  Object.assign(env, options.env, { GIT_TERMINAL_PROMPT: "0" });

  const child = spawn("git", args, {
    cwd: options.cwd,
    env,
    shell: false,
    stdio: "pipe",
  });

  const stdoutChunks: Buffer[] = [];
  let stderrTail = Buffer.alloc(0);
  child.stdout.on("data", (chunk: Buffer) => stdoutChunks.push(chunk));
  child.stderr.on("data", (chunk: Buffer) => {
    stderrTail = Buffer.concat([stderrTail, chunk]);
    if (stderrTail.length > STDERR_TAIL_BYTES) {
      stderrTail = stderrTail.subarray(stderrTail.length - STDERR_TAIL_BYTES);
    }
  });
  // git may exit before reading all of its input (EPIPE); its exit code tells what happened.
  child.stdin.on("error", () => undefined);
  child.stdin.end(options.input ?? "");

  const { code, signal } = await new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
  }>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (exitCode, exitSignal) => resolve({ code: exitCode, signal: exitSignal }));
  }).catch(async (thrown: unknown) => {
    throw await spawnFailure(args, options.cwd, coerceError(thrown));
  });

  const stdout = Buffer.concat(stdoutChunks).toString("utf8");
  const stderr = stderrTail.toString("utf8");
  if (signal !== null || code === null) {
    throw new ProcessExitError(
      `${describeCommand(args)} in ${options.cwd} was killed by ${signal ?? "an unknown signal"}`,
      { exitCode: null, signal, stderrTail: stderr },
    );
  }
  if (code !== 0 && options.allowFailure !== true) {
    throw new ProcessExitError(
      `${describeCommand(args)} failed in ${options.cwd} (exit ${code}): ${gitErrorLine(stderr)}`,
      { exitCode: code, signal: null, stderrTail: stderr },
    );
  }
  return { stdout, stderr, exitCode: code };
}

/**
 * The top directory of the git work tree that contains `dir` (a linked worktree's own root
 * for a worktree), with symlinks resolved; `null` when `dir` is not inside a work tree or does
 * not exist. Throws only when git itself cannot be run.
 */
export async function findGitRoot(dir: string): Promise<string | null> {
  if (!(await isDirectory(dir))) {
    return null;
  }
  const result = await runGit(["rev-parse", "--show-toplevel"], { cwd: dir, allowFailure: true });
  const root = result.stdout.trim();
  return result.exitCode === 0 && root !== "" ? root : null;
}

async function spawnFailure(args: string[], cwd: string, cause: Error): Promise<AppError> {
  if (!(await isDirectory(cwd))) {
    return new AppError(
      ErrorCodes.GIT,
      `cannot run ${describeCommand(args)}: the directory ${cwd} does not exist; check the path (a worktree may have been deleted by hand)`,
      { cause },
    );
  }
  return new AppError(
    ErrorCodes.GIT,
    `cannot run ${describeCommand(args)} in ${cwd}: ${cause.message}; install git and make sure it is on PATH`,
    { cause },
  );
}

async function isDirectory(dir: string): Promise<boolean> {
  try {
    return (await stat(dir)).isDirectory();
  } catch {
    // Missing or unreadable: either way git cannot run there.
    return false;
  }
}

/**
 * `git worktree add -b "a b" …`: the command as a reader would type it, arguments that need
 * quoting JSON-quoted and long ones (commit messages) shortened.
 */
function describeCommand(args: readonly string[]): string {
  const shown = args.map((arg) => {
    const short = arg.length > 60 ? `${arg.slice(0, 57)}...` : arg;
    return /^[\w@%+=:,./^~-]+$/.test(short) ? short : JSON.stringify(short);
  });
  return ["git", ...shown].join(" ");
}

/**
 * Git's own explanation in its stderr: the last `fatal:`/`error:` line, else the last non-empty
 * line, else a note that it said nothing.
 */
function gitErrorLine(stderr: string): string {
  const lines = stderr
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "");
  const explained = lines.filter((line) => /^(fatal|error):/.test(line));
  return explained.at(-1) ?? lines.at(-1) ?? "git printed no error message";
}
