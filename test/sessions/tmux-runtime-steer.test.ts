import { readFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { SessionHandle, SteerResult } from "../../src/sessions/runtime.js";
import { readText, waitUntil } from "./session-kit.js";
import { createTmuxKit, sleep, type TmuxKit } from "./tmux-kit.js";

let kit: TmuxKit;
beforeEach(async () => {
  kit = await createTmuxKit();
});
afterEach(async () => {
  await kit.cleanup();
});

/** An interactive line reader: reads the terminal line by line, prints `got: <line>`. */
const LINE_READER = [
  'const lines = require("node:readline").createInterface({ input: process.stdin });',
  'process.stdout.write("ready\\n");',
  'lines.on("line", (line) => process.stdout.write(`got: ${line}\\n`));',
].join("\n");

/**
 * An interactive program like an agent's TUI: raw terminal, bracketed paste enabled; prints each
 * pasted-then-submitted message whole, as JSON, and anything else it receives.
 */
const PASTE_READER = [
  "process.stdin.setRawMode(true);",
  'process.stdout.write("\\u001b[?2004hready\\r\\n");',
  'let pending = "";',
  'process.stdin.on("data", (data) => {',
  '  pending += data.toString("utf8");',
  "  for (;;) {",
  "    const match = /^\\u001b\\[200~([\\s\\S]*?)\\u001b\\[201~\\r/.exec(pending);",
  "    if (match === null) break;",
  "    pending = pending.slice(match[0].length);",
  "    process.stdout.write(`message: ${JSON.stringify(match[1])}\\r\\n`);",
  "  }",
  "});",
].join("\n");

async function startReader(program: string): Promise<SessionHandle> {
  const handle = await kit.start({ argv: [process.execPath, "-e", program] });
  await waitUntil("the program is ready", () => readText(handle.logPath).includes("ready"));
  return handle;
}

/** The reason of a steer that was not delivered; fails the test for one that was. */
function refusal(result: SteerResult): string {
  if (result.delivered) {
    throw new Error("expected the steer to be refused, but it was delivered");
  }
  return result.reason;
}

/**
 * The `got: …` lines the line reader printed so far. The terminal's echo of a line still being
 * typed may sit right before one on the same row, so they are found anywhere in a row.
 */
function gotLines(handle: SessionHandle): string[] {
  return [...readText(handle.logPath).matchAll(/got: ([^\r]*)\r\n/g)].map(
    (match) => match[1] ?? "",
  );
}

describe("tmux runtime: steer", () => {
  it("types a multi-line message into a line-reading program, every line whole and submitted", async () => {
    const handle = await startReader(LINE_READER);
    const lines = [
      "first line",
      "second; line with a trailing semicolon;",
      "  'quoted' \"double\" $HOME `uname` #{session_name} \\back",
      "unicode: é ✓ 日本",
      "last line",
    ];
    // Adapters end messages with a newline; Enter submits, so no empty line follows.
    expect(await kit.runtime.steer(handle, `${lines.join("\n")}\n`)).toEqual({ delivered: true });
    await waitUntil("every line arrived", () => gotLines(handle).length >= lines.length);
    await sleep(100);
    expect(gotLines(handle)).toEqual(lines);

    // The same message again is confirmed by a new appearance, not by the old one.
    expect(await kit.runtime.steer(handle, "last line")).toEqual({ delivered: true });
    await waitUntil("the repeat arrived", () => gotLines(handle).length === lines.length + 1);
  });

  it("pastes the message as one bracketed paste, then submits it", async () => {
    const handle = await startReader(PASTE_READER);
    const message = "Wrap up now.\nCommit your work,\n\tthen exit.";
    expect(await kit.runtime.steer(handle, message)).toEqual({ delivered: true });
    await waitUntil("the message arrived", () => readText(handle.logPath).includes("message: "));
    // tmux sends the line breaks of a paste as carriage returns.
    const messages = [...readText(handle.logPath).matchAll(/message: ([^\r]*)\r/g)];
    expect(messages.map((match) => JSON.parse(match[1] ?? "") as unknown)).toEqual([
      message.replace(/\n/g, "\r"),
    ]);
  });

  it("removes control characters, so a message cannot act as keys", async () => {
    const handle = await startReader(LINE_READER);
    expect(await kit.runtime.steer(handle, "stop\u0003 here\u001b[2J\r\nnext")).toEqual({
      delivered: true,
    });
    await waitUntil("both lines arrived", () => gotLines(handle).length === 2);
    expect(gotLines(handle)).toEqual(["stop here[2J", "next"]);
    expect(await kit.runtime.observe(handle)).toMatchObject({ alive: true });
  });

  it("says why when it cannot deliver", async () => {
    const silent = await kit.start({ argv: ["sh", "-c", "stty -echo; echo ready; sleep 300"] });
    await waitUntil("echo is off", () => readText(silent.logPath).includes("ready"));
    expect(refusal(await kit.runtime.steer(silent, "nobody shows this"))).toMatch(
      /not seen in the pane/,
    );
    expect(refusal(await kit.runtime.steer(silent, "\n \n"))).toMatch(/empty/);

    const ended = await kit.start({ argv: ["true"] });
    await kit.runtime.waitForExit(ended, new AbortController().signal);
    expect(refusal(await kit.runtime.steer(ended, "hello"))).toMatch(/has ended/);
  });
});

describe("tmux runtime: a human attached", () => {
  it("reports the human, refuses to type while attached, and steers again after detach", async () => {
    const handle = await startReader(LINE_READER);
    const client = await kit.attach(handle.name);

    const seen = await kit.runtime.observe(handle);
    expect(seen.human).toBe("present");
    expect(seen.humanActiveAt).not.toBeNull();
    expect(Math.abs((seen.humanActiveAt ?? 0) - Date.now())).toBeLessThan(5_000);
    expect(await kit.runtime.state(handle)).toBe("human_input");

    expect(refusal(await kit.runtime.steer(handle, "do not type this"))).toMatch(
      /a human is attached/,
    );

    // Activity is kept in whole seconds: let one pass, then type (and erase) a key.
    const before = seen.humanActiveAt ?? 0;
    await sleep(1_100);
    client.type("x\u007f");
    await waitUntil("the key press counts as activity", () => {
      const out = kit.tmux(["list-clients", "-t", `=${handle.name}`, "-F", "#{client_activity}"]);
      return Number(out.stdout.trim()) * 1000 > before;
    });
    const typed = await kit.runtime.observe(handle);
    expect(typed.humanActiveAt).toBeGreaterThan(before);

    await client.detach();
    expect(await kit.runtime.observe(handle)).toMatchObject({
      human: "absent",
      humanActiveAt: null,
    });
    expect(await kit.runtime.state(handle)).toBe("active");
    expect(await kit.runtime.steer(handle, "now it is fine")).toEqual({ delivered: true });
    await waitUntil("the line arrived", () => gotLines(handle).length === 1);
    expect(gotLines(handle)).toEqual(["now it is fine"]);
    expect(readFileSync(handle.logPath, "utf8")).not.toContain("do not type this");
  });
});
