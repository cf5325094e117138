import { spawn } from "node:child_process";
import { once } from "node:events";
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, expect, it } from "vitest";
import { isSessionAlive } from "../../src/sessions/is-session-alive.js";
import { createProcessRuntime } from "../../src/sessions/process-runtime.js";
import type { SessionHandle } from "../../src/sessions/runtime.js";
import {
  createSessionKit,
  groupAndSession,
  readText,
  waitUntil,
  type SessionKit,
} from "./session-kit.js";

const here = dirname(fileURLToPath(import.meta.url));
// vite-node comes with vitest; it lets a separate Node process import our TypeScript.
const viteNode = join(
  dirname(createRequire(import.meta.url).resolve("vite-node/package.json")),
  "vite-node.mjs",
);

let kit: SessionKit;
beforeEach(async () => {
  kit = await createSessionKit();
});
afterEach(async () => {
  await kit.cleanup();
});

it("keeps running and records its exit after the engine that started it is SIGKILLed", async () => {
  const spec = kit.spec({ argv: [] });
  const engine = spawn(
    process.execPath,
    [viteNode, join(here, "fixtures", "start-session.ts"), "--", spec.dir, kit.root, spec.name],
    { cwd: kit.root, stdio: ["ignore", "pipe", "inherit"] },
  );
  const engineExit = once(engine, "exit");
  let handle: SessionHandle;
  try {
    const lines = createInterface({ input: engine.stdout });
    const [line] = (await once(lines, "line")) as [string];
    handle = JSON.parse(line) as SessionHandle;
    kit.track(handle);
    lines.close();
  } finally {
    engine.kill("SIGKILL");
    await engineExit;
  }

  expect(groupAndSession(handle.pid)).toEqual([handle.pid, handle.pid]);
  await waitUntil("the program wrote output", () => readText(handle.logPath) === "started\n");
  expect(isSessionAlive(handle)).toBe(true);

  const adopter = createProcessRuntime({ pollIntervalMs: 50 });
  const wait = adopter.waitForExit(handle, new AbortController().signal);
  writeFileSync(join(kit.root, "go"), "");
  expect(await wait).toMatchObject({ exitCode: 7, signal: null });
  expect(readText(handle.logPath)).toBe("started\nfinished\n");
});
