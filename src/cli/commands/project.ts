import { resolve } from "node:path";
import { findConfigFile, readConfig } from "../../config/read-config.js";
import { ConfigError, UsageError } from "../../core/errors.js";
import { ensureProject } from "../../engine/operations.js";
import { listProjects } from "../../store/projects.repository.js";
import { findGitRoot } from "../../workspace/git.js";
import type { CommandInput } from "../main.js";
import { withApp } from "./common.js";

export function projectAddCommand(path: string) {
  return async (input: CommandInput): Promise<void> => {
    const root = await findGitRoot(resolve(path));
    if (root === null) {
      throw new UsageError(`${path} is not inside a git checkout; Baton works on git repositories`);
    }
    const file = await findConfigFile(root);
    if (file === null) {
      throw new UsageError(`${root} has no baton.yaml; run \`baton init\` there first`);
    }
    const config = await readConfig(file);
    if (!config.ok) {
      throw new ConfigError(config.errors);
    }
    await withApp(input, async (app) => {
      const project = await ensureProject(app.ctx, root);
      input.out.line(`Project ${project.name}: ${project.rootPath}`);
    });
  };
}

export async function projectListCommand(input: CommandInput): Promise<void> {
  await withApp(input, async (app) => {
    const projects = await listProjects(app.ctx.store.db);
    if (input.format === "json") {
      input.out.json(
        projects.map((p) => ({
          name: p.name,
          path: p.rootPath,
          created_at: new Date(p.createdAt).toISOString(),
        })),
      );
      return;
    }
    input.out.table(
      projects.map((p) => ({ name: p.name, path: p.rootPath })),
      [
        { key: "name", header: "project" },
        { key: "path", header: "path" },
      ],
    );
  });
}
