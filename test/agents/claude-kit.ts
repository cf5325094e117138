/**
 * Runs the real Claude Code CLI (the `@anthropic-ai/claude-code` devDependency) the way Baton
 * starts it: through the `claude` adapter's invocation, as a `process` runtime session with a
 * stdin FIFO, offline against a scripted Anthropic server, with HOME in a temp dir. The session
 * log is parsed with a fresh adapter parser on every look, so what tests see is what the engine
 * would see reading the same file.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import type { AgentEvent, Invocation, InvocationInput } from "../../src/agents/adapter.js";
import { claudeAdapter } from "../../src/agents/claude-adapter.js";
import type { AgentDef } from "../../src/core/pipeline-def.js";
import type { ExitRecord, SessionHandle } from "../../src/sessions/runtime.js";
import { createSessionKit, type SessionKit } from "../sessions/session-kit.js";
import type { AnthropicServer } from "../helpers/anthropic-server.js";

/** The directory holding the `claude` executable of the installed devDependency. */
export function claudeBinDir(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve("@anthropic-ai/claude-code/package.json");
  const bin = join(dirname(pkg), "..", "..", ".bin");
  if (!existsSync(join(bin, "claude"))) {
    throw new Error(
      `no claude executable in ${bin}; run npm ci to install @anthropic-ai/claude-code`,
    );
  }
  return bin;
}

export const CLAUDE_AGENT: AgentDef = {
  name: "claude",
  adapter: "claude",
  command: null,
  model: null,
  env: {},
  passEnv: [],
  runtime: null,
  fallback: null,
  sandbox: true,
  prices: null,
};

/** The environment a test session runs with: offline, a private HOME, the scripted server. */
export function claudeEnv(
  server: AnthropicServer,
  home: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    PATH: `${claudeBinDir()}:/usr/local/bin:/usr/bin:/bin`,
    HOME: home,
    ANTHROPIC_BASE_URL: server.url,
    ANTHROPIC_API_KEY: "sk-test",
    ...extra,
  };
}

export function claudeInvocation(
  overrides: Partial<InvocationInput> & Pick<InvocationInput, "worktree" | "prompt">,
): Invocation {
  return claudeAdapter.invocation({
    agent: CLAUDE_AGENT,
    promptFile: join(overrides.worktree, "..", "prompt.md"),
    taskNumber: 1,
    stageId: "implement",
    model: null,
    forbiddenDirs: [],
    interactive: false,
    oneShot: false,
    ...overrides,
  });
}

export interface ClaudeSession {
  kit: SessionKit;
  handle: SessionHandle;
  invocation: Invocation;
  /** Every event the log holds so far, parsed from the start with a fresh parser. */
  events(): AgentEvent[];
  /** Waits until `count` events match `test`, or throws after `timeoutMs` with the log. */
  waitFor(
    what: string,
    test: (event: AgentEvent) => boolean,
    options?: { count?: number; timeoutMs?: number },
  ): Promise<AgentEvent[]>;
  log(): string;
  /** Writes `message` to the session as a steering message. */
  steer(message: string): Promise<void>;
}

export interface ClaudeSessionOptions {
  server: AnthropicServer;
  worktree: string;
  home: string;
  prompt: string;
  forbiddenDirs?: string[];
  env?: Record<string, string>;
}

/** Starts a stream-json session as the engine would and sends the prompt as its first message. */
export async function startClaudeSession(options: ClaudeSessionOptions): Promise<ClaudeSession> {
  const kit = await createSessionKit();
  const invocation = claudeInvocation({
    worktree: options.worktree,
    prompt: options.prompt,
    forbiddenDirs: options.forbiddenDirs ?? [],
  });
  const handle = await kit.start({
    argv: invocation.argv,
    cwd: options.worktree,
    env: claudeEnv(options.server, options.home, options.env),
    stdin: { kind: "fifo" },
  });
  const log = (): string =>
    existsSync(handle.logPath) ? readFileSync(handle.logPath, "utf8") : "";
  const events = (): AgentEvent[] => {
    const parser = claudeAdapter.createParser();
    return parser === null
      ? []
      : log()
          .split("\n")
          .flatMap((line) => parser.line(line));
  };
  const steer = async (message: string): Promise<void> => {
    const result = await kit.runtime.steer(handle, message);
    if (!result.delivered) {
      throw new Error(`steering failed: ${result.reason}`);
    }
  };
  if (invocation.initialInput !== null) {
    await steer(invocation.initialInput);
  }
  return {
    kit,
    handle,
    invocation,
    events,
    log,
    steer: (message) => steer(claudeAdapter.steerText(message)),
    async waitFor(what, test, { count = 1, timeoutMs = 15_000 } = {}) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const matching = events().filter(test);
        if (matching.length >= count) {
          return matching;
        }
        if (Date.now() > deadline) {
          throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; log:\n${log()}`);
        }
        await delay(25);
      }
    },
  };
}

export interface OneShotRun {
  exit: ExitRecord | null;
  log: string;
  events: AgentEvent[];
}

/**
 * Runs a one-shot invocation (prompt as text on stdin, from the prompt file) to its end, as a
 * judge gate would, and returns its exit, log and events. Kills the session if it outlives
 * `timeoutMs`.
 */
export async function runClaudeOnce(
  options: Omit<ClaudeSessionOptions, "forbiddenDirs">,
  timeoutMs = 15_000,
): Promise<OneShotRun> {
  const kit = await createSessionKit();
  try {
    const promptFile = join(kit.root, "prompt.md");
    writeFileSync(promptFile, options.prompt);
    const invocation = claudeInvocation({
      worktree: options.worktree,
      prompt: options.prompt,
      promptFile,
      oneShot: true,
    });
    const handle = await kit.start({
      argv: invocation.argv,
      cwd: options.worktree,
      env: claudeEnv(options.server, options.home, options.env),
      stdin: invocation.stdin === "prompt" ? { kind: "file", path: promptFile } : { kind: "null" },
    });
    const exit = await kit.runtime.waitForExit(handle, AbortSignal.timeout(timeoutMs));
    const log = readFileSync(handle.logPath, "utf8");
    const parser = claudeAdapter.createParser();
    const events = parser === null ? [] : log.split("\n").flatMap((line) => parser.line(line));
    return { exit, log, events };
  } finally {
    await kit.cleanup();
  }
}

/** A fresh temp dir for Claude Code's HOME (its settings, session files, caches). */
export async function makeClaudeHome(): Promise<{ path: string; cleanup(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), "baton-claude-home-"));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}
