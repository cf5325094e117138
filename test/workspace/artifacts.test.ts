import { createHash, randomBytes } from "node:crypto";
import { mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AppError, ErrorCodes, NotFoundError } from "../../src/core/errors.js";
import { collectArtifacts, type CollectedArtifact } from "../../src/workspace/artifacts.js";
import { ensureWorktree } from "../../src/workspace/worktree.js";
import { makeGitRepo, makeTempDir, type GitRepo } from "../helpers/git-repo.js";

let repo: GitRepo;
let scratch: string;

beforeEach(async () => {
  repo = await makeGitRepo({ files: { "README.md": "# app\n" } });
  scratch = await makeTempDir("baton-artifacts-");
});

afterEach(async () => {
  await repo.cleanup();
  await rm(scratch, { recursive: true, force: true });
});

async function put(relative: string, content: string | Buffer): Promise<void> {
  const path = join(repo.root, relative);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content);
}

function sha256(bytes: string | Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function paths(artifacts: CollectedArtifact[]): string[] {
  return artifacts.map((artifact) => artifact.path);
}

describe("collectArtifacts", () => {
  it("matches nested globs and returns text, sha256 and size", async () => {
    await put("PLAN.md", "# plan\n");
    await put("docs/a/b/deep.md", "deep — ünïcode\n");
    await put("docs/a/notes.txt", "not markdown\n");

    const artifacts = await collectArtifacts({ worktree: repo.root, globs: ["docs/**/*.md"] });

    const text = "deep — ünïcode\n";
    expect(artifacts).toEqual([
      {
        path: "docs/a/b/deep.md",
        kind: "file",
        sha256: sha256(text),
        size: Buffer.byteLength(text),
        content: text,
      },
    ]);
    const all = await collectArtifacts({ worktree: repo.root, globs: ["**/*.md"] });
    expect(paths(all)).toEqual(["PLAN.md", "README.md", "docs/a/b/deep.md"]);
  });

  it("includes dotfiles and files in dot directories", async () => {
    await put(".env.example", "A=1\n");
    await put(".reports/summary.json", "{}\n");
    await put("out/.hidden", "h\n");

    const artifacts = await collectArtifacts({ worktree: repo.root, globs: ["**/*"] });

    expect(paths(artifacts)).toEqual([
      ".env.example",
      ".reports/summary.json",
      "README.md",
      "out/.hidden",
    ]);
  });

  it("deduplicates, sorts, expands a directory and honours negation", async () => {
    await put("reports/b.txt", "b\n");
    await put("reports/a.txt", "a\n");
    await put("reports/skip.log", "log\n");
    await put("z.txt", "z\n");

    const artifacts = await collectArtifacts({
      worktree: repo.root,
      globs: ["z.txt", "reports", "reports/*.txt", "z.txt", "!**/*.log"],
    });

    expect(paths(artifacts)).toEqual(["reports/a.txt", "reports/b.txt", "z.txt"]);
  });

  it("returns null content for binary files and invalid UTF-8, with sha256 and size", async () => {
    const binary = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x0d, 0x0a, 0x1a]);
    const latin1 = Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]);
    const nul = Buffer.from("valid utf-8\0with a NUL byte\n");
    await put("image.png", binary);
    await put("latin1.txt", latin1);
    await put("nul.txt", nul);

    const artifacts = await collectArtifacts({
      worktree: repo.root,
      globs: ["image.png", "latin1.txt", "nul.txt"],
    });

    expect(artifacts).toEqual([
      { path: "image.png", kind: "file", sha256: sha256(binary), size: 8, content: null },
      { path: "latin1.txt", kind: "file", sha256: sha256(latin1), size: 5, content: null },
      { path: "nul.txt", kind: "file", sha256: sha256(nul), size: nul.length, content: null },
    ]);
  });

  it("hashes a big file by streaming and leaves its content out", async () => {
    const big = Buffer.from(randomBytes(1536 * 1024).toString("hex"));
    const limit = Buffer.from("x".repeat(256 * 1024));
    await put("big.txt", big);
    await put("limit.txt", limit);

    const artifacts = await collectArtifacts({
      worktree: repo.root,
      globs: ["big.txt", "limit.txt"],
    });

    expect(artifacts).toEqual([
      { path: "big.txt", kind: "file", sha256: sha256(big), size: big.length, content: null },
      {
        path: "limit.txt",
        kind: "file",
        sha256: sha256(limit),
        size: 256 * 1024,
        content: limit.toString("utf8"),
      },
    ]);
    const small = await collectArtifacts({
      worktree: repo.root,
      globs: ["limit.txt"],
      maxContentBytes: 1024,
    });
    expect(small[0]?.content).toBeNull();
    expect(small[0]?.sha256).toBe(sha256(limit));
  });

  it("never includes .git, in a checkout, a linked worktree or a nested repository", async () => {
    await put("vendor/lib/.git/config", "[core]\n");
    await put("vendor/lib/.git/HEAD", "ref: refs/heads/main\n");
    await put("vendor/lib/index.js", "export {};\n");
    const globs = ["**", "**/*", ".git", ".git/**", "**/.git/**", "vendor/lib/.git/*"];

    const inCheckout = await collectArtifacts({ worktree: repo.root, globs });
    expect(paths(inCheckout)).toEqual(["README.md", "vendor/lib/index.js"]);

    const wt = await ensureWorktree({
      projectRoot: repo.root,
      worktreesRoot: scratch,
      projectName: "app",
      branch: "baton/1-artifacts",
    });
    const inWorktree = await collectArtifacts({ worktree: wt.path, globs });
    expect(paths(inWorktree)).toEqual(["README.md"]);
  });

  it.each([
    ["../x", 'climbs out of the worktree with ".."'],
    ["docs/../../x", 'climbs out of the worktree with ".."'],
    ["{..,docs}/secret", 'climbs out of the worktree with ".."'],
    ["!../x", 'climbs out of the worktree with ".."'],
    ["/etc/passwd", "is an absolute path"],
    ["C:\\Windows\\x", "is an absolute path"],
    ["", "is empty"],
  ])("rejects the glob %j", async (glob, reason) => {
    const error = await collectArtifacts({ worktree: repo.root, globs: ["README.md", glob] }).catch(
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe(ErrorCodes.CONFIG_INVALID);
    expect((error as AppError).message).toContain(`output glob "${glob}" ${reason}`);
  });

  it("skips symlinks that point outside the worktree", async () => {
    await writeFile(join(scratch, "secret.txt"), "secret\n");
    await mkdir(join(scratch, "dir"));
    await writeFile(join(scratch, "dir", "inner.txt"), "secret too\n");
    await symlink(join(scratch, "secret.txt"), join(repo.root, "leak.txt"));
    await symlink(join(scratch, "dir"), join(repo.root, "leakdir"));
    await symlink("/", join(repo.root, "root"));
    await put("real.txt", "real\n");

    const artifacts = await collectArtifacts({
      worktree: repo.root,
      globs: ["**", "leak.txt", "leakdir/**", "leakdir/inner.txt", "root/etc/hostname"],
    });

    expect(paths(artifacts)).toEqual(["README.md", "real.txt"]);
    expect(artifacts.some((artifact) => artifact.content?.includes("secret"))).toBe(false);
  });

  it("returns nothing for no globs or no matches, and fails for a missing worktree", async () => {
    expect(await collectArtifacts({ worktree: repo.root, globs: [] })).toEqual([]);
    expect(await collectArtifacts({ worktree: repo.root, globs: ["nothing/**"] })).toEqual([]);
    await expect(
      collectArtifacts({ worktree: join(scratch, "missing"), globs: ["**"] }),
    ).rejects.toThrow(NotFoundError);
  });
});
