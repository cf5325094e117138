import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { assertBuilt } from "../helpers/cli.js";
import { agentProject, pipelineView } from "./kit.js";

beforeAll(assertBuilt);

const ONE_STAGE = "      - id: build\n        prompt: prompts/p.md\n";

const taskRow = z.strictObject({
  number: z.number().int(),
  title: z.string(),
  status: z.string(),
  labels: z.array(z.string()),
  source: z.string(),
  pipeline: z.string().nullable(),
  created_at: z.string(),
});

const taskShow = z.object({
  number: z.number().int(),
  title: z.string(),
  body: z.string(),
  status: z.string(),
  labels: z.array(z.string()),
  source: z.string(),
  pipeline: pipelineView.nullable(),
});

describe("baton task", () => {
  it("add, list --json and show --json", async () => {
    const p = await agentProject(ONE_STAGE, "");
    const first = await p.run([
      "task",
      "add",
      "Fix the login bug",
      "--label",
      "bug",
      "--label",
      "p1",
    ]);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("Added task #1: Fix the login bug");
    await writeFile(join(p.base, "body.md"), "The body\nof the task.\n");
    const second = await p.run([
      "task",
      "add",
      "Write docs",
      "--body-file",
      join(p.base, "body.md"),
    ]);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain("Added task #2: Write docs");
    const fromStdin = await p.run(["task", "add", "Third", "--body-file", "-"], {
      input: "from stdin\n",
    });
    expect(fromStdin.code).toBe(0);

    const list = z.array(taskRow).parse(await p.json(["task", "list", "--json"]));
    expect(list.map((t) => [t.number, t.title, t.status, t.labels, t.source, t.pipeline])).toEqual([
      [1, "Fix the login bug", "queued", ["bug", "p1"], "local", "default"],
      [2, "Write docs", "queued", [], "local", "default"],
      [3, "Third", "queued", [], "local", "default"],
    ]);
    const queued = z
      .array(taskRow)
      .parse(await p.json(["task", "list", "--status", "done", "--format", "json"]));
    expect(queued).toEqual([]);

    const shown = taskShow.parse(await p.json(["task", "show", "2", "--json"]));
    expect(shown).toMatchObject({
      number: 2,
      title: "Write docs",
      body: "The body\nof the task.\n",
      status: "queued",
    });
    expect(shown.pipeline).toMatchObject({ task: 2, status: "pending", branch: null });
    expect(shown.pipeline?.stages.map((s) => [s.id, s.status])).toEqual([["build", "pending"]]);
    const third = taskShow.parse(await p.json(["task", "show", "3", "--json"]));
    expect(third.body).toBe("from stdin\n");

    const table = await p.run(["task", "list"]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^#1\s+queued\s+Fix the login bug\s+bug,p1$/m);
  });

  it("an empty title, a missing body file and an unknown --status exit 2", async () => {
    const p = await agentProject(ONE_STAGE, "");
    const empty = await p.run(["task", "add", "   "]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain("a task needs a title");
    const missing = await p.run(["task", "add", "x", "--body-file", join(p.base, "nope.md")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("cannot read --body-file");
    const status = await p.run(["task", "list", "--status", "sleeping"]);
    expect(status.code).toBe(2);
    expect(status.stderr).toContain("unknown --status sleeping");
    expect(await p.json(["task", "list", "--json"])).toEqual([]);
  });

  it("an unknown task number exits 2 with 'task #99 not found'", async () => {
    const p = await agentProject(ONE_STAGE, "");
    expect((await p.run(["task", "add", "the only task"])).code).toBe(0);
    for (const args of [
      ["task", "show", "99", "--json"],
      ["task", "unblock", "99"],
      ["pipeline", "status", "99", "--format=json"],
      ["pipeline", "retry", "99", "--reason", "x"],
      ["pipeline", "abort", "99"],
      ["analytics", "issue-detail", "99"],
    ]) {
      const result = await p.run(args);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr, args.join(" ")).toMatch(/^baton: task #99 not found/m);
      expect(result.stdout, args.join(" ")).toBe("");
    }
  });

  it("outside a project, a project command says to run baton init", async () => {
    const p = await agentProject(ONE_STAGE, "");
    const result = await p.run(["task", "list"], { cwd: p.base });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("no baton.yaml");
    expect(result.stderr).toContain("baton init");
  });
});
