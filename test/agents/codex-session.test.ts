/**
 * The `codex` adapter against the real Codex CLI (`codex exec --json`), offline, talking to a
 * scripted OpenAI Responses API: the argv the adapter builds really runs, the agent really edits
 * the worktree and runs commands in Codex's sandbox, and the parser reads what Codex printed.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { AgentEvent } from "../../src/agents/adapter.js";
import {
  addFileCall,
  type OpenAIServer,
  type ScriptStep,
  shellCall,
  startOpenAIServer,
  textReply,
  toolOutputs,
  toolReply,
  usage,
  userTexts,
} from "../helpers/openai-server.js";
import {
  type CodexHome,
  makeCodexHome,
  makeWorkspace,
  runCodex,
  type Workspace,
} from "./codex-kit.js";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    await cleanup();
  }
});

async function setUp(
  script: (ws: Workspace) => ScriptStep[],
): Promise<{ server: OpenAIServer; codex: CodexHome; ws: Workspace }> {
  const ws = await makeWorkspace();
  cleanups.push(() => ws.cleanup());
  const server = await startOpenAIServer(script(ws));
  cleanups.push(() => server.close());
  const codex = await makeCodexHome(server);
  cleanups.push(() => codex.cleanup());
  return { server, codex, ws };
}

function ofKind<K extends AgentEvent["kind"]>(
  events: AgentEvent[],
  kind: K,
): Extract<AgentEvent, { kind: K }>[] {
  return events.filter((e): e is Extract<AgentEvent, { kind: K }> => e.kind === kind);
}

describe("codex adapter with the real Codex CLI", () => {
  it("edits the worktree, runs a command through its shell tool, and reports usage totals", async () => {
    const prompt = "Fix round 2. The gate `unit` failed:\nAssertionError: expected 1 to be 2\n";
    const { server, codex, ws } = await setUp(() => [
      toolReply(
        [addFileCall("hello.txt", "hello from codex\n")],
        usage({ inputTokens: 1200, cachedTokens: 0, outputTokens: 60, reasoningTokens: 20 }),
        "I'll add the file first.",
      ),
      (request) => {
        const patched = toolOutputs(request).get("call_1_0") ?? "";
        if (!patched.includes("A hello.txt")) {
          throw new Error(`apply_patch did not report the new file: ${patched}`);
        }
        return toolReply(
          [shellCall("wc -c < hello.txt > count.txt && cat count.txt")],
          usage({ inputTokens: 1500, cachedTokens: 1100, outputTokens: 30 }),
        );
      },
      textReply(
        "Added hello.txt and counted its bytes.",
        usage({ inputTokens: 1700, cachedTokens: 1400, outputTokens: 12 }),
      ),
    ]);

    const run = await runCodex({
      codex,
      worktree: ws.worktree,
      prompt,
      forbiddenDirs: [ws.project],
    });

    expect(server.problems).toEqual([]);
    expect(run.exit).toMatchObject({ exitCode: 0, signal: null });
    expect(readFileSync(join(ws.worktree, "hello.txt"), "utf8")).toBe("hello from codex\n");
    expect(readFileSync(join(ws.worktree, "count.txt"), "utf8").trim()).toBe("17");

    // What the CLI sent: the prompt from stdin, then each tool's output.
    expect(server.requests).toHaveLength(3);
    const [first, second, third] = server.requests.map((r) => r.request);
    expect(first?.model).toBe("gpt-5.5");
    expect(first?.tools).toEqual(expect.arrayContaining(["exec_command", "apply_patch"]));
    expect(userTexts(first!).at(-1)).toBe(prompt);
    expect(second?.input.some((item) => item.type === "custom_tool_call_output")).toBe(true);
    expect(toolOutputs(third!).get("call_2_0")).toMatch(/Process exited with code 0[\s\S]*\b17\b/);
    expect(server.requests[0]?.headers.authorization).toBe("Bearer sk-test-key");

    const events = run.events;
    const session = ofKind(events, "session");
    expect(session).toHaveLength(1);
    expect(session[0]?.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(ofKind(events, "tool")).toEqual([
      { kind: "tool", name: "apply_patch", summary: `add ${join(ws.worktree, "hello.txt")}` },
      { kind: "tool", name: "shell", summary: "wc -c < hello.txt > count.txt && cat count.txt" },
    ]);
    expect(ofKind(events, "turn").map((e) => e.text)).toEqual([
      "I'll add the file first.",
      "Added hello.txt and counted its bytes.",
    ]);
    expect(ofKind(events, "result")).toEqual([
      { kind: "result", ok: true, text: "Added hello.txt and counted its bytes.", detail: null },
    ]);
    expect(ofKind(events, "error")).toEqual([]);

    // Totals equal what the server sent: inputTokens + cacheReadTokens is the API's input.
    const sent = server.usageSent;
    expect(sent).toEqual({
      inputTokens: 4400,
      cachedTokens: 2500,
      outputTokens: 102,
      reasoningTokens: 20,
    });
    const reported = ofKind(events, "usage").at(-1)?.usage;
    expect(reported).toEqual({
      inputTokens: sent.inputTokens - sent.cachedTokens,
      outputTokens: sent.outputTokens,
      cacheReadTokens: sent.cachedTokens,
      cacheWriteTokens: 0,
      costUsd: null,
    });
  });

  it("keeps the agent's writes out of the project's own checkout", async () => {
    const { server, codex, ws } = await setUp((ws) => [
      toolReply(
        [
          shellCall(
            `touch ${join(ws.project, "escaped.txt")}; echo "outside=$?"; ` +
              `touch inside.txt; echo "inside=$?"`,
          ),
        ],
        usage({ inputTokens: 100, outputTokens: 10 }),
      ),
      textReply("Tried both.", usage({ inputTokens: 120, cachedTokens: 100, outputTokens: 3 })),
    ]);

    const run = await runCodex({
      codex,
      worktree: ws.worktree,
      prompt: "Write a file in the project checkout.",
      forbiddenDirs: [ws.project],
    });

    expect(run.exit).toMatchObject({ exitCode: 0 });
    expect(existsSync(join(ws.project, "escaped.txt"))).toBe(false);
    expect(existsSync(join(ws.worktree, "inside.txt"))).toBe(true);
    const output = toolOutputs(server.requests[1]!.request!).get("call_1_0") ?? "";
    expect(output).toContain("Read-only file system");
    expect(output).toContain("outside=1");
    expect(output).toContain("inside=0");
  });
});
