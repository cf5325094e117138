import { describe, expect, it } from "vitest";
import { retryDelayMs, stableFraction } from "./backoff.js";
import { branchName, slugify } from "./branch-name.js";
import { formatDuration, parseDuration } from "./duration.js";
import { failureFingerprint, normaliseFailure, sameFingerprints } from "./fingerprint.js";
import { ancestors, findCycle, topologicalOrder } from "./graph.js";
import { transitionJob, transitionPipeline } from "./status.js";

describe("parseDuration", () => {
  it.each([
    ["250ms", 250],
    ["10s", 10_000],
    ["45m", 2_700_000],
    ["1h30m", 5_400_000],
    ["2d", 172_800_000],
    ["1.5h", 5_400_000],
  ])("%s → %d ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });
  it.each(["", "10", "10 minutes", "m", "1h 30m", "-5s", "5x"])("rejects %j", (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
  it("formats for people", () => {
    expect([850, 12_300, 245_000, 7_800_000].map(formatDuration)).toEqual([
      "850ms",
      "12.3s",
      "4m05s",
      "2h10m",
    ]);
  });
});

describe("retryDelayMs", () => {
  const backoff = { baseMs: 1000, factor: 2, maxMs: 5000, jitter: false };
  it("grows exponentially up to the cap", () => {
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(n, backoff, 0))).toEqual([
      1000, 2000, 4000, 5000, 5000,
    ]);
  });
  it("spreads jittered delays over [delay/2, delay]", () => {
    const jittered = { ...backoff, jitter: true };
    expect(retryDelayMs(2, jittered, 0)).toBe(1000);
    expect(retryDelayMs(2, jittered, 0.5)).toBe(1500);
    expect(retryDelayMs(2, jittered, 0.999)).toBeLessThanOrEqual(2000);
  });
  it("derives a stable fraction from a key", () => {
    expect(stableFraction("job_a")).toBe(stableFraction("job_a"));
    expect(stableFraction("job_a")).not.toBe(stableFraction("job_b"));
    expect(stableFraction("x")).toBeGreaterThanOrEqual(0);
    expect(stableFraction("x")).toBeLessThan(1);
  });
});

describe("failure fingerprints", () => {
  it("ignore times, durations, temp paths and numbers", () => {
    const a =
      "FAIL test/a.test.js (1.52 s)\n  at /tmp/x1/a.js:10:5\n  2026-01-01T10:00:00Z expected 3 got 4";
    const b =
      "FAIL test/a.test.js (0.91 s)\n  at /tmp/y2/a.js:12:7\n  2026-02-02T11:11:11Z expected 5 got 6";
    expect(normaliseFailure(a)).toBe(normaliseFailure(b));
    expect(failureFingerprint("test", a)).toBe(failureFingerprint("test", b));
  });
  it("differ for different failures and different gates", () => {
    expect(failureFingerprint("test", "TypeError: x is undefined")).not.toBe(
      failureFingerprint("test", "SyntaxError"),
    );
    expect(failureFingerprint("lint", "same")).not.toBe(failureFingerprint("test", "same"));
  });
  it("compare as sets", () => {
    expect(sameFingerprints(["a", "b"], ["b", "a"])).toBe(true);
    expect(sameFingerprints(["a"], ["a", "b"])).toBe(false);
  });
});

describe("stage graph", () => {
  const nodes = [
    { id: "review", needs: [{ stage: "implement" }] },
    { id: "plan", needs: [] },
    { id: "implement", needs: [{ stage: "plan" }] },
  ];
  it("orders stages after their needs", () => {
    expect(topologicalOrder(nodes)?.map((n) => n.id)).toEqual(["plan", "implement", "review"]);
  });
  it("finds a cycle", () => {
    const cyclic = [
      { id: "a", needs: [{ stage: "c" }] },
      { id: "b", needs: [{ stage: "a" }] },
      { id: "c", needs: [{ stage: "b" }] },
    ];
    expect(topologicalOrder(cyclic)).toBeNull();
    expect(findCycle(cyclic)).toEqual(["a", "c", "b", "a"]);
    expect(findCycle(nodes)).toBeNull();
  });
  it("lists ancestors", () => {
    expect([...ancestors(nodes, "review")].sort()).toEqual(["implement", "plan"]);
  });
});

describe("branch names", () => {
  it.each([
    ["Fix the login bug", "baton/7-fix-the-login-bug"],
    ["$(touch x)", "baton/7-touch-x"],
    ["`rm -rf /`; echo 'hi'\nnext", "baton/7-rm-rf-echo-hi-next"],
    ["Crème brûlée für alle", "baton/7-creme-brulee-fur-alle"],
    ["!!!", "baton/7-task"],
    ["a".repeat(100), `baton/7-${"a".repeat(40)}`],
  ])("%j → %s", (title, branch) => {
    expect(branchName(7, title)).toBe(branch);
  });
  it("never ends a slug with a dash after cutting", () => {
    expect(slugify(`${"a".repeat(39)} b`)).toBe("a".repeat(39));
  });
});

describe("status transitions", () => {
  it("allow the documented moves and refuse the rest", () => {
    expect(transitionJob("pending", "starting")).toBe("starting");
    // A job with nothing to check settles straight from running.
    expect(transitionJob("running", "succeeded")).toBe("succeeded");
    expect(() => transitionJob("pending", "succeeded")).toThrow(
      "illegal job transition pending → succeeded",
    );
    expect(() => transitionJob("succeeded", "running")).toThrow(
      "illegal job transition succeeded → running",
    );
    expect(() => transitionPipeline("completed", "running")).toThrow(/illegal pipeline transition/);
  });
});
