/**
 * The `claude` adapter's interactive invocation against the real Claude Code terminal UI, in a
 * session of the tmux runtime on a private tmux server, offline against a scripted Anthropic
 * server: the prompt given as an argument is submitted, the model's tool call runs, and the
 * hooks the adapter passes with `--settings` report each turn's start and end by running
 * `baton session event` (a fake `baton` here) in the session's environment.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  lastUserText,
  say,
  startAnthropicServer,
  toolResults,
  useTool,
} from "../helpers/anthropic-server.js";
import { createTmuxKit } from "../sessions/tmux-kit.js";
import { claudeEnv, claudeInvocation, makeClaudeHome } from "./claude-kit.js";
import { makeWorkspace } from "./codex-kit.js";
import { makeFakeBaton, seedClaudeFirstRun, signalCall, waitFor } from "./interactive-kit.js";

const API_KEY = "sk-ant-test-0123456789abcdefghijklmnop";
/** Short, so the test sees the `idle_prompt` notification (Claude Code's default is 60 s). */
const IDLE_NOTIFICATION_MS = 3_000;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup();
  }
});

describe("claude adapter: the terminal UI in a tmux session", () => {
  it("runs the prompt and reports each turn's start and end through its hooks", async () => {
    const ws = await makeWorkspace();
    cleanups.push(() => ws.cleanup());
    const home = await makeClaudeHome();
    cleanups.push(() => home.cleanup());
    const server = await startAnthropicServer({
      script: [
        useTool(
          "Bash",
          { command: "echo done > done.txt", description: "Write done.txt" },
          { text: "Writing it." },
        ),
        say("I wrote done.txt."),
        say("Bye."),
      ],
    });
    cleanups.push(() => server.close());
    const tmux = await createTmuxKit();
    cleanups.push(() => tmux.cleanup());
    const baton = makeFakeBaton(tmux.root);
    // Trust the folder holding the worktrees, as a user would once for all of Baton's worktrees.
    seedClaudeFirstRun(home.path, {
      trustedDir: join(ws.worktree, ".."),
      apiKey: API_KEY,
      idleNotificationMs: IDLE_NOTIFICATION_MS,
    });

    const invocation = claudeInvocation({
      worktree: ws.worktree,
      prompt: "Write done.txt, then tell me.",
      interactive: true,
    });
    expect(invocation.stdin).toBe("null");
    expect(invocation.initialInput).toBeNull();
    const env = claudeEnv(server, home.path, {
      ANTHROPIC_API_KEY: API_KEY,
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    });
    const handle = await tmux.start({
      argv: invocation.argv,
      cwd: ws.worktree,
      env: { ...env, PATH: `${baton.binDir}:${env.PATH}` },
      stdin: { kind: "null" },
    });
    const screen = async () =>
      `calls: ${JSON.stringify(baton.calls())}\nscreen:\n${await tmux.runtime.peek(handle, 50)}`;
    const active = signalCall("active", handle.name);
    const idle = signalCall("idle", handle.name);

    await waitFor("the first turn ended", () => baton.calls().length >= 2, screen);
    expect(baton.calls()).toEqual([active, idle]);
    expect(readFileSync(join(ws.worktree, "done.txt"), "utf8")).toBe("done\n");
    const [first, second] = server.mainRequests();
    expect(first === undefined ? "" : lastUserText(first)).toContain(
      "Write done.txt, then tell me.",
    );
    expect(second === undefined ? [] : toolResults(second)).toEqual([
      expect.objectContaining({ isError: false }),
    ]);

    // Still waiting for input a while later: the idle_prompt notification says so once more.
    await waitFor("the idle prompt notification", () => baton.calls().length >= 3, screen);
    expect(baton.calls()).toEqual([active, idle, idle]);

    // A steering message typed into the terminal (plain text) is a new turn with its own hooks.
    expect(await tmux.runtime.steer(handle, "Now say bye.")).toEqual({ delivered: true });
    await waitFor("the second turn ended", () => baton.calls().length >= 5, screen);
    expect(baton.calls().slice(3, 5)).toEqual([active, idle]);
    const last = server.mainRequests().at(-1);
    expect(last === undefined ? "" : lastUserText(last)).toContain("Now say bye.");
    expect(server.exhausted).toBe(0);
    expect((await tmux.runtime.observe(handle)).alive).toBe(true);
  }, 60_000);
});
