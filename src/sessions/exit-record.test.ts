import { mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { exitRecordFromCode, readExitRecord, readSessionPid } from "./exit-record.js";

describe("exitRecordFromCode", () => {
  it.each([
    [0, { exitCode: 0, signal: null }],
    [1, { exitCode: 1, signal: null }],
    [127, { exitCode: 127, signal: null }],
    [128, { exitCode: 128, signal: null }],
    [130, { exitCode: null, signal: "SIGINT" }],
    [137, { exitCode: null, signal: "SIGKILL" }],
    [143, { exitCode: null, signal: "SIGTERM" }],
    // 128 + 127 names no signal: keep it as a code.
    [255, { exitCode: 255, signal: null }],
  ])("maps $? = %i", (code, expected) => {
    expect(exitRecordFromCode(code, 42)).toEqual({ ...expected, at: 42 });
  });
});

describe("the status file", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "baton-status-"));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const write = (text: string): void => writeFileSync(join(dir, "status"), text);

  it("holds neither pid nor exit before the wrapper writes it", () => {
    expect(readSessionPid(dir)).toBeNull();
    expect(readExitRecord(dir)).toBeNull();
  });

  it("gives the pid while the program runs, and no exit", () => {
    write("4242\n");
    expect(readSessionPid(dir)).toBe(4242);
    expect(readExitRecord(dir)).toBeNull();
  });

  it("ignores lines not yet ended by a newline", () => {
    write("42");
    expect(readSessionPid(dir)).toBeNull();
    write("4242\n1");
    expect(readSessionPid(dir)).toBe(4242);
    expect(readExitRecord(dir)).toBeNull();
  });

  it("takes the exit time from the file's mtime when the line gives none", () => {
    write("4242\n3\n");
    utimesSync(join(dir, "status"), 1_700_000_000, 1_700_000_000);
    expect(readSessionPid(dir)).toBe(4242);
    expect(readExitRecord(dir)).toEqual({ exitCode: 3, signal: null, at: 1_700_000_000_000 });
  });

  it("takes the exit time from the line when it gives one, and a signal from 128 + n", () => {
    write("4242\n137 1700000000123\n");
    expect(readExitRecord(dir)).toEqual({ exitCode: null, signal: "SIGKILL", at: 1700000000123 });
  });

  it("refuses a file that is not a status record", () => {
    write("0\n0\n");
    expect(readSessionPid(dir)).toBeNull();
    write("pid\n0\n");
    expect(readExitRecord(dir)).toBeNull();
  });
});
