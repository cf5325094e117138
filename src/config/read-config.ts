/**
 * Finds and reads `baton.yaml` and the prompt files it names, then validates them. The only
 * module of `src/config` that touches the file system.
 */
import { readFile, stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { AppError, ErrorCodes } from "../core/errors.js";
import { listPromptPaths, validateConfig, type ConfigResult } from "./validate-config.js";

const CONFIG_FILE_NAME = "baton.yaml";

/**
 * Reads `file` and every prompt file it names (relative to its directory), then validates
 * them. Problems in the file, missing prompt files included, come back in the result.
 * @throws AppError `CONFIG_NOT_FOUND` when `file` does not exist; other read errors as they are.
 */
export async function readConfig(file: string): Promise<ConfigResult> {
  const path = resolve(file);
  const root = dirname(path);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if (isMissing(error)) {
      throw new AppError(
        ErrorCodes.CONFIG_NOT_FOUND,
        `no ${CONFIG_FILE_NAME} at ${path}; run 'baton init' there to create one, or pass the path of yours`,
        { cause: error },
      );
    }
    throw error;
  }
  const prompts = new Map<string, string | null>();
  await Promise.all(
    listPromptPaths(text).map(async (prompt) => {
      prompts.set(prompt, await readIfPresent(resolve(root, prompt)));
    }),
  );
  return validateConfig({ file: path, root, text, prompts });
}

/**
 * The `baton.yaml` in `startDir` or the nearest directory above it, looking no higher than the
 * git top level (the first directory holding `.git`) or the file system root. Returns its
 * absolute path, or `null` when there is none.
 */
export async function findConfigFile(startDir: string): Promise<string | null> {
  let dir = resolve(startDir);
  for (;;) {
    const candidate = join(dir, CONFIG_FILE_NAME);
    if ((await kindOf(candidate)) === "file") {
      return candidate;
    }
    // `.git` is a directory in a checkout and a file in a worktree: either marks the top.
    if ((await kindOf(join(dir, ".git"))) !== null) {
      return null;
    }
    const parent = dirname(dir);
    if (parent === dir) {
      return null;
    }
    dir = parent;
  }
}

async function readIfPresent(path: string): Promise<string | null> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if (isMissing(error)) {
      return null;
    }
    throw error;
  }
}

async function kindOf(path: string): Promise<"file" | "other" | null> {
  try {
    return (await stat(path)).isFile() ? "file" : "other";
  } catch (error) {
    if (isMissing(error)) {
      return null;
    }
    throw error;
  }
}

/** The path, or a directory on it, does not exist (or is not a directory where one is needed). */
function isMissing(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR";
}
