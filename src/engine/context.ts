import type { Limits } from "../core/pipeline-def.js";
import type { Logger } from "../lib/logger.js";
import type { Runtime, RuntimeName } from "../sessions/runtime.js";
import type { Store } from "../store/store.js";
import type { BatonPaths } from "./paths.js";

/** What the engine needs from the outside world; built once by the CLI. */
export interface EngineContext {
  store: Store;
  paths: BatonPaths;
  runtimes: Partial<Record<RuntimeName, Runtime>>;
  /** The runtime `runtime: auto` means here. */
  defaultRuntime: RuntimeName;
  logger: Logger;
  /** Milliseconds since the epoch; a function so tests and benchmarks can look, not set. */
  clock: () => number;
  /** Baton's own environment, from which sessions get only what they are allowed. */
  env: Readonly<Record<string, string | undefined>>;
  /** How a session runs Baton itself (for `baton job spawn`): program and leading arguments. */
  batonCommand: readonly string[];
  limits: Limits;
  /** This machine's name, recorded on sessions. */
  hostname: string;
  /** The last worktree creation under way per project id; creations queue behind it. */
  worktreesInFlight: Map<string, Promise<string>>;
  /** Passed to sessions so `baton job spawn` inside them reaches the same store. */
  databaseUrl: string | null;
}

export const DEFAULT_LIMITS: Limits = { maxRunningPipelines: 3, maxRunningJobs: 6, perAgent: {} };
