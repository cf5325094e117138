/**
 * Test helpers for the tmux runtime: a private tmux server per test (`tmux -L test-<random>`),
 * specs with unique names, real attached tmux clients (through `script`, which gives them a
 * pty), and a `cleanup()` that kills the sessions, the clients and every server the test used,
 * then checks that no tmux process of those sockets is left and removes their socket files.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import type { SessionHandle, SessionSpec } from "../../src/sessions/runtime.js";
import { createTmuxRuntime, type TmuxRuntime } from "../../src/sessions/tmux-runtime.js";
import { BASE_ENV, waitUntil } from "./session-kit.js";

let sequence = 0;

export interface TmuxResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A real tmux client attached to a session, driven through the pty `script` gives it. */
export interface AttachedClient {
  /** Types `keys` into the client's terminal, as a person would. */
  type(keys: string): void;
  /** Detaches with the default key binding (C-b d) and waits for the client to exit. */
  detach(): Promise<void>;
}

export interface TmuxKit {
  socket: string;
  root: string;
  runtime: TmuxRuntime;
  spec(overrides: Partial<SessionSpec> & Pick<SessionSpec, "argv">): SessionSpec;
  start(overrides: Partial<SessionSpec> & Pick<SessionSpec, "argv">): Promise<SessionHandle>;
  track(handle: SessionHandle): void;
  /** Runs `tmux -L <socket> -f /dev/null <args>` synchronously (default: the kit's socket). */
  tmux(args: string[], socket?: string): TmuxResult;
  /** A fresh socket name that `cleanup()` will also kill, e.g. a stand-in for the default one. */
  otherSocket(prefix: string): string;
  /** Attaches a real client to session `name` and waits until tmux lists it. */
  attach(name: string): Promise<AttachedClient>;
  cleanup(): Promise<void>;
}

export async function createTmuxKit(): Promise<TmuxKit> {
  const root = await mkdtemp(join(tmpdir(), "baton-tmux-"));
  const random = (): string => Math.random().toString(36).slice(2, 10);
  const socket = `test-${random()}`;
  const sockets = [socket];
  const runtime = createTmuxRuntime({ socket, pollIntervalMs: 50 });
  const handles: SessionHandle[] = [];
  const clients: ChildProcess[] = [];

  const tmux: TmuxKit["tmux"] = (args, on = socket) => {
    const result = spawnSync("tmux", ["-L", on, "-f", "/dev/null", ...args], {
      encoding: "utf8",
      env: clientEnv(),
      timeout: 10_000,
    });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  };
  const spec: TmuxKit["spec"] = (overrides) => {
    sequence += 1;
    const name = `baton-test-${process.pid}-${sequence}-${random().slice(0, 6)}`;
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
    socket,
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
    tmux,
    otherSocket(prefix) {
      const other = `${prefix}-${random()}`;
      sockets.push(other);
      return other;
    },
    async attach(name) {
      const before = clientCount(tmux, name);
      // `script` gives the client a pty; it only takes a shell command string, which is safe
      // here: the socket and session names are letters, digits and dashes.
      const child = spawn(
        "script",
        ["-qfc", `tmux -L ${socket} attach-session -t =${name}`, "/dev/null"],
        {
          env: { ...clientEnv(), TERM: "xterm" },
          stdio: ["pipe", "ignore", "ignore"],
        },
      );
      clients.push(child);
      const exited = once(child, "exit");
      await waitUntil(`a client attached to ${name}`, () => clientCount(tmux, name) > before);
      return {
        type(keys) {
          child.stdin?.write(keys);
        },
        async detach() {
          child.stdin?.write("\u0002d");
          await exited;
          await waitUntil(`the client left ${name}`, () => clientCount(tmux, name) === before);
        },
      };
    },
    async cleanup() {
      try {
        for (const child of clients) {
          if (child.exitCode === null && child.signalCode === null) {
            const exited = once(child, "exit");
            child.kill("SIGKILL");
            await exited;
          }
        }
        await Promise.all(handles.map((handle) => runtime.kill(handle, 0)));
      } finally {
        for (const each of sockets) {
          tmux(["kill-server"], each);
        }
        await waitUntil(
          `no tmux process of sockets ${sockets.join(", ")} is left`,
          () => tmuxProcesses(sockets).length === 0,
        );
        const uid = process.getuid?.() ?? 0;
        const socketDir = join(process.env.TMUX_TMPDIR ?? "/tmp", `tmux-${uid}`);
        for (const each of sockets) {
          rmSync(join(socketDir, each), { force: true });
        }
        await rm(root, { recursive: true, force: true });
      }
    },
  };
}

function clientEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && name !== "TMUX" && name !== "TMUX_PANE") {
      env[name] = value;
    }
  }
  return env;
}

function clientCount(tmux: TmuxKit["tmux"], name: string): number {
  const result = tmux(["list-clients", "-t", `=${name}`]);
  return result.code === 0 ? result.stdout.split("\n").filter((l) => l !== "").length : 0;
}

/** Pids of live tmux processes (servers, clients) whose command line names one of `sockets`. */
export function tmuxProcesses(sockets: readonly string[]): number[] {
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
      const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (
        argv.some((arg) =>
          sockets.some((socket) => arg === socket || arg.includes(`-L ${socket} `)),
        )
      ) {
        pids.push(Number(entry));
      }
    } catch {
      // Gone while we looked, or another user's process.
    }
  }
  return pids;
}

/** Waits `ms`; for tests that must let time pass (client activity has 1 s resolution). */
export function sleep(ms: number): Promise<void> {
  return delay(ms);
}
