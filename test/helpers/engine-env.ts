/**
 * A real project for engine tests: a git repository holding a `baton.yaml` (and its prompt
 * files), a temp BATON_HOME, a store of the chosen dialect, and the engine context wired as the
 * CLI wires it. Nothing is mocked: sessions are real processes, worktrees real git.
 */
import { mkdir, rm, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { dirname, join } from "node:path";
import { readConfig } from "../../src/config/read-config.js";
import { snapshotPipeline } from "../../src/config/snapshot.js";
import type { BatonConfig } from "../../src/core/pipeline-def.js";
import type { Pipeline, Project, Task } from "../../src/core/records.js";
import type { EngineContext } from "../../src/engine/context.js";
import { Engine } from "../../src/engine/engine.js";
import { addTask, ensureProject } from "../../src/engine/operations.js";
import { batonPaths } from "../../src/engine/paths.js";
import { silentLogger } from "../../src/lib/logger.js";
import { createProcessRuntime } from "../../src/sessions/process-runtime.js";
import type { DialectName } from "../../src/store/dialect.js";
import { getPipelineById } from "../../src/store/pipelines.repository.js";
import { git, makeGitRepo, makeTempDir } from "./git-repo.js";
import { openTestStore, type TestStore } from "./store.js";

export interface EngineEnv {
  ctx: EngineContext;
  project: Project;
  config: BatonConfig;
  root: string;
  home: string;
  store: TestStore;
  /** Adds a task running `pipeline` (default: the config's default). */
  addTask(
    title: string,
    options?: { pipeline?: string; body?: string },
  ): Promise<{ task: Task; pipeline: Pipeline }>;
  /** Drives the pipeline in this process until it completes, fails or blocks. */
  drive(pipeline: Pipeline, options?: { timeoutMs?: number }): Promise<Pipeline>;
  pipeline(id: string): Promise<Pipeline>;
  cleanup(): Promise<void>;
}

export interface EngineEnvOptions {
  dialect: DialectName;
  /** baton.yaml text. */
  config: string;
  /** Other files of the repository (prompts, scripts), committed with it. */
  files?: Record<string, string>;
}

export async function makeEngineEnv(options: EngineEnvOptions): Promise<EngineEnv> {
  const repo = await makeGitRepo({ files: { "README.md": "# test\n" } });
  const files = { "baton.yaml": options.config, ...(options.files ?? {}) };
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(repo.root, path)), { recursive: true });
    await writeFile(join(repo.root, path), content);
  }
  await git(repo.root, ["add", "-A"]);
  await git(repo.root, ["commit", "-q", "-m", "baton config"]);
  const loaded = await readConfig(join(repo.root, "baton.yaml"));
  if (!loaded.ok) {
    throw new Error(
      `test config is invalid:\n${loaded.errors.map((e) => `${e.path}: ${e.message}`).join("\n")}`,
    );
  }
  const home = await makeTempDir("baton-home-");
  const store = await openTestStore(options.dialect);
  const paths = batonPaths(home);
  const ctx: EngineContext = {
    store: store.store,
    paths,
    runtimes: { process: createProcessRuntime({ pollIntervalMs: 50, spawner: true }) },
    defaultRuntime: "process",
    logger: silentLogger,
    clock: Date.now,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LANG: "C.UTF-8" },
    batonCommand: [process.execPath, join(process.cwd(), "bin", "baton.js")],
    limits: loaded.value.limits,
    hostname: hostname(),
    worktreesInFlight: new Map(),
    databaseUrl: store.store.dialect === "postgres" ? store.url : null,
  };
  const project = await ensureProject(ctx, repo.root);
  const config = loaded.value;
  const env: EngineEnv = {
    ctx,
    project,
    config,
    root: repo.root,
    home,
    store,
    addTask: (title, o = {}) => {
      const name = o.pipeline ?? config.defaults.pipeline;
      return addTask(ctx, {
        project,
        title,
        body: o.body ?? "",
        labels: [],
        source: "local",
        agent: null,
        pipelineName: name,
        snapshot: snapshotPipeline(config, name),
      });
    },
    pipeline: async (id) => {
      const found = await getPipelineById(ctx.store.db, id);
      if (found === undefined) {
        throw new Error(`no pipeline ${id}`);
      }
      return found;
    },
    drive: async (pipeline, o = {}) => {
      const engine = new Engine(ctx, { mode: "drive", tickMs: 200 });
      const signal = AbortSignal.timeout(o.timeoutMs ?? 20_000);
      try {
        await engine.drive({
          pipelineIds: [pipeline.id],
          signal,
          until: async () => {
            const p = await env.pipeline(pipeline.id);
            return ["completed", "failed", "blocked", "cancelled"].includes(p.status);
          },
        });
      } finally {
        await engine.close();
      }
      if (signal.aborted) {
        throw new Error(`pipeline did not finish in ${o.timeoutMs ?? 20_000} ms`);
      }
      return env.pipeline(pipeline.id);
    },
    cleanup: async () => {
      await ctx.runtimes.process?.close?.();
      await store.cleanup();
      await repo.cleanup();
      await rm(home, { recursive: true, force: true });
    },
  };
  return env;
}
