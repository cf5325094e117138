import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { assertBuilt, BATON_ROOT, ESC } from "../helpers/cli.js";
import { agentProject, project } from "./kit.js";

beforeAll(assertBuilt);

const COMMANDS = [
  "init",
  "doctor",
  "demo",
  "serve",
  "config",
  "project",
  "task",
  "run",
  "pipeline",
  "status",
  "check-in",
  "orchestrator",
  "session",
  "job",
  "analytics",
  "queue",
];

describe("baton: help, version, usage errors", () => {
  it("--help lists every command and exits 0", async () => {
    const p = await project({});
    const result = await p.run(["--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: baton /);
    for (const command of COMMANDS) {
      expect(result.stdout).toMatch(new RegExp(`^  ${command}\\b`, "m"));
    }
  });

  it("task --help lists the task commands and exits 0", async () => {
    const p = await project({});
    const result = await p.run(["task", "--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: baton task /);
    for (const command of ["add", "list", "show", "cancel", "unblock"]) {
      expect(result.stdout).toMatch(new RegExp(`^  ${command}\\b`, "m"));
    }
  });

  it("--version prints the package's version", async () => {
    const p = await project({});
    const pkg = z
      .object({ version: z.string() })
      .parse(JSON.parse(readFileSync(join(BATON_ROOT, "package.json"), "utf8")));
    const result = await p.run(["--version"]);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(pkg.version);
  });

  it("an unknown command exits 2 and names it", async () => {
    const p = await project({});
    const result = await p.run(["frobnicate"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown command 'frobnicate'");
    expect(result.stdout).toBe("");
  });

  it("an unknown flag exits 2 and names it", async () => {
    const p = await project({});
    const result = await p.run(["task", "list", "--frobnicate"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown option '--frobnicate'");
    expect(result.stdout).toBe("");
  });

  it("a bad argument value exits 2 with a message", async () => {
    const p = await project({});
    const notANumber = await p.run(["task", "show", "abc"]);
    expect(notANumber.code).toBe(2);
    expect(notANumber.stderr).toContain("the task number must be a positive whole number");
    const badLines = await p.run(["session", "peek", "some-session", "--lines", "abc"]);
    expect(badLines.code).toBe(2);
    expect(badLines.stderr).toContain("--lines must be a positive whole number, got 'abc'");
    const badFormat = await p.run(["status", "--format", "xml"]);
    expect(badFormat.code).toBe(2);
    expect(badFormat.stderr).toContain("xml");
  });
});

describe("baton doctor and baton status", () => {
  it("doctor --json lists the checks of node, git, the store and the agents", async () => {
    const p = await agentProject("      - id: build\n        prompt: prompts/p.md\n", "");
    const result = await p.run(["doctor", "--json"]);
    const { checks } = z
      .object({
        checks: z.array(
          z.object({
            check: z.string(),
            status: z.enum(["ok", "warn", "fail"]),
            detail: z.string(),
          }),
        ),
      })
      .parse(JSON.parse(result.stdout));
    const byName = new Map(checks.map((c) => [c.check, c]));
    expect(byName.get("node")?.status).toBe("ok");
    expect(byName.get("git")?.status).toBe("ok");
    expect(byName.get("store")).toMatchObject({ status: "ok", detail: join(p.home, "baton.db") });
    expect(byName.get("baton.yaml")).toMatchObject({ status: "ok" });
    expect(checks.filter((c) => c.check.startsWith("agent ")).length).toBeGreaterThan(0);
    expect(byName.has("agent claude")).toBe(true);
    // Nothing failed here, so doctor exits 0.
    expect(checks.some((c) => c.status === "fail")).toBe(false);
    expect(result.code).toBe(0);
  });

  it("status --json lists the project's pipelines", async () => {
    const p = await agentProject("      - id: build\n        prompt: prompts/p.md\n", "");
    const empty = z
      .object({ pipelines: z.array(z.unknown()) })
      .parse(await p.json(["status", "--json"]));
    expect(empty.pipelines).toEqual([]);
    expect((await p.run(["task", "add", "first"])).code).toBe(0);
    expect((await p.run(["task", "add", "second"])).code).toBe(0);
    const { pipelines } = z
      .object({
        pipelines: z.array(
          z.object({
            project: z.string(),
            task: z.number(),
            title: z.string(),
            status: z.string(),
            stages: z.array(z.object({ id: z.string(), status: z.string() })),
          }),
        ),
      })
      .parse(await p.json(["status", "--format", "json"]));
    expect(pipelines.map((x) => [x.task, x.title, x.status])).toEqual([
      [1, "first", "pending"],
      [2, "second", "pending"],
    ]);
    expect(pipelines[0]?.stages.map((s) => s.id)).toEqual(["build"]);
    const table = await p.run(["status"]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^TASK\s+STATUS\s+STAGE/m);
    expect(table.stdout).toMatch(/^#1\s+pending/m);
  });
});

describe("NO_COLOR and no TTY", () => {
  it("no output carries ANSI escape sequences, even where the CLI paints", async () => {
    // Every command run through `project()` is checked for escapes; these are the ones that
    // would paint: the run's summary (green/red), doctor's statuses, bold table headers.
    const p = await agentProject(
      "      - id: build\n        prompt: prompts/p.md\n        gates:\n          - { name: check, run: 'test -f fixed || { echo nope; exit 1; }' }\n        fix: { max_rounds: 1 }\n",
      'if [ "$BATON_FIX_ROUND" = 1 ]; then touch fixed; fi',
    );
    const runs = [
      await p.run(["run", "colourless"]),
      await p.run(["doctor"]),
      await p.run(["status"]),
      await p.run(["task", "show", "1"]),
      await p.run(["pipeline", "status", "1"]),
      await p.run(["task", "show", "99"]),
    ];
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0, 0, 0, 2]);
    for (const result of runs) {
      expect(result.stdout).not.toContain(ESC);
      expect(result.stderr).not.toContain(ESC);
    }
  });
});
