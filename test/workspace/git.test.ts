import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AppError, ErrorCodes, ProcessExitError } from "../../src/core/errors.js";
import { findGitRoot, runGit } from "../../src/workspace/git.js";
import { git, makeGitRepo, makeTempDir, type GitRepo } from "../helpers/git-repo.js";

let repo: GitRepo;

beforeEach(async () => {
  repo = await makeGitRepo({ files: { "README.md": "# repo\n", "src/a.ts": "export {};\n" } });
});

afterEach(async () => {
  vi.unstubAllEnvs();
  await repo.cleanup();
});

describe("runGit", () => {
  it("returns stdout, stderr and the exit code", async () => {
    const result = await runGit(["rev-parse", "--abbrev-ref", "HEAD"], { cwd: repo.root });
    expect(result).toEqual({ stdout: "main\n", stderr: "", exitCode: 0 });
  });

  it("throws a ProcessExitError naming the command, the directory and git's error line", async () => {
    const error = await runGit(["checkout", "no-such-branch"], { cwd: repo.root }).catch(
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(ProcessExitError);
    const exit = error as ProcessExitError;
    expect(exit.message).toContain("git checkout no-such-branch");
    expect(exit.message).toContain(repo.root);
    expect(exit.message).toContain("error: pathspec 'no-such-branch' did not match");
    expect(exit.exitCode).toBe(1);
    expect(exit.signal).toBeNull();
    expect(exit.stderrTail).toContain("no-such-branch");
  });

  it("returns a failure as a result with allowFailure", async () => {
    const result = await runGit(["rev-parse", "--verify", "--quiet", "refs/heads/nope"], {
      cwd: repo.root,
      allowFailure: true,
    });
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe("");
  });

  it("passes arguments literally, without a shell", async () => {
    const message = "$(touch pwned) `touch pwned2`; echo 'x' \"y\"";
    const result = await runGit(["-c", `baton.test=${message}`, "config", "--get", "baton.test"], {
      cwd: repo.root,
    });
    expect(result.stdout).toBe(`${message}\n`);
    const untracked = await git(repo.root, ["status", "--porcelain"]);
    expect(untracked).toBe("");
  });

  it("writes input to stdin", async () => {
    const result = await runGit(["hash-object", "--stdin"], { cwd: repo.root, input: "hello\n" });
    expect(result.stdout.trim()).toBe("ce013625030ba8dba906f756967f9e9ca394464a");
  });

  it("ignores an inherited GIT_DIR, GIT_WORK_TREE and GIT_INDEX_FILE", async () => {
    const other = await makeGitRepo({ files: { "other.txt": "other\n" } });
    try {
      vi.stubEnv("GIT_DIR", join(other.root, ".git"));
      vi.stubEnv("GIT_WORK_TREE", other.root);
      vi.stubEnv("GIT_INDEX_FILE", join(other.root, ".git", "index"));
      const result = await runGit(["ls-files"], { cwd: repo.root });
      expect(result.stdout).toBe("README.md\nsrc/a.ts\n");
    } finally {
      vi.unstubAllEnvs();
      await other.cleanup();
    }
  });

  it("never prompts, and adds the given environment", async () => {
    vi.stubEnv("GIT_TERMINAL_PROMPT", "1");
    const result = await runGit(["-c", "alias.dump-env=!env", "dump-env"], {
      cwd: repo.root,
      env: { BATON_TEST_VAR: "present" },
    });
    const lines = result.stdout.split("\n");
    expect(lines).toContain("GIT_TERMINAL_PROMPT=0");
    expect(lines).toContain("BATON_TEST_VAR=present");
  });

  it("says which directory is missing when cwd does not exist", async () => {
    const missing = join(repo.root, "no", "such", "dir");
    const error = await runGit(["status"], { cwd: missing }).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe(ErrorCodes.GIT);
    expect((error as AppError).message).toContain(`the directory ${missing} does not exist`);
  });
});

describe("findGitRoot", () => {
  it("finds the root from a nested directory", async () => {
    expect(await findGitRoot(join(repo.root, "src"))).toBe(repo.root);
    expect(await findGitRoot(repo.root)).toBe(repo.root);
  });

  it("returns null outside a repository and for a missing directory", async () => {
    const outside = await makeTempDir("baton-not-a-repo-");
    try {
      await mkdir(join(outside, "nested"));
      // Stop git from finding a repository above the temp dir (if tmp sits inside one).
      vi.stubEnv("GIT_CEILING_DIRECTORIES", outside);
      expect(await findGitRoot(join(outside, "nested"))).toBeNull();
      expect(await findGitRoot(join(outside, "missing"))).toBeNull();
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });
});
