import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { followLog, type FollowLogOptions } from "../../src/sessions/follow-log.js";
import { sleep } from "./tmux-kit.js";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "baton-follow-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Collects everything a follower yields, with the time each chunk arrived. */
async function collect(
  path: string,
  options: FollowLogOptions,
): Promise<{ text: string; chunks: { at: number; text: string }[] }> {
  const chunks: { at: number; text: string }[] = [];
  for await (const chunk of followLog(path, options)) {
    chunks.push({ at: Date.now(), text: chunk.toString("utf8") });
  }
  return { text: chunks.map((c) => c.text).join(""), chunks };
}

/** Appends `count` numbered lines with small pauses; returns everything written. */
async function writeLines(path: string, count: number): Promise<string> {
  let written = "";
  for (let i = 0; i < count; i += 1) {
    const line = `line ${i} ${"x".repeat(i % 7)}\n`;
    appendFileSync(path, line);
    written += line;
    if (i % 10 === 0) {
      await sleep(1);
    }
  }
  return written;
}

describe("followLog", () => {
  it("yields every appended byte once, in order, to each of two concurrent followers", async () => {
    const path = join(root, "log");
    writeFileSync(path, "already there\n");
    let done = false;
    const options = { signal: new AbortController().signal, until: () => done };
    const first = collect(path, options);
    const second = collect(path, { ...options, safetyPollMs: 20 });
    const written = await writeLines(path, 500);
    done = true;
    const [a, b] = await Promise.all([first, second]);
    expect(a.text).toBe(`already there\n${written}`);
    expect(b.text).toBe(`already there\n${written}`);
  });

  it("starts at fromOffset", async () => {
    const path = join(root, "log");
    writeFileSync(path, "0123456789");
    let done = false;
    const result = collect(path, {
      fromOffset: 4,
      signal: new AbortController().signal,
      until: () => done,
    });
    await sleep(20);
    appendFileSync(path, "abc");
    done = true;
    expect((await result).text).toBe("456789abc");
  });

  it("waits for a file that does not exist yet, and for its directory", async () => {
    const dir = join(root, "later");
    const path = join(dir, "log");
    let done = false;
    const result = collect(path, {
      signal: new AbortController().signal,
      until: () => done,
      safetyPollMs: 20,
    });
    await sleep(50);
    mkdirSync(dir);
    await sleep(50);
    writeFileSync(path, "first\n");
    await sleep(20);
    appendFileSync(path, "second\n");
    done = true;
    expect((await result).text).toBe("first\nsecond\n");
  });

  it("reacts to an append through fs.watch, not the safety poll", async () => {
    const path = join(root, "log");
    writeFileSync(path, "");
    const controller = new AbortController();
    const delays: number[] = [];
    const follower = (async () => {
      for await (const chunk of followLog(path, {
        signal: controller.signal,
        safetyPollMs: 60_000,
      })) {
        delays.push(Date.now() - Number(chunk.toString("utf8").trim().split("\n").pop()));
      }
    })();
    for (let i = 0; i < 5; i += 1) {
      await sleep(50);
      appendFileSync(path, `${Date.now()}\n`);
    }
    await sleep(100);
    controller.abort();
    await follower;
    expect(delays.length).toBeGreaterThanOrEqual(1);
    // Far below the 60 s safety poll; generous against a loaded machine.
    expect(Math.max(...delays)).toBeLessThan(1_000);
  });

  it("ends when until() holds and the file is drained, and ends quietly on abort", async () => {
    const path = join(root, "log");
    writeFileSync(path, "a");
    let done = false;
    const ending = collect(path, {
      signal: new AbortController().signal,
      until: async () => {
        await sleep(1);
        return done;
      },
    });
    await sleep(30);
    appendFileSync(path, "b");
    done = true;
    // Written after until() turned true but before the follower looked again: still drained.
    appendFileSync(path, "c");
    expect((await ending).text).toBe("abc");

    const controller = new AbortController();
    const aborted = collect(path, { signal: controller.signal });
    await sleep(30);
    controller.abort();
    expect((await aborted).text).toBe("abc");

    const already = new AbortController();
    already.abort();
    expect((await collect(path, { signal: already.signal })).text).toBe("");
  });

  it("releases its watcher and timer when the reader stops early", async () => {
    const path = join(root, "log");
    writeFileSync(path, "one\n");
    const resources = (): string[] =>
      process.getActiveResourcesInfo().filter((r) => r === "FSEventWrap" || r === "Timeout");
    const before = resources().length;
    for await (const chunk of followLog(path, { signal: new AbortController().signal })) {
      expect(resources().length).toBe(before + 2);
      expect(chunk.toString("utf8")).toBe("one\n");
      break;
    }
    expect(resources().length).toBe(before);
  });
});
