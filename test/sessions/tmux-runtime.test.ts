import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ProcessExitError } from "../../src/core/errors.js";
import { readExitRecord } from "../../src/sessions/exit-record.js";
import { followLog } from "../../src/sessions/follow-log.js";
import { isSessionAlive } from "../../src/sessions/is-session-alive.js";
import { createTmuxRuntime } from "../../src/sessions/tmux-runtime.js";
import { BASE_ENV, groupAndSession, markedPids, readText, waitUntil } from "./session-kit.js";
import { createTmuxKit, type TmuxKit } from "./tmux-kit.js";

const never = new AbortController().signal;

let kit: TmuxKit;
beforeEach(async () => {
  kit = await createTmuxKit();
});
afterEach(async () => {
  await kit.cleanup();
});

/** The log as the program wrote it: the terminal turns each `\n` into `\r\n` (onlcr). */
function terminal(text: string): string {
  return text.replace(/\n/g, "\r\n");
}

function hasSession(name: string, socket = kit.socket): boolean {
  return kit.tmux(["has-session", "-t", `=${name}`], socket).code === 0;
}

/** Processes whose command line mentions `text` (e.g. the pane's log pipe, by its log path). */
function processesMentioning(text: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) {
      continue;
    }
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(text)) {
        pids.push(Number(entry));
      }
    } catch {
      // Gone while we looked.
    }
  }
  return pids;
}

describe("tmux runtime: start and exit", () => {
  it("records the exit code, copies the pane to the log, and ends the tmux session", async () => {
    const handle = await kit.start({ argv: ["sh", "-c", "echo to-out; echo to-err >&2; exit 3"] });
    expect(handle.runtime).toBe("tmux");
    expect(handle.pidStartTime).toMatch(/^\d+$/);
    const exit = await kit.runtime.waitForExit(handle, never);
    expect(exit).toMatchObject({ exitCode: 3, signal: null });
    expect(exit?.at).toBeGreaterThanOrEqual(handle.startedAt - 1000);
    expect(readFileSync(handle.logPath, "utf8")).toBe(terminal("to-out\nto-err\n"));
    expect(readFileSync(join(handle.dir, "status"), "utf8")).toBe(`${handle.pid}\n3\n`);
    expect(readExitRecord(handle.dir)).toEqual(exit);
    expect(existsSync(join(handle.dir, "gate"))).toBe(false);
    expect(hasSession(handle.name)).toBe(false);
    expect(await kit.runtime.observe(handle)).toMatchObject({ alive: false, exit });
  });

  it("loses nothing a program prints at once, and has all of it when the exit is reported", async () => {
    const handle = await kit.start({ argv: ["seq", "1", "5000"] });
    await kit.runtime.waitForExit(handle, never);
    const expected = Array.from({ length: 5000 }, (_, i) => `${i + 1}\n`).join("");
    expect(readFileSync(handle.logPath, "utf8")).toBe(terminal(expected));
  });

  it("runs the wrapper as the pane's process: leader of its own session and process group", async () => {
    const handle = await kit.start({ argv: ["sleep", "300"] });
    const panePid = kit.tmux(["display-message", "-p", "-t", `=${handle.name}:`, "#{pane_pid}"]);
    expect(Number(panePid.stdout.trim())).toBe(handle.pid);
    expect(groupAndSession(handle.pid)).toEqual([handle.pid, handle.pid]);
    expect(readFileSync(`/proc/${handle.pid}/cmdline`, "utf8")).toContain("baton-session");
    await waitUntil("the program runs", () => markedPids(handle.name).length === 2);
  });

  it("gives the program exactly the job's environment, BATON_SESSION and tmux's TERM", async () => {
    process.env.BATON_TEST_ENGINE_ONLY = "leaked";
    const socket = kit.otherSocket("test-env");
    const runtime = createTmuxRuntime({ socket, pollIntervalMs: 50 });
    try {
      // The engine's own variables do not even reach the tmux server; give it one of its own.
      const keeper = await runtime.start(kit.spec({ argv: ["sleep", "300"] }));
      kit.track(keeper);
      const serverEnv = kit.tmux(["show-environment", "-g"], socket).stdout;
      expect(serverEnv).toContain("PATH=");
      expect(serverEnv).not.toContain("BATON_TEST_ENGINE_ONLY");
      kit.tmux(["set-environment", "-g", "BATON_TEST_SERVER_ONLY", "leaked"], socket);
      expect(kit.tmux(["show-environment", "-g", "BATON_TEST_SERVER_ONLY"], socket).stdout).toBe(
        "BATON_TEST_SERVER_ONLY=leaked\n",
      );
      const term = kit.tmux(["show-options", "-gv", "default-terminal"], socket).stdout.trim();
      expect(term).not.toBe("");

      const env = {
        ...BASE_ENV,
        GREETING: "hello world",
        MULTI: "line one\nline two",
        SEMI: "ends with;",
        IFS: "x",
        PWD: "/given/pwd",
        OPTIND: "7",
      };
      const spec = kit.spec({ argv: ["env", "-0"], env });
      const handle = await runtime.start(spec);
      kit.track(handle);
      await runtime.waitForExit(handle, never);
      const seen = Object.fromEntries(
        readFileSync(handle.logPath, "utf8")
          .replace(/\r\n/g, "\n")
          .split("\0")
          .filter((entry) => entry !== "")
          .map((entry) => [
            entry.slice(0, entry.indexOf("=")),
            entry.slice(entry.indexOf("=") + 1),
          ]),
      );
      expect(seen).toEqual({ ...env, BATON_SESSION: spec.name, TERM: term });

      // A job that sets TERM keeps its own.
      const own = await runtime.start(
        kit.spec({ argv: ["printenv", "TERM"], env: { ...BASE_ENV, TERM: "dumb" } }),
      );
      kit.track(own);
      await runtime.waitForExit(own, never);
      expect(readFileSync(own.logPath, "utf8")).toBe(terminal("dumb\n"));
    } finally {
      delete process.env.BATON_TEST_ENGINE_ONLY;
    }
  });

  it("passes argv and cwd through literally: shell syntax, tmux separators and formats", async () => {
    const victim = join(kit.root, "victim");
    writeFileSync(victim, "still here");
    const args = [
      `$(touch ${join(kit.root, "dollar")})`,
      `\`touch ${join(kit.root, "backtick")}\``,
      `; rm -rf ${victim}`,
      `'single' "double" \\back`,
      "two\nlines",
      "$HOME * ?",
      "",
      "--",
      "-x",
      "ends with;",
      ";",
      "ends with \\;",
      "#{session_name}",
      `#(touch ${join(kit.root, "format")})`,
      "kill-server",
    ];
    const cwd = join(kit.root, "odd #{session_name} '$x' ;");
    mkdirSync(cwd);
    const program =
      "process.stdout.write(JSON.stringify({ args: process.argv.slice(1), cwd: process.cwd() }))";
    const handle = await kit.start({ argv: [process.execPath, "-e", program, "--", ...args], cwd });
    expect(await kit.runtime.waitForExit(handle, never)).toMatchObject({ exitCode: 0 });
    expect(JSON.parse(readFileSync(handle.logPath, "utf8"))).toEqual({
      args,
      cwd: realpathSync(cwd),
    });
    expect(existsSync(join(kit.root, "dollar"))).toBe(false);
    expect(existsSync(join(kit.root, "backtick"))).toBe(false);
    expect(existsSync(join(kit.root, "format"))).toBe(false);
    expect(readFileSync(victim, "utf8")).toBe("still here");
  });

  it("feeds a file stdin to the program, a fifo session its FIFO; a null session reads the terminal", async () => {
    const prompt = join(kit.root, "prompt.md");
    writeFileSync(prompt, "the prompt\nsecond line\n");
    const fromFile = await kit.start({ argv: ["cat"], stdin: { kind: "file", path: prompt } });
    expect(await kit.runtime.waitForExit(fromFile, never)).toMatchObject({ exitCode: 0 });
    expect(readFileSync(fromFile.logPath, "utf8")).toBe(terminal("the prompt\nsecond line\n"));

    const fromTerminal = await kit.start({
      argv: ["sh", "-c", "[ -t 0 ] && [ -t 1 ] && echo terminal"],
      stdin: { kind: "null" },
    });
    expect(await kit.runtime.waitForExit(fromTerminal, never)).toMatchObject({ exitCode: 0 });
    expect(readFileSync(fromTerminal.logPath, "utf8")).toBe(terminal("terminal\n"));

    // A headless agent that streams its input: stdin is the FIFO, output still the terminal;
    // a steering message goes into the FIFO, not typed into the pane.
    const fromFifo = await kit.start({
      argv: ["sh", "-c", '[ -t 0 ] || [ ! -t 1 ] || { read -r line; echo "read: $line"; }'],
      stdin: { kind: "fifo" },
    });
    expect(await kit.runtime.steer(fromFifo, "from the fifo\n")).toEqual({ delivered: true });
    expect(await kit.runtime.waitForExit(fromFifo, never)).toMatchObject({ exitCode: 0 });
    expect(readFileSync(fromFifo.logPath, "utf8")).toBe(terminal("read: from the fifo\n"));
  });

  it("records 127 for a missing program, and a signal for a program killed by one", async () => {
    const missing = await kit.start({ argv: ["baton-no-such-program"] });
    expect(await kit.runtime.waitForExit(missing, never)).toMatchObject({ exitCode: 127 });
    expect(readFileSync(missing.logPath, "utf8")).toContain("baton-no-such-program");
    const killed = await kit.start({ argv: ["sh", "-c", "kill -KILL $$"] });
    expect(await kit.runtime.waitForExit(killed, never)).toMatchObject({
      exitCode: null,
      signal: "SIGKILL",
    });
  });

  it("refuses specs it cannot run, with what to fix, and leaves no session behind", async () => {
    await expect(kit.start({ argv: ["true"], name: "has.dot" })).rejects.toThrow(
      /only letters, digits/,
    );
    await expect(kit.start({ argv: ["true"], cwd: join(kit.root, "missing") })).rejects.toThrow(
      ProcessExitError,
    );
    await expect(
      kit.start({ argv: ["true"], stdin: { kind: "file", path: join(kit.root, "nope") } }),
    ).rejects.toThrow(/cannot open stdin file/);
    await expect(kit.start({ argv: ["echo", "x".repeat(20_000)] })).rejects.toThrow(
      /more than tmux accepts/,
    );
    const first = await kit.start({ argv: ["sleep", "300"] });
    await expect(kit.runtime.start(kit.spec({ argv: ["true"], name: first.name }))).rejects.toThrow(
      /duplicate session/,
    );
    expect(hasSession(first.name)).toBe(true);
    expect(await kit.runtime.listLive()).toEqual([first.name]);
  });
});

describe("tmux runtime: observe, adopt, peek", () => {
  it("is adopted by a second runtime instance that has only the handle", async () => {
    const handle = await kit.start({
      argv: [
        "sh",
        "-c",
        "echo started; while [ ! -e go ]; do sleep 0.02; done; echo finished; exit 7",
      ],
    });
    const adopter = createTmuxRuntime({ socket: kit.socket, pollIntervalMs: 50 });
    await waitUntil("the program wrote output", () => readText(handle.logPath) === "started\r\n");
    const running = await adopter.observe(handle);
    expect(running).toMatchObject({
      alive: true,
      exit: null,
      human: "absent",
      humanActiveAt: null,
    });
    expect(running.logBytes).toBe("started\r\n".length);
    expect(running.lastOutputAt).toBeGreaterThanOrEqual(handle.startedAt - 1000);
    expect(await adopter.state(handle)).toBe("active");
    expect(await adopter.state(handle, { idleAt: Date.now(), activeAt: null })).toBe("idle");

    const wait = adopter.waitForExit(handle, never);
    writeFileSync(join(kit.root, "go"), "");
    expect(await wait).toMatchObject({ exitCode: 7 });
    expect(readFileSync(handle.logPath, "utf8")).toBe("started\r\nfinished\r\n");
    expect(await adopter.observe(handle)).toMatchObject({ alive: false, exit: { exitCode: 7 } });
    expect(await adopter.state(handle)).toBe("exited");
  });

  it("streams the log to followers while the session runs, ending with the session", async () => {
    const handle = await kit.start({
      argv: ["sh", "-c", "echo one; while [ ! -e go ]; do sleep 0.02; done; echo two"],
    });
    const follow = async (): Promise<string> => {
      let text = "";
      for await (const chunk of followLog(handle.logPath, {
        signal: never,
        until: async () => (await kit.runtime.observe(handle)).exit !== null,
      })) {
        text += chunk.toString("utf8");
        if (text === "one\r\n") {
          writeFileSync(join(kit.root, "go"), "");
        }
      }
      return text;
    };
    const [first, second] = await Promise.all([follow(), follow()]);
    expect(first).toBe("one\r\ntwo\r\n");
    expect(second).toBe("one\r\ntwo\r\n");
  });

  it("reports a session that vanished without a record as not alive", async () => {
    const handle = await kit.start({ argv: ["sleep", "300"] });
    process.kill(handle.pid, "SIGKILL");
    expect(await kit.runtime.waitForExit(handle, never)).toBeNull();
    expect(await kit.runtime.observe(handle)).toMatchObject({ alive: false, exit: null });
    expect(await kit.runtime.state(handle)).toBe("gone");
  });

  it("rejects waitForExit with an AbortError when aborted", async () => {
    const handle = await kit.start({ argv: ["sleep", "300"] });
    const controller = new AbortController();
    const wait = kit.runtime.waitForExit(handle, controller.signal);
    controller.abort();
    await expect(wait).rejects.toMatchObject({ name: "AbortError" });
  });

  it("peeks at the pane's last lines, and at the log once the session is gone", async () => {
    const handle = await kit.start({
      argv: ["sh", "-c", "seq 1 300; while [ ! -e go ]; do sleep 0.02; done"],
    });
    await waitUntil("all lines are out", () => readText(handle.logPath).endsWith("300\r\n"));
    expect(await kit.runtime.peek(handle, 5)).toBe("296\n297\n298\n299\n300\n");
    expect(await kit.runtime.peek(handle, 1)).toBe("300\n");
    expect(await kit.runtime.peek(handle, 0)).toBe("");
    writeFileSync(join(kit.root, "go"), "");
    await kit.runtime.waitForExit(handle, never);
    expect(hasSession(handle.name)).toBe(false);
    expect(await kit.runtime.peek(handle, 3)).toBe("298\n299\n300\n");
  });
});

describe("tmux runtime: kill, list, and the user's own tmux", () => {
  it("kills the program, its children, the log pipe and the tmux session", async () => {
    const handle = await kit.start({ argv: ["sh", "-c", "sleep 300 & sleep 300 & wait"] });
    await waitUntil("the sleeps run", () => markedPids(handle.name).length >= 4);
    expect(processesMentioning(handle.logPath).length).toBeGreaterThan(0);
    const wait = kit.runtime.waitForExit(handle, never);
    const began = Date.now();
    await kit.runtime.kill(handle, 2_000);
    expect(Date.now() - began).toBeLessThan(3_000);
    expect(markedPids(handle.name)).toEqual([]);
    expect(processesMentioning(handle.logPath)).toEqual([]);
    expect(hasSession(handle.name)).toBe(false);
    expect(await wait).toMatchObject({ exitCode: null, signal: "SIGTERM" });
    // Safe again on a session that is gone, and on a server that is gone.
    await kit.runtime.kill(handle, 0);
    kit.tmux(["kill-server"]);
    await kit.runtime.kill(handle, 0);
    expect(isSessionAlive(handle)).toBe(false);
  });

  it("escalates to SIGKILL for a program that ignores SIGTERM", async () => {
    const handle = await kit.start({
      argv: ["sh", "-c", "trap '' TERM HUP; echo ready; while :; do sleep 0.05; done"],
    });
    await waitUntil("the trap is set", () => readText(handle.logPath) === "ready\r\n");
    await kit.runtime.kill(handle, 300);
    expect(markedPids(handle.name)).toEqual([]);
    expect(hasSession(handle.name)).toBe(false);
  });

  it("lists the live sessions on its socket, and kills one by name", async () => {
    const fresh = createTmuxRuntime({ socket: kit.otherSocket("test-unused") });
    expect(await fresh.listLive()).toEqual([]);
    await fresh.killByName("baton-nothing-here");

    const a = await kit.start({ argv: ["sh", "-c", "sleep 300 & wait"] });
    const b = await kit.start({ argv: ["sleep", "300"] });
    expect((await kit.runtime.listLive()).sort()).toEqual([a.name, b.name].sort());
    await waitUntil("a's sleep runs", () => markedPids(a.name).length >= 3);
    await kit.runtime.killByName(a.name);
    expect(markedPids(a.name)).toEqual([]);
    expect(await kit.runtime.listLive()).toEqual([b.name]);
    await kit.runtime.killByName(a.name);
    await kit.runtime.killByName("no.such:session");
    expect(await kit.runtime.listLive()).toEqual([b.name]);
  });

  it("never lists, touches or kills sessions of another tmux server", async () => {
    const user = kit.otherSocket("test-default");
    const ours = await kit.start({ argv: ["sleep", "300"] });
    // The user's server has a session of their own and one with the same name as ours.
    for (const name of ["work", ours.name]) {
      const made = kit.tmux(["new-session", "-d", "-s", name, "--", "sleep", "300"], user);
      expect(made.code).toBe(0);
    }
    expect(await kit.runtime.listLive()).toEqual([ours.name]);
    await kit.runtime.killByName("work");
    await kit.runtime.kill(ours, 1_000);
    expect(await kit.runtime.listLive()).toEqual([]);
    expect(await kit.runtime.observe(ours)).toMatchObject({ alive: false });
    expect(hasSession("work", user)).toBe(true);
    expect(hasSession(ours.name, user)).toBe(true);
    expect(kit.runtime.attachCommand?.(ours)).toEqual([
      "tmux",
      "-L",
      kit.socket,
      "attach-session",
      "-t",
      `=${ours.name}`,
    ]);
  });
});
