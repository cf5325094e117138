import { createHash } from "node:crypto";
import { constants, type Stats } from "node:fs";
import { open, realpath, type FileHandle } from "node:fs/promises";
import { join, posix, win32 } from "node:path";
import { glob } from "tinyglobby";
import { AppError, ErrorCodes, InternalError, NotFoundError } from "../core/errors.js";

/** Files up to this size (bytes) have their text returned in `content`. */
const DEFAULT_MAX_CONTENT_BYTES = 256 * 1024;

/** Git's own data is never an artifact: a worktree's `.git` file, a submodule's `.git` dir. */
const GIT_IGNORE = ["**/.git", "**/.git/**"];

/** Rejects `..` as a whole segment, and as an alternative inside `{…}` or `@(…|…)`. */
const CLIMBS_OUT = /(^|[/\\{,(|])\.\.($|[/\\},)|])/;

/** A file a job left in its worktree that matched one of its stage's `outputs` globs. */
export interface CollectedArtifact {
  /** Relative to the worktree root, with `/` separators. */
  path: string;
  kind: "file";
  /** Lower-case hex SHA-256 of the bytes read. */
  sha256: string;
  /** Size in bytes of what was read and hashed. */
  size: number;
  /**
   * The file as text when it is at most `maxContentBytes`, valid UTF-8 and free of NUL bytes
   * (a byte-order mark is kept); `null` otherwise (binary or too big).
   */
  content: string | null;
}

/**
 * Finds the files in `worktree` that match any of `globs` (tinyglobby syntax, relative to the
 * worktree; `!pattern` excludes) and reads each one: its SHA-256 and size always, its text
 * when small enough. Dotfiles match; a pattern naming a directory matches the files in it.
 * Results are unique and sorted by path. Reads only.
 *
 * Never collected: anything inside or named `.git`; symlinks (they are neither followed nor
 * collected, so nothing outside the worktree can be reached through one); non-regular files;
 * files that vanish while being collected.
 *
 * Throws an `AppError` (code `CONFIG_INVALID`) naming the glob when one is empty, absolute or
 * climbs out with `..` (config validation rejects these too; this is defence in depth), and
 * `NotFoundError` when `worktree` does not exist.
 *
 * @example
 * const artifacts = await collectArtifacts({ worktree, globs: ["PLAN.md", "reports/**"] });
 */
export async function collectArtifacts(opts: {
  worktree: string;
  globs: string[];
  maxContentBytes?: number;
}): Promise<CollectedArtifact[]> {
  for (const pattern of opts.globs) {
    assertSafeGlob(pattern, opts.worktree);
  }
  const root = await worktreeRealPath(opts.worktree);
  if (opts.globs.length === 0) {
    return [];
  }
  const matches = await glob(opts.globs, {
    cwd: root,
    dot: true,
    onlyFiles: true,
    // Following links could walk anywhere (a link to `/`); links are not collected at all.
    followSymbolicLinks: false,
    ignore: GIT_IGNORE,
  });
  const paths = [...new Set(matches.map((match) => posix.normalize(match)))]
    .filter((path) => isInside(path) && !path.split("/").includes(".git"))
    .sort();

  const maxContentBytes = opts.maxContentBytes ?? DEFAULT_MAX_CONTENT_BYTES;
  const artifacts: CollectedArtifact[] = [];
  for (const path of paths) {
    const artifact = await readArtifact(root, path, maxContentBytes);
    if (artifact !== null) {
      artifacts.push(artifact);
    }
  }
  return artifacts;
}

function assertSafeGlob(pattern: string, worktree: string): void {
  const body = pattern.replace(/^!+/, "");
  let reason: string | null = null;
  if (body.trim() === "") {
    reason = "is empty";
  } else if (posix.isAbsolute(body) || win32.isAbsolute(body)) {
    reason = "is an absolute path";
  } else if (CLIMBS_OUT.test(body)) {
    reason = 'climbs out of the worktree with ".."';
  }
  if (reason !== null) {
    throw new AppError(
      ErrorCodes.CONFIG_INVALID,
      `output glob "${pattern}" ${reason}; outputs are matched inside the task's worktree (${worktree}), so write them relative to its root, e.g. "PLAN.md" or "reports/**"`,
    );
  }
}

async function worktreeRealPath(worktree: string): Promise<string> {
  try {
    return await realpath(worktree);
  } catch (thrown) {
    if (errorCode(thrown) === "ENOENT") {
      throw new NotFoundError(
        `cannot collect artifacts: the worktree ${worktree} does not exist; it may have been removed, so recreate it with ensureWorktree`,
      );
    }
    throw thrown;
  }
}

function isInside(relativePath: string): boolean {
  return (
    relativePath !== "" &&
    relativePath !== "." &&
    relativePath !== ".." &&
    !relativePath.startsWith("../") &&
    !posix.isAbsolute(relativePath)
  );
}

/** Reads one matched file; `null` when it is not a regular file (any more). */
async function readArtifact(
  root: string,
  path: string,
  maxContentBytes: number,
): Promise<CollectedArtifact | null> {
  let handle: FileHandle;
  try {
    // O_NOFOLLOW: a file swapped for a symlink after globbing is refused, not followed.
    handle = await open(join(root, path), constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (thrown) {
    if (isSkippable(thrown)) {
      return null;
    }
    throw thrown;
  }
  try {
    const stats: Stats = await handle.stat();
    if (!stats.isFile()) {
      return null;
    }
    if (stats.size <= maxContentBytes) {
      const bytes = await handle.readFile();
      return {
        path,
        kind: "file",
        sha256: createHash("sha256").update(bytes).digest("hex"),
        size: bytes.length,
        content: bytes.length <= maxContentBytes ? decodeText(bytes) : null,
      };
    }
    const hash = createHash("sha256");
    let size = 0;
    for await (const chunk of handle.createReadStream({ autoClose: false, start: 0 })) {
      // Without an encoding a file stream yields Buffers; anything else would be a Node bug.
      if (!Buffer.isBuffer(chunk)) {
        throw new InternalError(`reading ${path} yielded a non-Buffer chunk`);
      }
      hash.update(chunk);
      size += chunk.length;
    }
    return { path, kind: "file", sha256: hash.digest("hex"), size, content: null };
  } finally {
    await handle.close();
  }
}

/** Gone since globbing (ENOENT), turned into a symlink (ELOOP), or a directory now (EISDIR). */
function isSkippable(thrown: unknown): boolean {
  const code = errorCode(thrown);
  return code === "ENOENT" || code === "ELOOP" || code === "EISDIR" || code === "ENOTDIR";
}

function errorCode(thrown: unknown): unknown {
  return thrown instanceof Error && "code" in thrown ? thrown.code : undefined;
}

function decodeText(bytes: Buffer): string | null {
  if (bytes.includes(0)) {
    return null;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    // Not valid UTF-8: treat as binary.
    return null;
  }
}
