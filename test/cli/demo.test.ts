import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, ESC } from "../helpers/cli.js";
import { pipelineView, project } from "./kit.js";

beforeAll(assertBuilt);

describe("baton demo", () => {
  it("runs a scripted pipeline with a fix round in a temp dir and ends with the branch and worktree", async () => {
    const p = await project({});
    const result = await p.run(["demo"], { cwd: p.base, timeoutMs: 25_000 });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const out = result.stdout;
    expect(out).not.toContain(ESC);
    expect(out).toContain("The agent is scripted (no model, no network)");
    expect(out).toMatch(/implement: gate test failed; fix round 1 of \d/);
    expect(out).toMatch(/implement: gate test passed/);
    expect(out).toContain("Fix rounds: 1.");

    // Everything lands in TMPDIR; the user's BATON_HOME is left alone.
    const [folder, ...others] = readdirSync(p.tmp).filter((n) => n.startsWith("baton-demo-"));
    expect(others).toEqual([]);
    const base = join(p.tmp, folder ?? "?");
    expect(existsSync(p.home)).toBe(false);

    const lines = out.trimEnd().split("\n");
    const summary = lines.slice(lines.indexOf("Pipeline default for task #1 completed"));
    expect(summary.length).toBeGreaterThan(1);
    expect(summary.join("\n")).toMatch(/^implement\s+succeeded\s+1\s+1\s/m);
    const branch = summary.find((l) => l.startsWith("Branch:   "))?.slice(10) ?? "";
    const worktree = summary.find((l) => l.startsWith("Worktree: "))?.slice(10) ?? "";
    expect(branch).toMatch(/^baton\/1-[a-z0-9-]+$/);
    expect(worktree.startsWith(`${base}/`)).toBe(true);
    expect(existsSync(worktree)).toBe(true);
    // After the summary come only the totals and where to look.
    expect(lines.slice(lines.findIndex((l) => l.startsWith("Worktree: ")) + 1)).toEqual([
      "Fix rounds: 1. Total time: " + (/Total time: (\S+)\./.exec(out)?.[1] ?? "?") + ".",
      expect.stringMatching(/^Inspect it with: cd /) as string,
      expect.stringMatching(/^The demo's folder /) as string,
    ]);

    // The command it suggests shows the run.
    const view = pipelineView.parse(
      await p.json(["pipeline", "status", "1", "--json"], {
        cwd: join(base, "stats-demo"),
        env: { BATON_HOME: join(base, "baton-home") },
      }),
    );
    expect(view.status).toBe("completed");
    expect(view.branch).toBe(branch);
  });
});
