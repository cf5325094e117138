/**
 * The `codex` adapter's interactive invocation against the real Codex terminal UI (`codex`
 * without `exec`), in a session of the tmux runtime on a private tmux server, offline against a
 * scripted OpenAI Responses API: the prompt given as an argument is submitted, the model's shell
 * call runs in the sandbox, and the `notify` program the adapter configures reports each turn's
 * end by running `baton session event --type idle` (a fake `baton` here) in the session's
 * environment, but not the end of the hidden turn in which the UI names the task.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { INTERACTIVE_NOTIFY } from "../../src/agents/codex-adapter.js";
import { sessionEnvironment } from "../../src/engine/environment.js";
import {
  type Reply,
  type ResponsesRequest,
  type ScriptStep,
  shellCall,
  startOpenAIServer,
  textReply,
  toolOutputs,
  toolReply,
  usage,
  userTexts,
} from "../helpers/openai-server.js";
import { makeTempDir } from "../helpers/git-repo.js";
import { createTmuxKit } from "../sessions/tmux-kit.js";
import {
  CODEX_MODEL,
  codexBinDir,
  codexInvocation,
  makeCodexHome,
  makeWorkspace,
} from "./codex-kit.js";
import { makeFakeBaton, seedCodexFirstRun, signalCall, waitFor } from "./interactive-kit.js";

/** The model Codex 0.169.0 announces when a session starts on `CODEX_MODEL`. */
const CODEX_SUCCESSOR = "gpt-6-sol";
/** How the UI's request to name the task starts (it runs in a hidden thread of its own). */
const TITLE_PROMPT = "Generate a concise, single-line task title";
const TOKENS = usage({ inputTokens: 100, outputTokens: 10 });

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup();
  }
});

/**
 * A script for the main thread's requests, in order, that answers every title request on the
 * side: the two race, so they cannot share one ordered script.
 */
function withTitles(main: Reply[]): { steps: ScriptStep[]; titles(): number } {
  let titles = 0;
  const step = (request: ResponsesRequest): Reply => {
    if (userTexts(request).some((text) => text.startsWith(TITLE_PROMPT))) {
      titles += 1;
      return textReply('{"title":"Write done file"}', TOKENS);
    }
    const next = main.shift();
    if (next === undefined) {
      throw new Error("the main thread made more requests than scripted");
    }
    return next;
  };
  return { steps: Array.from({ length: 10 }, () => step), titles: () => titles };
}

describe("codex adapter: the terminal UI in a tmux session", () => {
  it("runs the prompt and reports each turn's end through notify", async () => {
    const ws = await makeWorkspace();
    cleanups.push(() => ws.cleanup());
    const script = withTitles([
      toolReply([shellCall("echo done > done.txt")], TOKENS, "Writing it."),
      textReply("I wrote done.txt.", TOKENS),
      textReply("Bye.", TOKENS),
    ]);
    const server = await startOpenAIServer(script.steps);
    cleanups.push(() => server.close());
    const codex = await makeCodexHome(server);
    cleanups.push(() => codex.cleanup());
    seedCodexFirstRun(codex.codexHome, {
      model: CODEX_MODEL,
      successor: CODEX_SUCCESSOR,
      trustedProject: ws.project,
    });
    const tmux = await createTmuxKit();
    cleanups.push(() => tmux.cleanup());
    const baton = makeFakeBaton(tmux.root);

    const invocation = codexInvocation({
      agent: codex.agent,
      worktree: ws.worktree,
      prompt: "Write done.txt, then tell me.",
      model: CODEX_MODEL,
      forbiddenDirs: [ws.project],
      interactive: true,
    });
    expect(invocation.stdin).toBe("null");
    const env = sessionEnvironment({
      base: process.env,
      passEnv: codex.agent.passEnv,
      agentEnv: codex.agent.env,
      adapterEnv: invocation.env,
      job: { BATON_JOB_ID: "job_test" },
      pathPrefix: [baton.binDir, codexBinDir()],
    });
    const handle = await tmux.start({
      argv: invocation.argv,
      cwd: ws.worktree,
      env,
      stdin: { kind: "null" },
    });
    const screen = async () =>
      `calls: ${JSON.stringify(baton.calls())}\nproblems: ${JSON.stringify(server.problems)}\n` +
      `screen:\n${await tmux.runtime.peek(handle, 50)}`;
    const idle = signalCall("idle", handle.name);

    await waitFor("the first turn ended", () => baton.calls().length >= 1, screen);
    expect(readFileSync(join(ws.worktree, "done.txt"), "utf8")).toBe("done\n");
    const [first, second] = server.requests.flatMap((r) =>
      r.request !== null && !userTexts(r.request).some((t) => t.startsWith(TITLE_PROMPT))
        ? [r.request]
        : [],
    );
    expect(first === undefined ? [] : userTexts(first)).toContain("Write done.txt, then tell me.");
    expect(second === undefined ? 0 : toolOutputs(second).size).toBe(1);
    // The title thread's turn ends too, before or after the real one; it must not count.
    await waitFor("the task was named", () => script.titles() >= 1, screen);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(baton.calls()).toEqual([idle]);

    expect(await tmux.runtime.steer(handle, "Now say bye.")).toEqual({ delivered: true });
    await waitFor("the second turn ended", () => baton.calls().length >= 2, screen);
    expect(baton.calls()).toEqual([idle, idle]);
    expect(server.problems).toEqual([]);
    expect((await tmux.runtime.observe(handle)).alive).toBe(true);
  }, 60_000);

  it("has notify report turn ends only, never the title thread's", async () => {
    const dir = await makeTempDir("baton-codex-notify-");
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const baton = makeFakeBaton(dir);
    const notify = (payload: Record<string, unknown>): number | null => {
      const [program = "", ...args] = INTERACTIVE_NOTIFY;
      return spawnSync(program, [...args, JSON.stringify(payload)], {
        cwd: dir,
        env: { PATH: `${baton.binDir}:/usr/bin:/bin`, BATON_SESSION: "baton-s1" },
      }).status;
    };
    const turn = (input: string, last: string) => ({
      type: "agent-turn-complete",
      "thread-id": "t1",
      "turn-id": "u1",
      cwd: dir,
      client: "codex-tui",
      "input-messages": [input],
      "last-assistant-message": last,
    });
    expect(notify(turn(`${TITLE_PROMPT} of at most 36 characters.\nUser prompt:\nx`, "T"))).toBe(0);
    expect(baton.calls()).toEqual([]);
    // Quotes, `$(…)` and the title prompt quoted in a real turn: data, never the shell's.
    expect(notify(turn(`say "$(touch pwned)" and '${TITLE_PROMPT}'`, "ok `id`"))).toBe(0);
    expect(baton.calls()).toEqual([signalCall("idle", "baton-s1")]);
    // Another kind of notification, should a later Codex send one, is no turn end.
    expect(notify({ ...turn("x", "y"), type: "approval-requested" })).toBe(0);
    expect(notify({ ...turn("x", '"type":"agent-turn-complete"'), type: "other" })).toBe(0);
    expect(baton.calls()).toEqual([signalCall("idle", "baton-s1")]);
    expect(existsSync(join(dir, "pwned"))).toBe(false);
  });
});
