/**
 * The composition root: builds the store, runtimes, logger and engine context a command needs,
 * and finds the project (the git checkout holding `baton.yaml`) around the working directory.
 */
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { findConfigFile, readConfig } from "../config/read-config.js";
import { AppError, ConfigError, ErrorCodes } from "../core/errors.js";
import type { BatonConfig } from "../core/pipeline-def.js";
import type { Project } from "../core/records.js";
import { DEFAULT_LIMITS, type EngineContext } from "../engine/context.js";
import { ensureProject } from "../engine/operations.js";
import { batonPaths } from "../engine/paths.js";
import { createLogger } from "../lib/logger.js";
import { whichOnPath } from "../lib/which.js";
import { createProcessRuntime } from "../sessions/process-runtime.js";
import { createTmuxRuntime } from "../sessions/tmux-runtime.js";
import { openStore, type Store } from "../store/store.js";
import { findGitRoot } from "../workspace/git.js";
import type { CliEnv } from "./env.js";
import type { Output } from "./output.js";

export interface ProjectContext {
  project: Project;
  config: BatonConfig;
  /** Problems worth knowing that did not stop the config from loading. */
  warnings: string[];
}

export interface App extends AsyncDisposable {
  env: CliEnv;
  out: Output;
  ctx: EngineContext;
  /** The project around the working directory; throws when there is no valid `baton.yaml`. */
  project(): Promise<ProjectContext>;
  /** Like `project()`, but `null` outside a project (a broken config still throws). */
  optionalProject(): Promise<ProjectContext | null>;
  close(): Promise<void>;
}

/** The `baton` entry script, for sessions that call Baton (`baton job spawn`). */
function batonBin(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "bin", "baton.js");
}

/** Puts a `baton` shim in BATON_HOME/bin, which sessions find first on their PATH. */
function writeShim(binDir: string, command: readonly string[]): void {
  const file = join(binDir, "baton");
  const quoted = command.map((part) => `'${part.replace(/'/g, `'\\''`)}'`).join(" ");
  const text = `#!/bin/sh\nexec ${quoted} "$@"\n`;
  if (existsSync(file) && readFileSync(file, "utf8") === text) {
    return;
  }
  mkdirSync(binDir, { recursive: true });
  writeFileSync(file, text);
  chmodSync(file, 0o755);
}

async function loadProject(
  store: Store,
  ctx: EngineContext,
  cwd: string,
): Promise<ProjectContext | null> {
  const file = await findConfigFile(cwd);
  if (file === null) {
    return null;
  }
  const result = await readConfig(file);
  if (!result.ok) {
    throw new ConfigError(result.errors);
  }
  const root = (await findGitRoot(dirname(file))) ?? dirname(file);
  const project = await ensureProject({ ...ctx, store }, root);
  return {
    project,
    config: result.value,
    warnings: result.warnings.map(
      (w) =>
        `${w.file}${w.line === undefined ? "" : `:${w.line}:${w.col ?? 1}`}: ${w.path}: ${w.message}`,
    ),
  };
}

/**
 * Baton's own tmux server: one per BATON_HOME, so a demo's or a test's sessions never mix with
 * the user's, and never with the user's own tmux sessions.
 */
export function tmuxSocket(env: CliEnv): string {
  return (
    env.tmuxSocket ?? `baton-${createHash("sha256").update(env.home).digest("hex").slice(0, 10)}`
  );
}

export async function openApp(env: CliEnv, out: Output, cwd: string = process.cwd()): Promise<App> {
  const paths = batonPaths(env.home);
  mkdirSync(paths.home, { recursive: true });
  const store = await openStore(
    env.databaseUrl === null
      ? { url: paths.database }
      : {
          url: env.databaseUrl,
          ...(env.databaseSchema === null ? {} : { schema: env.databaseSchema }),
        },
  );
  const logger = createLogger({ level: env.logLevel, file: join(paths.logs, "baton.log") });
  const batonCommand = [process.execPath, batonBin()];
  writeShim(paths.bin, batonCommand);
  const tmux =
    whichOnPath("tmux", env.raw.PATH) === null
      ? null
      : createTmuxRuntime({ socket: tmuxSocket(env) });
  const ctx: EngineContext = {
    store,
    paths,
    runtimes: {
      process: createProcessRuntime({ spawner: true }),
      ...(tmux === null ? {} : { tmux }),
    },
    // `runtime: auto` means tmux when it is installed.
    defaultRuntime: env.runtime ?? (tmux === null ? "process" : "tmux"),
    logger,
    clock: Date.now,
    env: env.raw,
    batonCommand,
    limits: DEFAULT_LIMITS,
    hostname: hostname(),
    worktreesInFlight: new Map(),
    databaseUrl: env.databaseUrl,
  };
  let loaded: Promise<ProjectContext | null> | undefined;
  const optionalProject = async (): Promise<ProjectContext | null> => {
    loaded ??= loadProject(store, ctx, cwd).then((p) => {
      if (p !== null) {
        ctx.limits = p.config.limits;
      }
      return p;
    });
    return loaded;
  };
  const close = async (): Promise<void> => {
    for (const runtime of Object.values(ctx.runtimes)) {
      await runtime.close?.();
    }
    await store.close();
  };
  return {
    env,
    out,
    ctx,
    optionalProject,
    project: async () => {
      const found = await optionalProject();
      if (found === null) {
        throw new AppError(
          ErrorCodes.CONFIG_NOT_FOUND,
          `no baton.yaml in ${cwd} or its parents (up to the git top level); run \`baton init\` in your repository to create one`,
        );
      }
      return found;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
