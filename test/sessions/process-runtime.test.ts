import { existsSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ProcessExitError } from "../../src/core/errors.js";
import { readExitRecord } from "../../src/sessions/exit-record.js";
import { createProcessRuntime } from "../../src/sessions/process-runtime.js";
import { sessionWasSpawned } from "../../src/sessions/session-was-spawned.js";
import {
  BASE_ENV,
  createSessionKit,
  groupAndSession,
  readText,
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

describe("process runtime: start and exit", () => {
  it("records the exit code, and stdout and stderr both reach the log", async () => {
    const handle = await kit.start({ argv: ["sh", "-c", "echo to-out; echo to-err >&2; exit 3"] });
    expect(handle.runtime).toBe("process");
    expect(handle.pidStartTime).toMatch(/^\d+$/);
    const exit = await kit.runtime.waitForExit(handle, never);
    expect(exit).toMatchObject({ exitCode: 3, signal: null });
    expect(exit?.at).toBeGreaterThanOrEqual(handle.startedAt - 1000);
    expect(exit?.at).toBeLessThanOrEqual(Date.now() + 1000);
    expect(readFileSync(handle.logPath, "utf8")).toBe("to-out\nto-err\n");
    expect(readFileSync(join(handle.dir, "status"), "utf8")).toBe(`${handle.pid}\n3\n`);
    expect(readExitRecord(handle.dir)).toEqual(exit);
    expect(sessionWasSpawned(handle.dir)).toBe(true);
  });

  it("reports a program killed by a signal as that signal", async () => {
    const handle = await kit.start({ argv: ["sh", "-c", "kill -KILL $$"] });
    expect(await kit.runtime.waitForExit(handle, never)).toMatchObject({
      exitCode: null,
      signal: "SIGKILL",
    });
  });

  it("gives the program exactly the given environment plus BATON_SESSION", async () => {
    process.env.BATON_TEST_MUST_NOT_LEAK = "leaked";
    try {
      const env = {
        ...BASE_ENV,
        GREETING: "hello world",
        MULTI: "line one\nline two",
        // Variables a shell manages itself must still come through as given.
        IFS: "x",
        PWD: "/given/pwd",
        OPTIND: "7",
      };
      const spec = kit.spec({ argv: ["env", "-0"], env });
      const handle = await kit.runtime.start(spec);
      kit.track(handle);
      await kit.runtime.waitForExit(handle, never);
      const seen = Object.fromEntries(
        readFileSync(handle.logPath, "utf8")
          .split("\0")
          .filter((entry) => entry !== "")
          .map((entry) => [
            entry.slice(0, entry.indexOf("=")),
            entry.slice(entry.indexOf("=") + 1),
          ]),
      );
      expect(seen).toEqual({ ...env, BATON_SESSION: spec.name });
    } finally {
      delete process.env.BATON_TEST_MUST_NOT_LEAK;
    }
  });

  it("passes arguments with shell syntax through literally", async () => {
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
    ];
    const program = "process.stdout.write(JSON.stringify(process.argv.slice(1)))";
    const handle = await kit.start({ argv: [process.execPath, "-e", program, "--", ...args] });
    expect(await kit.runtime.waitForExit(handle, never)).toMatchObject({ exitCode: 0 });
    expect(JSON.parse(readFileSync(handle.logPath, "utf8"))).toEqual(args);
    expect(existsSync(join(kit.root, "dollar"))).toBe(false);
    expect(existsSync(join(kit.root, "backtick"))).toBe(false);
    expect(readFileSync(victim, "utf8")).toBe("still here");
  });

  it("runs the program, never a shell builtin of the same name", async () => {
    // dash's builtin echo would turn \n into a newline; /usr/bin/echo prints it as is.
    const handle = await kit.start({ argv: ["echo", "a\\nb"] });
    await kit.runtime.waitForExit(handle, never);
    expect(readFileSync(handle.logPath, "utf8")).toBe("a\\nb\n");
  });

  it("runs in the given cwd", async () => {
    const handle = await kit.start({ argv: ["pwd"], cwd: "/usr" });
    await kit.runtime.waitForExit(handle, never);
    expect(readFileSync(handle.logPath, "utf8")).toBe(`${realpathSync("/usr")}\n`);
  });

  it("records 127 for a program that does not exist", async () => {
    const handle = await kit.start({ argv: ["baton-no-such-program"] });
    expect(await kit.runtime.waitForExit(handle, never)).toMatchObject({ exitCode: 127 });
    expect(readFileSync(handle.logPath, "utf8")).toContain("baton-no-such-program");
  });

  it("refuses a missing cwd with a clear error before spawning anything", async () => {
    const spec = kit.spec({ argv: ["true"], cwd: join(kit.root, "missing") });
    const error: unknown = await kit.runtime.start(spec).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(ProcessExitError);
    expect((error as ProcessExitError).message).toMatch(
      /working directory .*missing.* does not exist/,
    );
    expect(sessionWasSpawned(spec.dir)).toBe(false);
  });

  it("works in a session directory whose path has spaces and shell syntax", async () => {
    const spec = kit.spec({ argv: ["sh", "-c", "echo ok; exit 2"] });
    const handle = await kit.runtime.start({ ...spec, dir: join(kit.root, "a dir $(x) 'q' `y`") });
    kit.track(handle);
    expect(await kit.runtime.waitForExit(handle, never)).toMatchObject({ exitCode: 2 });
    expect(readText(handle.logPath)).toBe("ok\n");
  });

  it("refuses environment names a shell would drop", async () => {
    const spec = kit.spec({ argv: ["true"], env: { ...BASE_ENV, "NOT-PORTABLE": "1" } });
    await expect(kit.runtime.start(spec)).rejects.toThrow(/"NOT-PORTABLE"/);
  });

  it("clears the exit record of an earlier run in the same directory", async () => {
    const spec = kit.spec({ argv: ["sh", "-c", "exit 9"] });
    const first = await kit.runtime.start(spec);
    kit.track(first);
    await kit.runtime.waitForExit(first, never);
    const second = await kit.runtime.start({ ...spec, argv: ["sleep", "30"] });
    kit.track(second);
    expect(readExitRecord(second.dir)).toBeNull();
  });

  it("puts the wrapper in its own session and process group", async () => {
    const handle = await kit.start({ argv: ["sleep", "30"] });
    expect(groupAndSession(handle.pid)).toEqual([handle.pid, handle.pid]);
    expect(groupAndSession(process.pid)[0]).not.toBe(handle.pid);
  });

  it("appends to an existing log", async () => {
    const spec = kit.spec({ argv: ["echo", "second"] });
    const first = await kit.runtime.start({ ...spec, argv: ["echo", "first"] });
    kit.track(first);
    await kit.runtime.waitForExit(first, never);
    const second = await kit.runtime.start(spec);
    kit.track(second);
    await kit.runtime.waitForExit(second, never);
    expect(readText(second.logPath)).toBe("first\nsecond\n");
  });
});

describe("process runtime: waitForExit", () => {
  it("rejects with an AbortError when the signal aborts, for own and adopted sessions", async () => {
    const handle = await kit.start({ argv: ["sleep", "30"] });
    const own = new AbortController();
    const ownWait = kit.runtime.waitForExit(handle, own.signal);
    own.abort();
    await expect(ownWait).rejects.toMatchObject({ name: "AbortError" });

    const adopter = createProcessRuntime({ pollIntervalMs: 20 });
    const adopted = new AbortController();
    const adoptedWait = adopter.waitForExit(handle, adopted.signal);
    setTimeout(() => adopted.abort(), 50);
    await expect(adoptedWait).rejects.toMatchObject({ name: "AbortError" });
    await expect(adopter.waitForExit(handle, adopted.signal)).rejects.toMatchObject({
      name: "AbortError",
    });
  });

  it("resolves null when the wrapper died without an exit record", async () => {
    const handle = await kit.start({ argv: ["sleep", "30"] });
    const wait = kit.runtime.waitForExit(handle, never);
    process.kill(-handle.pid, "SIGKILL");
    expect(await wait).toBeNull();
  });
});
