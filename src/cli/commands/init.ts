import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { starterFiles } from "../../config/templates/starter-files.js";
import { ConflictError } from "../../core/errors.js";
import { findGitRoot } from "../../workspace/git.js";
import type { CommandInput } from "../main.js";

/** `baton init`: a commented starter baton.yaml and its prompt files, at the repository's top. */
export function initCommand(options: { template: string; force?: boolean }) {
  return async (input: CommandInput): Promise<void> => {
    const files = starterFiles(options.template);
    const cwd = process.cwd();
    const root = (await findGitRoot(cwd)) ?? cwd;
    const existing = files.filter((f) => existsSync(join(root, f.path)));
    if (existing.length > 0 && options.force !== true) {
      throw new ConflictError(
        `${existing.map((f) => f.path).join(", ")} already exist${existing.length === 1 ? "s" : ""} in ${root}; nothing was written (use --force to overwrite)`,
      );
    }
    for (const file of files) {
      const target = join(root, file.path);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, file.content);
      input.out.line(`wrote ${relative(cwd, target) || file.path}`);
    }
    if (root === cwd && (await findGitRoot(cwd)) === null) {
      input.out.error(
        "warning: this folder is not a git repository; Baton needs one (`git init` and a first commit).",
      );
    }
    input.out.line();
    input.out.line(
      'Next: edit baton.yaml (agents, gates), then `baton config validate` and `baton run "<what to do>"`.',
    );
  };
}
