import { describe, expect, it } from "vitest";
import { exitRecordFromCode } from "./exit-record.js";

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
