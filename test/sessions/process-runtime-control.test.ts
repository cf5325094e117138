import { spawn } from "node:child_process";
import { once } from "node:events";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isSessionAlive } from "../../src/sessions/is-session-alive.js";
import { createProcessRuntime } from "../../src/sessions/process-runtime.js";
import type { SessionHandle } from "../../src/sessions/runtime.js";
import {
  createSessionKit,
  groupAndSession,
  markedPids,
  readText,
  waitUntil,
  type SessionKit,
} from "./session-kit.js";

const never = new AbortController().signal;

let kit: SessionKit;
beforeEach(async () => {
  kit = await createSessionKit();
});
afterEach(async () => {
  await kit.cleanup();
});

describe("process runtime: kill", () => {
  it("kills a program and its grandchildren within the grace period", async () => {
    const handle = await kit.start({ argv: ["sh", "-c", "sleep 300 & sleep 300 & wait"] });
    await waitUntil("the sleeps run", () => markedPids(handle.name).length >= 4);
    const wait = kit.runtime.waitForExit(handle, never);
    const began = Date.now();
    await kit.runtime.kill(handle, 2_000);
    expect(Date.now() - began).toBeLessThan(3_000);
    expect(markedPids(handle.name)).toEqual([]);
    expect(await wait).toMatchObject({ exitCode: null, signal: "SIGTERM" });
  });

  it("escalates to SIGKILL for a program that ignores SIGTERM", async () => {
    const handle = await kit.start({
      argv: ["sh", "-c", "trap '' TERM; echo ready; while :; do sleep 0.05; done"],
    });
    await waitUntil("the trap is set", () => readText(handle.logPath) === "ready\n");
    const wait = kit.runtime.waitForExit(handle, never);
    const began = Date.now();
    await kit.runtime.kill(handle, 300);
    const took = Date.now() - began;
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(1_300);
    expect(markedPids(handle.name)).toEqual([]);
    // SIGKILL takes the wrapper too, so nothing recorded the exit.
    expect(await wait).toBeNull();
  });

  it("kills a process that left the group with setsid, found by its environment", async () => {
    const handle = await kit.start({ argv: ["sh", "-c", "setsid sleep 300 & exec sleep 300"] });
    let escaped: number | undefined;
    await waitUntil("the setsid process runs", () => {
      escaped = markedPids(handle.name).find((pid) => groupAndSession(pid)[1] !== handle.pid);
      return escaped !== undefined;
    });
    expect(groupAndSession(escaped ?? 0)[0]).not.toBe(handle.pid);
    await kit.runtime.kill(handle, 1_000);
    expect(markedPids(handle.name)).toEqual([]);
  });

  it("is safe on a session that already ended", async () => {
    const handle = await kit.start({ argv: ["true"] });
    await kit.runtime.waitForExit(handle, never);
    await kit.runtime.kill(handle, 1_000);
    await kit.runtime.kill(handle, 0);
    expect(isSessionAlive(handle)).toBe(false);
  });
});

describe("process runtime: steer", () => {
  it("delivers a multi-line message intact through the stdin FIFO", async () => {
    const handle = await kit.start({
      argv: ["sh", "-c", 'while IFS= read -r line; do printf "got:%s\\n" "$line"; done'],
      stdin: { kind: "fifo" },
    });
    const message = "first line\n  second $(line) `x` 'q'\n";
    expect(await kit.runtime.steer(handle, message)).toEqual({ delivered: true });
    expect(await kit.runtime.steer(handle, "third\n")).toEqual({ delivered: true });
    const expected = "got:first line\ngot:  second $(line) `x` 'q'\ngot:third\n";
    await waitUntil("the program echoed all lines", () => readText(handle.logPath) === expected);
    // The FIFO never reports EOF while the wrapper lives: the program is still reading.
    expect(isSessionAlive(handle)).toBe(true);
  });

  it("does not deliver to a session that reads a file", async () => {
    const prompt = join(kit.root, "prompt.txt");
    writeFileSync(prompt, "the prompt\n");
    const handle = await kit.start({
      argv: ["sh", "-c", "cat; exec sleep 30"],
      stdin: { kind: "file", path: prompt },
    });
    await waitUntil("the prompt was read", () => readText(handle.logPath) === "the prompt\n");
    const result = await kit.runtime.steer(handle, "hello\n");
    expect(result.delivered).toBe(false);
    expect(!result.delivered && result.reason).toMatch(
      /cannot be steered: its agent read its prompt from a file/,
    );
  });

  it("does not deliver to a session that ended", async () => {
    const handle = await kit.start({ argv: ["true"], stdin: { kind: "fifo" } });
    await kit.runtime.waitForExit(handle, never);
    const result = await kit.runtime.steer(handle, "hello\n");
    expect(result.delivered).toBe(false);
    expect(!result.delivered && result.reason).toMatch(/ended/);
  });
});

describe("process runtime: observe and peek", () => {
  it("observes a running and then a finished session", async () => {
    const handle = await kit.start({
      argv: ["sh", "-c", "echo hi; while [ ! -e go ]; do sleep 0.02; done; exit 4"],
    });
    await waitUntil("output arrived", () => readText(handle.logPath) === "hi\n");
    const running = await kit.runtime.observe(handle);
    expect(running).toMatchObject({ alive: true, exit: null, logBytes: 3, human: "absent" });
    expect(running.lastOutputAt).toBeGreaterThan(Date.now() - 60_000);
    writeFileSync(join(kit.root, "go"), "");
    await kit.runtime.waitForExit(handle, never);
    const done = await kit.runtime.observe(handle);
    expect(done).toMatchObject({ alive: false, exit: { exitCode: 4, signal: null }, logBytes: 3 });
  });

  it("observes a session that is gone without throwing", async () => {
    const gone: SessionHandle = {
      name: "baton-test-gone",
      runtime: "process",
      dir: join(kit.root, "never-created"),
      logPath: join(kit.root, "never-created", "log"),
      pid: 2 ** 22 + 1,
      pidStartTime: "1",
      startedAt: Date.now(),
    };
    expect(await kit.runtime.observe(gone)).toEqual({
      alive: false,
      exit: null,
      lastOutputAt: null,
      logBytes: 0,
      human: "absent",
      humanActiveAt: null,
    });
    expect(await kit.runtime.waitForExit(gone, never)).toBeNull();
    await kit.runtime.kill(gone, 0);
    expect(await kit.runtime.peek(gone, 10)).toBe("");
  });

  it("does not take a reused pid for the session", async () => {
    const stranger = spawn("sleep", ["30"], { stdio: "ignore" });
    await once(stranger, "spawn");
    try {
      const handle: SessionHandle = {
        name: "baton-test-reused",
        runtime: "process",
        dir: join(kit.root, "reused"),
        logPath: join(kit.root, "reused", "log"),
        pid: stranger.pid ?? 0,
        pidStartTime: "1",
        startedAt: Date.now(),
      };
      expect(isSessionAlive(handle)).toBe(false);
      expect((await kit.runtime.observe(handle)).alive).toBe(false);
      expect(await createProcessRuntime().waitForExit(handle, never)).toBeNull();
      await kit.runtime.kill(handle, 0);
      expect(stranger.exitCode).toBeNull();
      expect(isSessionAlive({ pid: handle.pid, pidStartTime: null })).toBe(true);
    } finally {
      stranger.kill("SIGKILL");
      await once(stranger, "exit");
    }
  });

  it("peeks the last lines of a long log", async () => {
    const handle = await kit.start({ argv: ["seq", "1", "200000"] });
    await kit.runtime.waitForExit(handle, never);
    expect(await kit.runtime.peek(handle, 3)).toBe("199998\n199999\n200000\n");
    expect(await kit.runtime.peek(handle, 0)).toBe("");
    const many = await kit.runtime.peek(handle, 100_000);
    expect(many.split("\n")).toHaveLength(100_001);
    expect(many.startsWith("100001\n")).toBe(true);
  });
});

describe("process runtime: adoption", () => {
  it("lets a new runtime wait for, observe and kill a session from its handle", async () => {
    const handle = await kit.start({
      argv: ["sh", "-c", "while [ ! -e go ]; do sleep 0.02; done; echo bye; exit 5"],
    });
    const adopter = createProcessRuntime({ pollIntervalMs: 50 });
    expect((await adopter.observe(handle)).alive).toBe(true);
    const wait = adopter.waitForExit(handle, never);
    writeFileSync(join(kit.root, "go"), "");
    expect(await wait).toMatchObject({ exitCode: 5, signal: null });
    expect(await adopter.peek(handle, 1)).toBe("bye\n");

    const second = await kit.start({ argv: ["sh", "-c", "sleep 300 & exec sleep 300"] });
    await waitUntil("both sleeps run", () => markedPids(second.name).length === 3);
    await adopter.kill(second, 1_000);
    expect(markedPids(second.name)).toEqual([]);
  });
});
