import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { AppError, ErrorCodes, formatConfigIssue } from "../core/errors.js";
import { findConfigFile, readConfig } from "./read-config.js";

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "baton-config-"));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(path: string, content: string): Promise<string> {
  const full = join(dir, path);
  await mkdir(join(full, ".."), { recursive: true });
  await writeFile(full, content);
  return full;
}

const CONFIG = [
  "version: 1",
  "pipelines:",
  "  default:",
  "    stages:",
  "      - id: plan",
  "        prompt: prompts/plan.md",
  "      - id: build",
  "        needs: [plan]",
  "        prompt: prompts/build.md",
  "",
].join("\n");

describe("readConfig", () => {
  test("reads the file and its prompts", async () => {
    const file = await write("baton.yaml", CONFIG);
    await write("prompts/plan.md", "Plan {{task.title}}.");
    await write("prompts/build.md", "Build it.");
    const result = await readConfig(file);
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.value.file).toBe(file);
      expect(result.value.root).toBe(dir);
      const plan = result.value.pipelines.default?.stages[0];
      expect(plan?.kind === "agent" ? plan.prompt : null).toEqual({
        path: "prompts/plan.md",
        template: "Plan {{task.title}}.",
      });
    }
  });

  test("reports a missing prompt file as an issue, with where it looked", async () => {
    const file = await write("baton.yaml", CONFIG);
    await write("prompts/plan.md", "Plan.");
    const result = await readConfig(file);
    expect(result.ok ? [] : result.errors.map(formatConfigIssue)).toEqual([
      `${file}:9:17: pipelines.default.stages.1.prompt: prompt file 'prompts/build.md' not found at ${join(dir, "prompts/build.md")}; create it, or fix the path (it is relative to the directory holding baton.yaml)`,
    ]);
  });

  test("throws CONFIG_NOT_FOUND, saying where it looked, when the file does not exist", async () => {
    const file = join(dir, "baton.yaml");
    const error: unknown = await readConfig(file).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe(ErrorCodes.CONFIG_NOT_FOUND);
    expect((error as AppError).message).toContain(file);
    expect((error as AppError).message).toContain("baton init");
  });
});

describe("findConfigFile", () => {
  test("finds baton.yaml in the start directory", async () => {
    const file = await write("repo/baton.yaml", CONFIG);
    await mkdir(join(dir, "repo/.git"));
    expect(await findConfigFile(join(dir, "repo"))).toBe(file);
  });

  test("finds it in a parent, up to the git top level", async () => {
    const file = await write("repo/baton.yaml", CONFIG);
    await mkdir(join(dir, "repo/.git"));
    await mkdir(join(dir, "repo/src/deep"), { recursive: true });
    expect(await findConfigFile(join(dir, "repo/src/deep"))).toBe(file);
  });

  test("stops at the git top level, even with a baton.yaml above it", async () => {
    await write("baton.yaml", CONFIG);
    await mkdir(join(dir, "repo/.git"), { recursive: true });
    await mkdir(join(dir, "repo/src"));
    expect(await findConfigFile(join(dir, "repo/src"))).toBeNull();
  });

  test("a .git file (a worktree) marks the top level too", async () => {
    await write("baton.yaml", CONFIG);
    await write("worktree/.git", "gitdir: /elsewhere/.git/worktrees/w\n");
    expect(await findConfigFile(join(dir, "worktree"))).toBeNull();
  });

  test("a directory named baton.yaml is not the file", async () => {
    await mkdir(join(dir, "repo/.git"), { recursive: true });
    await mkdir(join(dir, "repo/baton.yaml"));
    expect(await findConfigFile(join(dir, "repo"))).toBeNull();
  });
});
