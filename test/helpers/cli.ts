/**
 * End-to-end helpers for the `baton` CLI, in the shape of changesets' `runCliCommand`
 * (packages/cli/src/commands/__tests__/e2e-utils.ts): the built CLI runs as a real child process
 * (`node bin/baton.js`, argv array, no shell, no TTY, `NO_COLOR=1`) in a real git repository,
 * with a temp `BATON_HOME` and `TMPDIR`. Nothing is mocked.
 *
 * `cleanup()` also ends any process still carrying the project's `BATON_HOME` or `TMPDIR` in its
 * environment (sessions the CLI started detached), and fails when it had to.
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { git, makeGitRepo, makeTempDir } from "./git-repo.js";

/** The repository root of Baton itself. */
export const BATON_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const BIN = join(BATON_ROOT, "bin", "baton.js");
const BUILT_MAIN = join(BATON_ROOT, "dist", "cli", "main.js");

/**
 * Throws a clear error when the CLI is not built: these tests run `dist/` (`npm test` builds
 * first). A build older than its sources only gets a warning, since sources may be edited
 * while tests run; its results may then be those of the old code.
 */
export function assertBuilt(): void {
  if (!existsSync(BUILT_MAIN)) {
    throw new Error(`${BUILT_MAIN} is missing: run \`npm run build\` before the CLI tests`);
  }
  if (checkedStale) {
    return;
  }
  checkedStale = true;
  const newer = newestSource(join(BATON_ROOT, "src"));
  if (newer !== null && newer.mtimeMs > statSync(BUILT_MAIN).mtimeMs) {
    console.warn(`warning: dist/ is older than ${newer.path}; run \`npm run build\` to test it`);
  }
}

let checkedStale = false;

function newestSource(dir: string): { path: string; mtimeMs: number } | null {
  let newest: { path: string; mtimeMs: number } | null = null;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const found = entry.isDirectory()
      ? newestSource(path)
      : entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts")
        ? { path, mtimeMs: statSync(path).mtimeMs }
        : null;
    if (found !== null && (newest === null || found.mtimeMs > newest.mtimeMs)) {
      newest = found;
    }
  }
  return newest;
}

export interface CliResult {
  /** The exit code, or `null` when the process ended on a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface RunOptions {
  /** Working directory; default the project's repository root. */
  cwd?: string;
  /** Variables added to (or, when `undefined`, removed from) the CLI's environment. */
  env?: Record<string, string | undefined>;
  /** Written to the CLI's stdin, which is otherwise empty. */
  input?: string;
  /**
   * Kill the CLI (SIGKILL) after this long; default 20 s, under vitest's 30 s test timeout so
   * the test fails on the result rather than leaving the CLI running. The result then has
   * `signal`.
   */
  timeoutMs?: number;
}

/**
 * Runs `node bin/baton.js ...args` with exactly `env` (no TTY: every stdio is a pipe) and
 * resolves when it has exited. Never rejects for a non-zero exit.
 */
async function runCli(
  args: readonly string[],
  options: { cwd: string; env: Record<string, string>; input?: string; timeoutMs?: number },
): Promise<CliResult> {
  assertBuilt();
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    env: options.env,
    stdio: ["pipe", "pipe", "pipe"],
    shell: false,
  });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
  // A CLI that exits without reading its stdin makes the write fail with EPIPE; that is its
  // business, and the exit code tells the test what happened.
  child.stdin.on("error", () => undefined);
  child.stdin.end(options.input ?? "");
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 20_000);
  try {
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>(
      (done, fail) => {
        child.once("error", fail);
        child.once("close", (c: number | null, s: NodeJS.Signals | null) => done([c, s]));
      },
    );
    return {
      code,
      signal,
      stdout: Buffer.concat(stdout).toString("utf8"),
      stderr: Buffer.concat(stderr).toString("utf8"),
    };
  } finally {
    clearTimeout(timer);
  }
}

export interface CliProject {
  /** The git repository (symlinks resolved), holding `baton.yaml` when one was given. */
  root: string;
  /** `BATON_HOME`; not created until the CLI creates it. */
  home: string;
  /** `TMPDIR` of the CLI and its sessions. */
  tmp: string;
  /** A temp dir of the test's own, removed by `cleanup()`. */
  base: string;
  /** Runs `baton ...args` in the repository (or `options.cwd`). */
  run(args: readonly string[], options?: RunOptions): Promise<CliResult>;
  /** Like `run`, expects exit 0 and returns stdout parsed as JSON (`unknown`; check its shape). */
  json(args: readonly string[], options?: RunOptions): Promise<unknown>;
  /** Writes (and with `commit`, commits) files of the repository. */
  write(files: Record<string, string>, options?: { commit?: boolean }): Promise<void>;
  /** Ends leftover processes of this project, removes every temp dir; throws if it had to kill. */
  cleanup(): Promise<void>;
}

export interface CliProjectOptions {
  /** `baton.yaml` text; none is written when omitted. */
  config?: string;
  /** Other files (prompts, agent scripts), committed with the config. */
  files?: Record<string, string>;
}

/**
 * A real git repository with `baton.yaml` and `files` committed, and an environment for the CLI:
 * `BATON_HOME` and `TMPDIR` in a temp dir, `HOME` a temp dir (no user git config), `NO_COLOR=1`,
 * no `BATON_*` variables from the test's own environment.
 *
 * @example
 * const project = await makeCliProject({ config, files: { "agents/work.sh": "..." } });
 * onTestFinished(() => project.cleanup());
 * const result = await project.run(["run", "fix the bug"]);
 */
export async function makeCliProject(options: CliProjectOptions = {}): Promise<CliProject> {
  assertBuilt();
  const base = await makeTempDir("baton-cli-");
  const files: Record<string, string> = {
    "README.md": "# test project\n",
    ...(options.config === undefined ? {} : { "baton.yaml": options.config }),
    ...(options.files ?? {}),
  };
  let repo: Awaited<ReturnType<typeof makeGitRepo>>;
  try {
    repo = await makeGitRepo({ files });
  } catch (thrown) {
    await rm(base, { recursive: true, force: true });
    throw thrown;
  }
  const home = join(base, "baton-home");
  const tmp = join(base, "tmp");
  const userHome = join(base, "user");
  await mkdir(tmp);
  await mkdir(userHome);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: userHome,
    LANG: "C.UTF-8",
    TMPDIR: tmp,
    NO_COLOR: "1",
    BATON_HOME: home,
    BATON_LOG_LEVEL: "warn",
  };
  const envFor = (extra: RunOptions["env"]): Record<string, string> => {
    const merged: Record<string, string> = { ...env };
    for (const [name, value] of Object.entries(extra ?? {})) {
      if (value === undefined) {
        delete merged[name];
      } else {
        merged[name] = value;
      }
    }
    return merged;
  };
  const run: CliProject["run"] = (args, o = {}) =>
    runCli(args, {
      cwd: o.cwd ?? repo.root,
      env: envFor(o.env),
      ...(o.input === undefined ? {} : { input: o.input }),
      ...(o.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }),
    });
  return {
    root: repo.root,
    home,
    tmp,
    base,
    run,
    json: async (args, o) => {
      const result = await run(args, o);
      if (result.code !== 0) {
        throw new Error(
          `baton ${args.join(" ")} exited ${result.code ?? result.signal}:\n${result.stdout}${result.stderr}`,
        );
      }
      try {
        return JSON.parse(result.stdout) as unknown;
      } catch (cause) {
        throw new Error(`baton ${args.join(" ")} printed no JSON:\n${result.stdout}`, { cause });
      }
    },
    write: async (written, o = {}) => {
      for (const [path, content] of Object.entries(written)) {
        await mkdir(dirname(join(repo.root, path)), { recursive: true });
        await writeFile(join(repo.root, path), content);
      }
      if (o.commit === true) {
        await git(repo.root, ["add", "-A"]);
        await git(repo.root, ["commit", "-q", "-m", "test change"]);
      }
    },
    cleanup: async () => {
      // Sessions carry BATON_HOME; those of `baton demo` (its own BATON_HOME) carry TMPDIR.
      const killed = await killProcessesWithEnv([`BATON_HOME=${home}`, `TMPDIR=${tmp}`]);
      await repo.cleanup();
      await rm(base, { recursive: true, force: true });
      if (killed.length > 0) {
        throw new Error(
          `the test left ${killed.length} process(es) of its BATON_HOME or TMPDIR running: ${killed.join("; ")}`,
        );
      }
    },
  };
}

/** Pids (with their command lines) of live processes whose environment holds any of `entries`. */
export function processesWithEnv(...entries: string[]): { pid: number; command: string }[] {
  const found: { pid: number; command: string }[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) {
      continue;
    }
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) {
        continue;
      }
      const environ = readFileSync(`/proc/${name}/environ`, "utf8").split("\0");
      if (entries.some((entry) => environ.includes(entry))) {
        const command = readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0").join(" ");
        found.push({ pid: Number(name), command: command.trim() });
      }
    } catch {
      // Gone while we looked, or not ours to read: not a process of this test.
    }
  }
  return found;
}

/** Waits briefly for such processes to end, then SIGKILLs the rest; returns what it killed. */
async function killProcessesWithEnv(entries: string[]): Promise<string[]> {
  let left = processesWithEnv(...entries);
  for (let waited = 0; left.length > 0 && waited < 2000; waited += 100) {
    await delay(100);
    left = processesWithEnv(...entries);
  }
  for (const { pid } of left) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  return left.map((p) => `${p.pid} ${p.command}`);
}

/** Is process `pid` alive (and not a zombie)? */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return false;
  }
}

/** Polls `check` every 100 ms until it returns a value other than `undefined`, or throws. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await delay(100);
  }
}

/** The escape character every ANSI sequence (colour, cursor movement) starts with. */
export const ESC = "\u001b";
