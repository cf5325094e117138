/**
 * A small helper process that starts sessions for the engine.
 *
 * Node forks to spawn, and fork copies the parent's page tables: the more memory the engine
 * holds (a store, snapshots, thousands of jobs), the longer every spawn takes — several
 * milliseconds per job, on the engine's own thread. The spawner is a bare Node process that
 * stays small; it creates the session directory, opens the log, spawns the wrapper and reports
 * the pid and, later, the exit. The engine's CPU goes to scheduling, and spawning runs beside it.
 *
 * The spawner holds no state that matters: sessions are detached, write their own pid and exit
 * records, and are adopted from those if the spawner (or the engine) goes away. It exits when
 * its IPC channel closes, which happens when the engine exits for any reason.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { coerceError } from "../lib/coerce-error.js";

export interface SpawnRequest {
  file: string;
  args: readonly string[];
  cwd: string;
  env: Record<string, string>;
  /** Created (0700), with its parents, if missing. */
  dir: string;
  /** Files removed before the start when `dir` already existed (a previous run's records). */
  remove: readonly string[];
  /** Opened for appending as stdout and stderr. */
  log: string;
  /** `file`: opened read-only; `fifo`: an existing FIFO opened read-write; `null`: /dev/null. */
  stdin: { kind: "file" | "fifo"; path: string } | { kind: "null" };
}

type FromSpawner =
  | { type: "spawned"; id: number; pid: number }
  | { type: "failed"; id: number; message: string }
  | { type: "exit"; pid: number };

/**
 * The spawner's program, run with `node -e` so it needs no file of its own (it works the same
 * from `dist/` and from sources). Plain CommonJS, no imports beyond Node's.
 */
const SPAWNER_SOURCE = `
"use strict";
const { spawn } = require("node:child_process");
const fs = require("node:fs");
// The engine may go away at any moment; a reply it cannot take is dropped, never fatal.
const send = (message) => {
  if (process.connected) process.send(message, () => undefined);
};
process.on("error", () => undefined);
process.on("disconnect", () => process.exit(0));
process.on("message", (m) => {
  const fds = [];
  let child;
  try {
    // A new directory holds nothing to remove; only a reused one may hold a run's old records.
    let fresh = true;
    try {
      fs.mkdirSync(m.dir, { mode: 0o700 });
    } catch (error) {
      if (error && error.code === "ENOENT") fs.mkdirSync(m.dir, { recursive: true, mode: 0o700 });
      else if (error && error.code === "EEXIST") fresh = false;
      else throw error;
    }
    if (!fresh) for (const file of m.remove) fs.rmSync(file, { force: true });
    const log = fs.openSync(m.log, "a", 0o600);
    fds.push(log);
    let stdin = "ignore";
    if (m.stdin.kind !== "null") {
      stdin = fs.openSync(m.stdin.path, m.stdin.kind === "fifo" ? "r+" : "r");
      fds.push(stdin);
    }
    child = spawn(m.file, m.args, { cwd: m.cwd, env: m.env, detached: true, stdio: [stdin, log, log] });
  } catch (error) {
    send({ type: "failed", id: m.id, message: String(error && error.message) });
    return;
  } finally {
    for (const fd of fds) fs.closeSync(fd);
  }
  child.once("error", (error) => send({ type: "failed", id: m.id, message: String(error && error.message) }));
  child.once("spawn", () => {
    send({ type: "spawned", id: m.id, pid: child.pid });
    child.once("exit", () => send({ type: "exit", pid: child.pid }));
  });
  child.unref();
});
`;

const EARLY_EXITS_KEPT = 1024;

export interface Spawner {
  /** Starts a session; resolves with its pid once it runs. Rejects when it cannot start. */
  spawn(request: SpawnRequest): Promise<number>;
  /**
   * Calls `onExit` when the session with `pid` (started through this spawner) ends, or with
   * `false` if the spawner went away first and the caller must watch the session itself.
   * Returns the function that stops listening.
   */
  watch(pid: number, onExit: (seen: boolean) => void): () => void;
  close(): void;
}

/** Creates a spawner; its process starts on the first `spawn`. */
export function createSpawner(): Spawner {
  let child: ChildProcess | undefined;
  let nextId = 1;
  const pending = new Map<
    number,
    { resolve: (pid: number) => void; reject: (error: Error) => void }
  >();
  const watchers = new Map<number, Set<(seen: boolean) => void>>();
  /** Exits reported before anyone watched (a session can end before its start resolves). */
  const early = new Set<number>();

  /** The channel keeps the engine alive only while someone waits on it. */
  const refresh = (): void => {
    const busy = pending.size > 0 || watchers.size > 0;
    if (busy) {
      child?.channel?.ref();
    } else {
      child?.channel?.unref();
    }
  };

  const gone = (why: string): void => {
    child = undefined;
    for (const { reject } of pending.values()) {
      reject(new Error(`the session spawner stopped: ${why}`));
    }
    pending.clear();
    for (const set of watchers.values()) {
      for (const onExit of set) {
        onExit(false);
      }
    }
    watchers.clear();
  };

  const ensure = (): ChildProcess => {
    if (child !== undefined) {
      return child;
    }
    // `node -e` with an IPC channel: no file to write, none left behind if the engine is killed.
    const started = spawn(process.execPath, ["-e", SPAWNER_SOURCE], {
      stdio: ["ignore", "ignore", "inherit", "ipc"],
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
      serialization: "json",
    });
    started.on("message", (message: FromSpawner) => {
      if (message.type === "exit") {
        const set = watchers.get(message.pid);
        watchers.delete(message.pid);
        if (set === undefined) {
          early.add(message.pid);
          if (early.size > EARLY_EXITS_KEPT) {
            early.delete(early.values().next().value as number);
          }
        }
        for (const onExit of set ?? []) {
          onExit(true);
        }
        refresh();
        return;
      }
      const waiter = pending.get(message.id);
      pending.delete(message.id);
      refresh();
      if (waiter === undefined) {
        return;
      }
      if (message.type === "spawned") {
        waiter.resolve(message.pid);
      } else {
        waiter.reject(new Error(message.message));
      }
    });
    started.on("exit", (code, signal) => {
      if (child === started) {
        gone(`exited with ${signal ?? `code ${code}`}`);
      }
    });
    started.on("error", (error) => {
      if (child === started) {
        gone(coerceError(error).message);
      }
    });
    // Neither the process nor its channel may keep the engine alive.
    started.unref();
    started.channel?.unref();
    child = started;
    return started;
  };

  return {
    spawn: (request) =>
      new Promise<number>((resolve, reject) => {
        const id = nextId;
        nextId += 1;
        pending.set(id, { resolve, reject });
        const running = ensure();
        refresh();
        running.send({ ...request, id }, (error) => {
          if (error !== null) {
            pending.delete(id);
            refresh();
            reject(error);
          }
        });
      }),
    watch: (pid, onExit) => {
      if (early.delete(pid)) {
        onExit(true);
        return () => undefined;
      }
      if (child === undefined) {
        onExit(false);
        return () => undefined;
      }
      let set = watchers.get(pid);
      if (set === undefined) {
        set = new Set();
        watchers.set(pid, set);
      }
      set.add(onExit);
      refresh();
      const registered = set;
      return () => {
        registered.delete(onExit);
        if (registered.size === 0 && watchers.get(pid) === registered) {
          watchers.delete(pid);
        }
        refresh();
      };
    },
    close: () => {
      const running = child;
      child = undefined;
      if (running?.connected === true) {
        running.disconnect();
      }
      gone("closed");
    },
  };
}
