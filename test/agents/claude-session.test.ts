/**
 * The real Claude Code CLI in a Baton session: stream-json in through a FIFO, stream-json out to
 * the session log, a scripted Anthropic server behind it. Proves the `claude` adapter's argv,
 * first message, steering, parser and usage totals against the program itself.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { AgentEvent } from "../../src/agents/adapter.js";
import {
  lastUserText,
  messageText,
  say,
  startAnthropicServer,
  toolResults,
  useTool,
  type AnthropicServer,
} from "../helpers/anthropic-server.js";
import { makeGitRepo, type GitRepo } from "../helpers/git-repo.js";
import { makeClaudeHome, startClaudeSession, type ClaudeSession } from "./claude-kit.js";

const PROMPT = "Write greeting.txt saying hello, then run the tests with `sh test.sh`.";
const STEER = "Now tell me which file you wrote.";

let repo: GitRepo;
let checkout: GitRepo;
let home: Awaited<ReturnType<typeof makeClaudeHome>>;
let server: AnthropicServer | null;
let session: ClaudeSession | null;

beforeEach(async () => {
  repo = await makeGitRepo({
    files: { "test.sh": 'grep -q "^hello from claude$" greeting.txt && echo "1 test passed"\n' },
  });
  checkout = await makeGitRepo({ files: { "SECRET.md": "the project's own checkout\n" } });
  home = await makeClaudeHome();
  server = null;
  session = null;
});

afterEach(async () => {
  if (session !== null) {
    await session.kit.runtime.kill(session.handle, 2_000);
    await session.kit.cleanup();
  }
  await server?.close();
  await Promise.all([repo.cleanup(), checkout.cleanup(), home.cleanup()]);
});

function kinds(events: AgentEvent[], kind: AgentEvent["kind"]): AgentEvent[] {
  return events.filter((event) => event.kind === kind);
}

describe("claude adapter against the real Claude Code CLI", () => {
  it("writes a file, runs a command, finishes its turn, waits, and takes a steering message", async () => {
    server = await startAnthropicServer({
      script: [
        useTool(
          "Write",
          { file_path: join(repo.root, "greeting.txt"), content: "hello from claude\n" },
          {
            text: "I'll write the file first.",
            usage: { inputTokens: 1200, outputTokens: 40, cacheWriteTokens: 300 },
          },
        ),
        () =>
          useTool(
            "Bash",
            { command: "sh test.sh", description: "Run the tests" },
            { usage: { inputTokens: 1400, outputTokens: 25, cacheReadTokens: 900 } },
          ),
        (request) =>
          say(`The tests said: ${toolResults(request)[0]?.content ?? "nothing"}`, {
            inputTokens: 1500,
            outputTokens: 30,
            cacheReadTokens: 1000,
          }),
      ],
    });
    session = await startClaudeSession({
      server,
      worktree: repo.root,
      home: home.path,
      prompt: PROMPT,
    });
    const [result] = await session.waitFor("the first result", (e) => e.kind === "result");

    expect(readFileSync(join(repo.root, "greeting.txt"), "utf8")).toBe("hello from claude\n");
    const main = server.mainRequests();
    expect(main).toHaveLength(3);
    expect(lastUserText(main[0]!)).toContain(PROMPT);
    expect(toolResults(main[1]!)[0]?.isError).toBe(false);
    expect(toolResults(main[2]!)).toEqual([
      expect.objectContaining({ content: "1 test passed", isError: false }),
    ]);
    expect(result).toEqual({
      kind: "result",
      ok: true,
      text: "The tests said: 1 test passed",
      detail: "success",
    });

    const events = session.events();
    expect(events[0]).toEqual({
      kind: "session",
      sessionId: expect.stringMatching(/^[0-9a-f-]{36}$/) as string,
      model: expect.any(String) as string,
    });
    expect(kinds(events, "turn")).toEqual([
      { kind: "turn", text: "I'll write the file first." },
      { kind: "turn", text: "The tests said: 1 test passed" },
    ]);
    expect(kinds(events, "tool")).toEqual([
      { kind: "tool", name: "Write", summary: join(repo.root, "greeting.txt") },
      { kind: "tool", name: "Bash", summary: "sh test.sh" },
    ]);
    expect(kinds(events, "error")).toEqual([]);
    // Totals since the start: the CLI's count at `result` equals what the server sent, including
    // its side call (the session title), and its cost is reported.
    const usage = kinds(events, "usage");
    expect(usage.at(-1)).toEqual({
      kind: "usage",
      usage: { ...server.usage(), costUsd: expect.any(Number) as number },
    });
    expect(server.usage().inputTokens).toBeGreaterThan(1200 + 1400 + 1500);
    expect(server.requests.map((r) => r.kind)).toContain("side");
    expect(server.requests.some((r) => r.method === "HEAD" && r.path === "/")).toBe(true);

    // After its `result` the CLI waits for more input rather than exiting.
    await delay(500);
    expect((await session.kit.runtime.observe(session.handle)).alive).toBe(true);

    server.push(say("I wrote greeting.txt.", { inputTokens: 1600, outputTokens: 10 }));
    await session.steer(STEER);
    const results = await session.waitFor("the second result", (e) => e.kind === "result", {
      count: 2,
    });
    expect(results[1]).toEqual({
      kind: "result",
      ok: true,
      text: "I wrote greeting.txt.",
      detail: "success",
    });
    const steered = server.mainRequests().at(-1)!;
    const last = steered.messages.at(-1)!;
    expect(last.role).toBe("user");
    expect(lastUserText(steered)).toBe(STEER);
    const after = kinds(session.events(), "usage").at(-1);
    expect(after).toEqual({
      kind: "usage",
      usage: { ...server.usage(), costUsd: expect.any(Number) as number },
    });
    expect(server.exhausted).toBe(0);
    // Claude Code reports the session once, although it repeats its init line every turn.
    expect(kinds(session.events(), "session")).toHaveLength(1);
    expect((await session.kit.runtime.observe(session.handle)).alive).toBe(true);
  });

  it("delivers a steering message sent mid-turn into the same turn, as a system note", async () => {
    server = await startAnthropicServer({
      script: [
        useTool("Bash", { command: "sleep 2", description: "Take a while" }),
        (request) => {
          const note = request.messages.at(-1);
          return say(note?.role === "system" ? `noted: ${messageText(note)}` : "no note");
        },
      ],
    });
    session = await startClaudeSession({
      server,
      worktree: repo.root,
      home: home.path,
      prompt: "Take a while, then answer.",
    });
    await session.waitFor("the Bash call", (e) => e.kind === "tool");
    await session.steer("Also use pnpm.");
    const [result] = await session.waitFor("the result", (e) => e.kind === "result");
    // No turn of its own: the CLI adds it to the running turn after the tool's result.
    expect(result).toMatchObject({
      ok: true,
      text: expect.stringContaining("Also use pnpm.") as string,
    });
    expect(result).toMatchObject({
      text: expect.stringMatching(
        /^noted: The user sent a new message while you were working/,
      ) as string,
    });
    expect(server.mainRequests()).toHaveLength(2);
    await delay(300);
    expect(session.events().filter((e) => e.kind === "result")).toHaveLength(1);
  });

  it("keeps the agent out of forbidden directories", async () => {
    const secret = join(checkout.root, "SECRET.md");
    server = await startAnthropicServer({
      script: [
        useTool("Read", { file_path: secret }),
        useTool("Edit", { file_path: secret, old_string: "own", new_string: "stolen" }),
        useTool("Write", { file_path: join(checkout.root, "new.txt"), content: "x" }),
        useTool("Bash", { command: `cat ${secret}`, description: "Read it anyway" }),
        useTool("Bash", { command: "echo inside > inside.txt", description: "Write here" }),
        say("done"),
      ],
    });
    session = await startClaudeSession({
      server,
      worktree: repo.root,
      home: home.path,
      prompt: "Try to read the project checkout.",
      forbiddenDirs: [checkout.root],
    });
    await session.waitFor("the result", (e) => e.kind === "result");
    const results = server
      .mainRequests()
      .slice(1)
      .map((r) => toolResults(r)[0]?.content ?? "");
    expect(results[0]).toMatch(/denied by your permission settings/);
    expect(results[1]).toMatch(/denied by your permission settings/);
    expect(results[2]).toMatch(/denied by your permission settings/);
    expect(results[3]).toMatch(/Permission to use Bash with command cat .* has been denied/);
    expect(readFileSync(secret, "utf8")).toBe("the project's own checkout\n");
    expect(existsSync(join(checkout.root, "new.txt"))).toBe(false);
    expect(readFileSync(join(repo.root, "inside.txt"), "utf8")).toBe("inside\n");
  });
});
