/**
 * Baton's environment variables, read once into a frozen object. Precedence everywhere:
 * defaults < baton.yaml < environment < flags.
 */
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import type { LogLevel } from "../lib/logger.js";
import { UsageError } from "../core/errors.js";

export interface CliEnv {
  /** `BATON_HOME`, default `~/.baton`. */
  home: string;
  /** `BATON_DATABASE_URL`: PostgreSQL instead of the SQLite file in `BATON_HOME`. */
  databaseUrl: string | null;
  /** `BATON_DATABASE_SCHEMA`: the PostgreSQL schema (default `public`). */
  databaseSchema: string | null;
  noColor: boolean;
  /** `BATON_LOG_LEVEL` for the operator log in `BATON_HOME/logs/baton.log`. */
  logLevel: LogLevel;
  /** `BATON_RUNTIME`: force `process` or `tmux` for `runtime: auto`. */
  runtime: "process" | "tmux" | null;
  /** `BATON_TMUX_SOCKET`: the tmux server socket for Baton's sessions (default derived from home). */
  tmuxSocket: string | null;
  /** The whole environment, for sessions to take their allowed part from. */
  raw: Readonly<Record<string, string | undefined>>;
}

const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error", "silent"];

export function readCliEnv(env: NodeJS.ProcessEnv): Readonly<CliEnv> {
  const level = env.BATON_LOG_LEVEL ?? "info";
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new UsageError(
      `BATON_LOG_LEVEL=${level} is not a level; use one of ${LOG_LEVELS.join(", ")}`,
    );
  }
  const runtime = env.BATON_RUNTIME;
  if (runtime !== undefined && runtime !== "process" && runtime !== "tmux") {
    throw new UsageError(`BATON_RUNTIME=${runtime} is not a runtime; use process or tmux`);
  }
  return Object.freeze({
    home: resolve(env.BATON_HOME ?? join(homedir(), ".baton")),
    databaseUrl: env.BATON_DATABASE_URL ?? null,
    databaseSchema: env.BATON_DATABASE_SCHEMA ?? null,
    noColor: env.NO_COLOR !== undefined && env.NO_COLOR !== "",
    logLevel: level as LogLevel,
    runtime: runtime ?? null,
    tmuxSocket: env.BATON_TMUX_SOCKET ?? null,
    raw: Object.freeze({ ...env }),
  });
}
