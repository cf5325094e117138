import { existsSync, readFileSync, statSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { assertBuilt, type CliProject } from "../helpers/cli.js";
import { git } from "../helpers/git-repo.js";
import { agentScript, batonYaml, project, PROMPT } from "./kit.js";

beforeAll(assertBuilt);

/** Every file of the repository (but .git) with its content and modification time. */
function snapshotFiles(p: CliProject, paths: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    paths.map((path) => {
      const file = join(p.root, path);
      return [
        path,
        existsSync(file) ? `${statSync(file).mtimeMs} ${readFileSync(file, "utf8")}` : "-",
      ];
    }),
  );
}

describe("baton init", () => {
  it("writes baton.yaml and its prompts, which validate; a second init refuses and changes nothing", async () => {
    const p = await project({});
    const init = await p.run(["init"]);
    expect(init.code).toBe(0);
    const written = ["baton.yaml", "prompts/plan.md", "prompts/implement.md", "prompts/review.md"];
    for (const path of written) {
      expect(existsSync(join(p.root, path)), path).toBe(true);
      expect(init.stdout).toContain(`wrote ${path}`);
    }
    expect(readFileSync(join(p.root, "baton.yaml"), "utf8")).toMatch(/^version: 1/m);

    const validate = await p.run(["config", "validate"]);
    expect(validate.stderr).toBe("");
    expect(validate.code).toBe(0);
    expect(validate.stdout).toContain("is valid");

    // The user edits the file; a second init must not undo that.
    await p.write({ "baton.yaml": `${readFileSync(join(p.root, "baton.yaml"), "utf8")}# mine\n` });
    const before = snapshotFiles(p, written);
    const again = await p.run(["init"]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("already exist");
    expect(again.stderr).toContain("nothing was written");
    expect(again.stderr).toContain("--force");
    expect(snapshotFiles(p, written)).toEqual(before);
  });

  it("run from a subdirectory, writes at the top of the repository", async () => {
    const p = await project({});
    await mkdir(join(p.root, "src", "deep"), { recursive: true });
    const init = await p.run(["init"], { cwd: join(p.root, "src", "deep") });
    expect(init.code).toBe(0);
    expect(existsSync(join(p.root, "baton.yaml"))).toBe(true);
    expect(existsSync(join(p.root, "src", "deep", "baton.yaml"))).toBe(false);
  });

  it("--template feature writes a valid feature pipeline", async () => {
    const p = await project({});
    const init = await p.run(["init", "--template", "feature"]);
    expect(init.code).toBe(0);
    const yaml = readFileSync(join(p.root, "baton.yaml"), "utf8");
    for (const stage of ["plan", "implement", "review", "pr"]) {
      expect(yaml).toMatch(new RegExp(`id: ${stage}\\b`));
    }
    const validate = await p.run(["config", "validate"]);
    expect(validate.code).toBe(0);
    expect(validate.stdout).toContain("is valid");
  });

  it("an unknown template exits 2, lists the templates and writes nothing", async () => {
    const p = await project({});
    const init = await p.run(["init", "--template", "nope"]);
    expect(init.code).toBe(2);
    expect(init.stderr).toContain("'nope'");
    expect(init.stderr).toContain("default, feature, delivery, idea");
    expect(existsSync(join(p.root, "baton.yaml"))).toBe(false);
    expect(existsSync(join(p.root, "prompts"))).toBe(false);
  });
});

/**
 * A baton.yaml with seven problems, one of each kind, each on a known line:
 * a bad duration (4), an unknown key (5), a duplicate stage id (14), a missing prompt file (17),
 * a need naming no stage (18), a stage of two kinds (19), and a cycle (24).
 */
const BROKEN = `version: 1
defaults:
  agent: work
  timeout: 10 minutes
  colour: blue
agents:
  work:
    command: ["sh", "agents/work.sh", "{prompt_file}"]
pipelines:
  default:
    stages:
      - id: plan
        prompt: prompts/p.md
      - id: plan
        prompt: prompts/p.md
      - id: build
        prompt: prompts/missing.md
        needs: [ghost]
      - id: review
        needs: [plan]
        prompt: prompts/p.md
        run: make check
      - id: left
        needs: [right]
        prompt: prompts/p.md
      - id: right
        needs: [left]
        prompt: prompts/p.md
`;

/** Each problem of BROKEN: its `line:col: dot.path` and a part of its message. */
const PROBLEMS: readonly [string, string][] = [
  ["4:12: defaults.timeout", "'10 minutes' is not a duration"],
  ["5:3: defaults.colour", "unknown key 'colour'; supported keys are: agent, runtime"],
  ["14:13: pipelines.default.stages.1.id", "duplicate stage id 'plan'"],
  ["17:17: pipelines.default.stages.2.prompt", "prompt file 'prompts/missing.md' not found"],
  ["18:17: pipelines.default.stages.2.needs.0", "needs 'ghost', which is not a stage"],
  ["19:9: pipelines.default.stages.3", "has keys of several kinds (prompt, run)"],
  ["24:17: pipelines.default.stages.4.needs.0", "cycle: left → right → left"],
];

function brokenProject(): Promise<CliProject> {
  return project({
    config: BROKEN,
    files: { "prompts/p.md": PROMPT, "agents/work.sh": agentScript() },
  });
}

/** Checks that `stderr` holds every problem of BROKEN as `file:line:col: dot.path: message`. */
function expectEveryProblem(p: CliProject, stderr: string): void {
  const file = join(p.root, "baton.yaml");
  const lines = stderr.split("\n");
  for (const [where, message] of PROBLEMS) {
    const line = lines.find((l) => l.startsWith(`${file}:${where}: `));
    expect(line, `a line for ${where} in:\n${stderr}`).toBeDefined();
    expect(line).toContain(message);
  }
  const located = lines.filter((l) => /^\/.*baton\.yaml:\d+:\d+: [\w.]+: \S/.test(l));
  expect(located).toHaveLength(PROBLEMS.length);
}

describe("baton config validate", () => {
  it("reports every problem as file:line:col: dot.path: message, exits 2 and writes nothing", async () => {
    const p = await brokenProject();
    const result = await p.run(["config", "validate"]);
    expect(result.code).toBe(2);
    expectEveryProblem(p, result.stderr);
    expect(result.stderr).toContain(`${PROBLEMS.length} problems in ${join(p.root, "baton.yaml")}`);
    expect(existsSync(p.home)).toBe(false);
    expect(await git(p.root, ["status", "--porcelain"])).toBe("");
  });

  it("--file checks another file; a missing one exits 2", async () => {
    const p = await project({
      files: { "conf/broken.yaml": BROKEN, "conf/prompts/p.md": PROMPT },
    });
    const result = await p.run(["config", "validate", "--file", "conf/broken.yaml"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${join(p.root, "conf/broken.yaml")}:5:3: defaults.colour`);
    const missing = await p.run(["config", "validate"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("no baton.yaml");
    expect(missing.stderr).toContain("baton init");
    expect(existsSync(p.home)).toBe(false);
  });

  it("config schema prints a JSON Schema of baton.yaml", async () => {
    const p = await project({});
    const schema = z
      .object({
        type: z.literal("object"),
        properties: z.record(z.string(), z.unknown()),
      })
      .passthrough()
      .parse(await p.json(["config", "schema"]));
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(["version", "defaults", "limits", "agents", "pipelines"]),
    );
    expect(JSON.stringify(schema)).toContain("stall_timeout");
    expect(existsSync(p.home)).toBe(false);
  });
});

describe("a broken baton.yaml stops every command", () => {
  it("exits 2 with the same problem lines, and creates no task", async () => {
    const p = await brokenProject();
    const commands = [
      ["task", "add", "do something"],
      ["run", "do something"],
      ["task", "list"],
      ["status"],
      ["check-in", "--format=json"],
      ["pipeline", "status", "1"],
    ];
    for (const args of commands) {
      const result = await p.run(args);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stdout, args.join(" ")).toBe("");
      expectEveryProblem(p, result.stderr);
    }
    expect(await git(p.root, ["status", "--porcelain"])).toBe("");
    expect(existsSync(join(p.home, "worktrees"))).toBe(false);

    // Once the file is fixed, there is still no task: nothing was created above.
    await p.write({ "baton.yaml": batonYaml("      - id: build\n        prompt: prompts/p.md\n") });
    expect(await p.json(["task", "list", "--json"])).toEqual([]);
    expect(await git(p.root, ["branch", "--list", "baton/*"])).toBe("");
  });
});
