import { readFile } from "node:fs/promises";
import { UsageError } from "../../core/errors.js";
import type { PipelineSnapshot } from "../../core/pipeline-def.js";
import { snapshotPipeline } from "../../config/snapshot.js";
import { openApp, type App, type ProjectContext } from "../app.js";
import type { CommandInput } from "../main.js";

/** Opens the app for one command and closes it afterwards, whatever happens. */
export async function withApp<T>(input: CommandInput, work: (app: App) => Promise<T>): Promise<T> {
  const app = await openApp(input.env, input.out);
  try {
    return await work(app);
  } finally {
    await app.close();
  }
}

/** Reads `--body-file`: a path, or `-` for stdin. */
export async function readBody(file: string | undefined): Promise<string> {
  if (file === undefined) {
    return "";
  }
  if (file === "-") {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) {
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks).toString("utf8");
  }
  try {
    return await readFile(file, "utf8");
  } catch (cause) {
    throw new UsageError(
      `cannot read --body-file ${file}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`,
    );
  }
}

/** The pipeline definition a task runs: `--pipeline`, or the config's default. */
export function pipelineFor(
  project: ProjectContext,
  name: string | undefined,
): { name: string; snapshot: PipelineSnapshot } {
  const chosen = name ?? project.config.defaults.pipeline;
  return { name: chosen, snapshot: snapshotPipeline(project.config, chosen) };
}

/** Applies `--agent` to a snapshot: every agent stage of the pipeline runs that agent. */
export function withAgent(
  snapshot: PipelineSnapshot,
  project: ProjectContext,
  agent: string | undefined,
): PipelineSnapshot {
  if (agent === undefined) {
    return snapshot;
  }
  const def = project.config.agents[agent];
  if (def === undefined) {
    throw new UsageError(
      `--agent ${agent} is not an agent; known: ${Object.keys(project.config.agents).sort().join(", ")}`,
    );
  }
  return {
    ...snapshot,
    agents: { ...snapshot.agents, [agent]: def },
    pipeline: {
      ...snapshot.pipeline,
      stages: snapshot.pipeline.stages.map((s) => (s.kind === "agent" ? { ...s, agent } : s)),
    },
  };
}

export function printWarnings(input: CommandInput, project: ProjectContext): void {
  for (const warning of project.warnings) {
    input.out.error(`warning: ${warning}`);
  }
}
