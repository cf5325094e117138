import { describe, expect, it } from "vitest";
import { parseProcStat } from "./proc-stat.js";

const tail = "S 1 4242 4242 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 987654 2654208 387";

describe("parseProcStat", () => {
  it("reads state, group, session and start time", () => {
    expect(parseProcStat(4242, `4242 (sh) ${tail}`)).toEqual({
      pid: 4242,
      state: "S",
      pgid: 4242,
      sid: 4242,
      startTime: "987654",
    });
  });

  it("copes with spaces and parentheses in the command name", () => {
    expect(parseProcStat(7, `7 (a) b (c)) ${tail}`)?.startTime).toBe("987654");
  });

  it("rejects text that is not a stat line", () => {
    expect(parseProcStat(7, "garbage")).toBeNull();
    expect(parseProcStat(7, "7 (x) S 1")).toBeNull();
  });
});
