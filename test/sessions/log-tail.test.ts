import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readLastLines, readLogTail } from "../../src/sessions/log-tail.js";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "baton-log-tail-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function file(content: string | Buffer): Promise<string> {
  const path = join(root, `log-${Math.random().toString(36).slice(2)}`);
  await writeFile(path, content);
  return path;
}

describe("readLogTail", () => {
  it("returns an empty string for a missing or empty file", async () => {
    expect(await readLogTail(join(root, "missing"), 100)).toBe("");
    expect(await readLogTail(await file(""), 100)).toBe("");
  });

  it("returns a short file whole", async () => {
    expect(await readLogTail(await file("partial first\nsecond\n"), 100)).toBe(
      "partial first\nsecond\n",
    );
  });

  it("starts the tail of a long file at a line boundary", async () => {
    const path = await file("aaaa\nbbbb\ncccc\n");
    // The last 12 bytes are "aa\nbbbb\ncccc\n"; the partial "aa" line is dropped.
    expect(await readLogTail(path, 12)).toBe("bbbb\ncccc\n");
  });

  it("keeps a tail that is one long line", async () => {
    expect(await readLogTail(await file("x".repeat(50)), 10)).toBe("x".repeat(10));
  });

  it("never splits a multi-byte character at the cut", async () => {
    const path = await file(`${"é".repeat(20)}\nend ✓\n`);
    expect(await readLogTail(path, 15)).toBe("end ✓\n");
  });
});

describe("readLastLines", () => {
  it("returns the last lines, keeping the final newline", async () => {
    const path = await file("1\n2\n3\n4\n");
    expect(await readLastLines(path, 2)).toBe("3\n4\n");
    expect(await readLastLines(path, 4)).toBe("1\n2\n3\n4\n");
    expect(await readLastLines(path, 10)).toBe("1\n2\n3\n4\n");
    expect(await readLastLines(path, 0)).toBe("");
  });

  it("counts an unterminated last line as a line", async () => {
    expect(await readLastLines(await file("1\n2\n3"), 2)).toBe("2\n3");
  });

  it("finds lines across read chunks", async () => {
    const line = `${"y".repeat(999)}\n`;
    const path = await file(line.repeat(300));
    expect(await readLastLines(path, 150)).toBe(line.repeat(150));
  });

  it("reads at most 4 MiB, from a line boundary", async () => {
    const line = `${"z".repeat(1023)}\n`;
    const path = await file(line.repeat(5 * 1024));
    const tail = await readLastLines(path, 1_000_000);
    expect(tail.length).toBeLessThanOrEqual(4 * 1024 * 1024);
    expect(tail.length).toBeGreaterThan(4 * 1024 * 1024 - 2048);
    expect(tail.startsWith("z")).toBe(true);
    expect(tail.length % 1024).toBe(0);
  });

  it("returns an empty string for a missing file", async () => {
    expect(await readLastLines(join(root, "missing"), 5)).toBe("");
  });
});
