/**
 * Test helpers for session runtimes: a temp root, specs with unique names, a record of started
 * sessions that `cleanup()` kills, and a `/proc` scan that is independent of the code under test.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { createProcessRuntime } from "../../src/sessions/process-runtime.js";
import type { Runtime, SessionHandle, SessionSpec } from "../../src/sessions/runtime.js";

export const BASE_ENV: Record<string, string> = { PATH: "/usr/local/bin:/usr/bin:/bin" };

let sequence = 0;

export interface SessionKit {
  root: string;
  runtime: Runtime;
  /** A spec with a fresh name and directory under `root`; cwd defaults to `root`. */
  spec(overrides: Partial<SessionSpec> & Pick<SessionSpec, "argv">): SessionSpec;
  /** Starts a session with `runtime` and remembers it for `cleanup()`. */
  start(overrides: Partial<SessionSpec> & Pick<SessionSpec, "argv">): Promise<SessionHandle>;
  /** Remembers a handle started elsewhere (another runtime, another process). */
  track(handle: SessionHandle): void;
  /** Kills every remembered session and removes `root`. */
  cleanup(): Promise<void>;
}

export async function createSessionKit(): Promise<SessionKit> {
  const root = await mkdtemp(join(tmpdir(), "baton-sessions-"));
  const runtime = createProcessRuntime({ pollIntervalMs: 50 });
  const handles: SessionHandle[] = [];
  const spec: SessionKit["spec"] = (overrides) => {
    sequence += 1;
    const name = `baton-test-${process.pid}-${sequence}-${Math.random().toString(36).slice(2, 8)}`;
    return {
      name,
      dir: join(root, name),
      cwd: root,
      env: BASE_ENV,
      stdin: { kind: "null" },
      ...overrides,
    };
  };
  return {
    root,
    runtime,
    spec,
    async start(overrides) {
      const handle = await runtime.start(spec(overrides));
      handles.push(handle);
      return handle;
    },
    track(handle) {
      handles.push(handle);
    },
    async cleanup() {
      await Promise.all(handles.map((handle) => runtime.kill(handle, 0)));
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Live (non-zombie) processes whose environment carries `BATON_SESSION=<name>`. */
export function markedPids(name: string): number[] {
  const marker = `BATON_SESSION=${name}`;
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) {
      continue;
    }
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "latin1");
      if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) {
        continue;
      }
      if (readFileSync(`/proc/${entry}/environ`, "utf8").split("\0").includes(marker)) {
        pids.push(Number(entry));
      }
    } catch {
      // Gone while we looked, or another user's process.
    }
  }
  return pids;
}

/** `[pgid, sid]` of a process, from `/proc/<pid>/stat`. */
export function groupAndSession(pid: number): [number, number] {
  const stat = readFileSync(`/proc/${pid}/stat`, "latin1");
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return [Number(rest[2]), Number(rest[3])];
}

/** Polls `check` every 10 ms until it returns true; throws after `timeoutMs`. */
export async function waitUntil(what: string, check: () => boolean, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    }
    await delay(10);
  }
}

export function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    // Not written yet.
    return "";
  }
}
