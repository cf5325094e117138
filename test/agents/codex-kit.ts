/**
 * Runs the real Codex CLI (the `@openai/codex` devDependency) the way Baton starts it: through
 * the `codex` adapter's invocation, as a `process` runtime session with the prompt file on stdin,
 * in the environment `sessionEnvironment` builds, offline against a scripted OpenAI server. HOME
 * and CODEX_HOME are temp dirs; `$CODEX_HOME/config.toml` points Codex at the server as a custom
 * provider. The session log (stdout and stderr, as the engine keeps it) is parsed with a fresh
 * adapter parser, so what tests see is what the engine would see reading the same file.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { AgentEvent, Invocation, InvocationInput } from "../../src/agents/adapter.js";
import { codexAdapter } from "../../src/agents/codex-adapter.js";
import type { AgentDef } from "../../src/core/pipeline-def.js";
import { sessionEnvironment } from "../../src/engine/environment.js";
import type { ExitRecord } from "../../src/sessions/runtime.js";
import { git, makeGitRepo, makeTempDir } from "../helpers/git-repo.js";
import type { OpenAIServer } from "../helpers/openai-server.js";
import { createSessionKit } from "../sessions/session-kit.js";

/** A model Codex 0.169.0 knows: it then offers `apply_patch` and prints no "metadata" notice. */
export const CODEX_MODEL = "gpt-5.5";
const KEY_VARIABLE = "BATON_TEST_OPENAI_KEY";

/** The directory holding the `codex` executable of the installed devDependency. */
export function codexBinDir(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve("@openai/codex/package.json");
  const bin = join(dirname(pkg), "..", "..", ".bin");
  if (!existsSync(join(bin, "codex"))) {
    throw new Error(`no codex executable in ${bin}; run npm ci to install @openai/codex`);
  }
  return bin;
}

export interface CodexHomeOptions {
  /** `stream_max_retries` of the test provider: Codex's own retries of a 429 with retry-after. */
  streamMaxRetries?: number;
  /** `request_max_retries` of the test provider: Codex's own retries of 5xx answers. */
  requestMaxRetries?: number;
  /** Leave the key variable unset, as a misconfigured agent would. */
  withoutKey?: boolean;
}

export interface CodexHome {
  /** HOME for the session. */
  home: string;
  /** CODEX_HOME for the session, with config.toml. */
  codexHome: string;
  /** The agent, with `env` carrying HOME, CODEX_HOME and the API key. */
  agent: AgentDef;
  cleanup(): Promise<void>;
}

/** A temp HOME and CODEX_HOME whose config.toml points Codex at `server`. */
export async function makeCodexHome(
  server: OpenAIServer,
  options: CodexHomeOptions = {},
): Promise<CodexHome> {
  const home = await makeTempDir("baton-codex-home-");
  const codexHome = join(home, ".codex");
  await mkdir(codexHome);
  writeFileSync(
    join(codexHome, "config.toml"),
    [
      `model = "${CODEX_MODEL}"`,
      `model_provider = "baton-test"`,
      "",
      "[model_providers.baton-test]",
      `name = "Baton test server"`,
      `base_url = "${server.url}"`,
      `wire_api = "responses"`,
      `env_key = "${KEY_VARIABLE}"`,
      `request_max_retries = ${options.requestMaxRetries ?? 0}`,
      `stream_max_retries = ${options.streamMaxRetries ?? 0}`,
      "",
    ].join("\n"),
  );
  const agent: AgentDef = {
    name: "codex",
    adapter: "codex",
    command: null,
    model: null,
    env: {
      HOME: home,
      CODEX_HOME: codexHome,
      ...(options.withoutKey === true ? {} : { [KEY_VARIABLE]: "sk-test-key" }),
    },
    passEnv: [],
    runtime: null,
    fallback: null,
    sandbox: true,
    prices: null,
  };
  return { home, codexHome, agent, cleanup: () => rm(home, { recursive: true, force: true }) };
}

export interface Workspace {
  /** The project's own checkout (the agent must not write here). */
  project: string;
  /** A linked git worktree of it on branch `baton/task-1`, where the agent works. */
  worktree: string;
  cleanup(): Promise<void>;
}

/** A git repo with a README and a linked worktree beside it, as the engine lays them out. */
export async function makeWorkspace(): Promise<Workspace> {
  const repo = await makeGitRepo({ files: { "README.md": "# demo\n" } });
  const outer = await makeTempDir("baton-codex-wt-");
  const worktree = join(outer, "task-1");
  await git(repo.root, ["worktree", "add", "--quiet", "-b", "baton/task-1", worktree]);
  return {
    project: repo.root,
    worktree,
    cleanup: async () => {
      await repo.cleanup();
      await rm(outer, { recursive: true, force: true });
    },
  };
}

export interface CodexRun {
  invocation: Invocation;
  exit: ExitRecord | null;
  /** It outlived `timeoutMs` and was killed. */
  timedOut: boolean;
  /** The session log: Codex's stdout and stderr. */
  log: string;
  events: AgentEvent[];
}

export interface CodexRunOptions {
  codex: CodexHome;
  worktree: string;
  prompt: string;
  forbiddenDirs: string[];
  model?: string | null;
  timeoutMs?: number;
}

/** The adapter's invocation for a test job. */
export function codexInvocation(
  overrides: Partial<InvocationInput> & Pick<InvocationInput, "agent" | "worktree">,
): Invocation {
  return codexAdapter.invocation({
    promptFile: join(overrides.worktree, "..", "prompt.md"),
    prompt: "",
    taskNumber: 1,
    stageId: "implement",
    model: null,
    forbiddenDirs: [],
    interactive: false,
    oneShot: false,
    ...overrides,
  });
}

/** Parses a session log as the engine would, with a fresh parser. */
export function parseLog(log: string): AgentEvent[] {
  const parser = codexAdapter.createParser();
  return parser === null ? [] : log.split("\n").flatMap((line) => parser.line(line));
}

/**
 * Runs one `codex exec` job to its end as a `process` runtime session and returns its exit, log
 * and events. Kills the session if it outlives `timeoutMs`, and always cleans up.
 */
export async function runCodex(options: CodexRunOptions): Promise<CodexRun> {
  const kit = await createSessionKit();
  try {
    const promptFile = join(kit.root, "prompt.md");
    writeFileSync(promptFile, options.prompt);
    const invocation = codexInvocation({
      agent: options.codex.agent,
      worktree: options.worktree,
      prompt: options.prompt,
      promptFile,
      model: options.model === undefined ? CODEX_MODEL : options.model,
      forbiddenDirs: options.forbiddenDirs,
    });
    const env = sessionEnvironment({
      base: process.env,
      passEnv: options.codex.agent.passEnv,
      agentEnv: options.codex.agent.env,
      adapterEnv: invocation.env,
      job: { BATON_JOB_ID: "job_test" },
      pathPrefix: [codexBinDir()],
    });
    const handle = await kit.start({
      argv: invocation.argv,
      cwd: options.worktree,
      env,
      stdin: invocation.stdin === "prompt" ? { kind: "file", path: promptFile } : { kind: "null" },
    });
    let exit: ExitRecord | null;
    let timedOut = false;
    try {
      exit = await kit.runtime.waitForExit(
        handle,
        AbortSignal.timeout(options.timeoutMs ?? 15_000),
      );
    } catch {
      // Still running at the deadline: stop it as the engine would (SIGTERM, then SIGKILL).
      timedOut = true;
      await kit.runtime.kill(handle, 2_000);
      exit = await kit.runtime.waitForExit(handle, AbortSignal.timeout(5_000));
    }
    const log = readFileSync(handle.logPath, "utf8");
    return { invocation, exit, timedOut, log, events: parseLog(log) };
  } finally {
    await kit.cleanup();
  }
}
