/**
 * The Codex parser replaying session logs recorded from the real CLI (codex-cli 0.169.0) by
 * `test/fixtures/codex/record.ts`.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import type { AgentEvent } from "./adapter.js";
import { createCodexParser } from "./codex-parser.js";

const FIXTURES = join(import.meta.dirname, "..", "..", "test", "fixtures", "codex");
const meta = z
  .object({
    recordedAt: z.number(),
    resetsAt: z.number(),
    laterResetsAt: z.number(),
    timeZone: z.string(),
  })
  .parse(JSON.parse(readFileSync(join(FIXTURES, "usage-limit.meta.json"), "utf8")));

function replay(name: string, now = meta.recordedAt * 1000): AgentEvent[] {
  const parser = createCodexParser({ now: () => now });
  return readFileSync(join(FIXTURES, `${name}.jsonl`), "utf8")
    .split("\n")
    .flatMap((line) => parser.line(line));
}

function kinds(events: AgentEvent[]): string[] {
  return events.map((e) => e.kind);
}

describe("createCodexParser on recorded sessions", () => {
  // Codex printed reset times in the recording's time zone; read them in the same one.
  let savedTz: string | undefined;
  beforeEach(() => {
    savedTz = process.env.TZ;
    process.env.TZ = meta.timeZone;
  });
  afterEach(() => {
    if (savedTz === undefined) {
      delete process.env.TZ;
    } else {
      process.env.TZ = savedTz;
    }
  });

  it("reads a successful session: thread, messages, tools once each, usage, result", () => {
    const events = replay("success");
    expect(kinds(events)).toEqual(["session", "turn", "tool", "tool", "turn", "usage", "result"]);
    expect(events[0]).toMatchObject({ kind: "session", model: null });
    expect(events[0]).toHaveProperty("sessionId", expect.stringMatching(/^[0-9a-f-]{36}$/));
    expect(events[2]).toMatchObject({ kind: "tool", name: "apply_patch" });
    expect(events[2]).toHaveProperty("summary", expect.stringMatching(/^add \/.*\/hello\.txt$/));
    expect(events[3]).toEqual({
      kind: "tool",
      name: "shell",
      summary: "wc -c < hello.txt > count.txt && cat count.txt",
    });
    expect(events[5]).toEqual({
      kind: "usage",
      usage: {
        inputTokens: 4400 - 2500,
        outputTokens: 102,
        cacheReadTokens: 2500,
        cacheWriteTokens: 0,
        costUsd: null,
      },
    });
    expect(events[6]).toEqual({
      kind: "result",
      ok: true,
      text: "Added hello.txt and counted its bytes.",
      detail: null,
    });
  });

  it("reports a resumed thread's usage as Codex's running total, not the sum of runs", () => {
    const usage = replay("resumed").flatMap((e) => (e.kind === "usage" ? [e.usage] : []));
    expect(usage.map((u) => u.inputTokens + u.cacheReadTokens)).toEqual([1000, 2500]);
    expect(usage.at(-1)).toMatchObject({ cacheReadTokens: 1100, outputTokens: 17 });
  });

  it("reads an API rate limit: the retry notice is skipped, the fatal error is classified", () => {
    const events = replay("rate-limit");
    expect(kinds(events)).toEqual(["session", "error", "result"]);
    expect(events[1]).toEqual({
      kind: "error",
      errorClass: "rate_limit",
      message: "rate limited: exceeded retry limit, last status: 429 Too Many Requests",
      resetAt: null,
    });
    expect(events[2]).toEqual({
      kind: "result",
      ok: false,
      text: "",
      detail: "exceeded retry limit, last status: 429 Too Many Requests",
    });
  });

  it("reads the reset time of a plan's usage limit, to the minute", () => {
    const [today] = replay("usage-limit").filter((e) => e.kind === "error");
    expect(today).toMatchObject({ errorClass: "rate_limit" });
    expect(today).toHaveProperty("resetAt", Math.floor(meta.resetsAt / 60) * 60_000);
    const [later] = replay("usage-limit-days").filter((e) => e.kind === "error");
    expect(later).toHaveProperty("resetAt", Math.floor(meta.laterResetsAt / 60) * 60_000);
  });

  it.each([
    ["unauthorized", "auth"],
    ["missing-key", "auth"],
    ["server-error", "transient"],
    ["bad-request", "permanent"],
  ] as const)("classifies %s as %s", (name, errorClass) => {
    const events = replay(name);
    expect(kinds(events)).toEqual(["session", "error", "result"]);
    expect(events[1]).toMatchObject({ kind: "error", errorClass, resetAt: null });
    expect(events[2]).toMatchObject({ kind: "result", ok: false });
  });

  it("reports nothing but the session while Codex waits for the network", () => {
    expect(kinds(replay("network-down"))).toEqual(["session"]);
  });
});

describe("createCodexParser on odd lines", () => {
  it("skips what is not a valid event and never throws", () => {
    const parser = createCodexParser();
    const lines = [
      "",
      "WARNING: proceeding, even though we could not create PATH aliases",
      "{not json",
      '{"type":"thread.started"}',
      '{"type":"turn.completed","usage":{"input_tokens":-1,"output_tokens":2}}',
      '{"type":"some.future.event","x":1}',
      '{"type":"item.completed","item":{"id":"item_9","type":"reasoning","text":"hmm"}}',
      '{"type":"item.completed","item":{"id":"item_8","type":"error","message":"Model metadata for `x` not found."}}',
      '{"type":"item.completed","item":{"id":"item_7","type":"agent_message"}}',
      "[1,2,3]",
      "null",
    ];
    expect(lines.flatMap((line) => parser.line(line))).toEqual([]);
  });

  it("reports each tool item once, MCP calls and web searches included", () => {
    const parser = createCodexParser();
    const lines = [
      '{"type":"item.started","item":{"id":"i1","type":"mcp_tool_call","server":"docs","tool":"search","arguments":{},"status":"in_progress"}}',
      '{"type":"item.completed","item":{"id":"i1","type":"mcp_tool_call","server":"docs","tool":"search","arguments":{},"status":"completed"}}',
      '{"type":"item.completed","item":{"id":"i2","type":"web_search","query":"zod 4 looseObject"}}',
      '{"type":"item.started","item":{"id":"i3","type":"command_execution","command":"/bin/bash -lc \'echo \'\\"\'\\"\'hi\'\\"\'\\"\'\'","aggregated_output":"","status":"in_progress"}}',
    ];
    expect(lines.flatMap((line) => parser.line(line))).toEqual([
      { kind: "tool", name: "mcp:docs/search", summary: "docs/search" },
      { kind: "tool", name: "web_search", summary: "zod 4 looseObject" },
      {
        kind: "tool",
        name: "shell",
        summary: "/bin/bash -lc 'echo '\"'\"'hi'\"'\"''",
      },
    ]);
  });

  it("reports a fatal error once when turn.failed repeats it, and a new one when it does not", () => {
    const parser = createCodexParser();
    const repeated = [
      '{"type":"error","message":"Invalid model gpt-nope"}',
      '{"type":"turn.failed","error":{"message":"Invalid model gpt-nope"}}',
    ].flatMap((line) => parser.line(line));
    expect(kinds(repeated)).toEqual(["error", "result"]);
    const fresh = createCodexParser().line(
      '{"type":"turn.failed","error":{"message":"stream disconnected before completion: eof"}}',
    );
    expect(fresh).toEqual([
      {
        kind: "error",
        errorClass: "transient",
        message: "transient failure: stream disconnected before completion: eof",
        resetAt: null,
      },
      {
        kind: "result",
        ok: false,
        text: "",
        detail: "stream disconnected before completion: eof",
      },
    ]);
  });
});
