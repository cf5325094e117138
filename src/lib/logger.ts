import { destination as pinoDestination, pino, type Logger as PinoLogger } from "pino";

export type LogMeta = Record<string, unknown>;

/**
 * The operator's log. Each call is a sentence plus a metadata object; scoped children carry
 * ids (`logger.scope({ pipelineId, jobId })`). Domain events for users go to the events table,
 * not here.
 */
export interface Logger {
  debug(message: string, meta?: LogMeta): void;
  info(message: string, meta?: LogMeta): void;
  warn(message: string, meta?: LogMeta): void;
  error(message: string, meta?: LogMeta): void;
  scope(bindings: LogMeta): Logger;
}

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

/**
 * Creates a logger writing JSON lines to `file` (appending, created if missing), or to stderr
 * when no file is given.
 */
export function createLogger(options: { level: LogLevel; file?: string }): Logger {
  const destination =
    options.file === undefined
      ? pinoDestination({ fd: 2, sync: true })
      : pinoDestination({ dest: options.file, mkdir: true, sync: true, append: true });
  return wrap(pino({ level: options.level, base: { pid: process.pid } }, destination));
}

/** A logger that drops everything. */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  scope: () => silentLogger,
};

function wrap(inner: PinoLogger): Logger {
  return {
    debug: (message, meta) => inner.debug(meta ?? {}, message),
    info: (message, meta) => inner.info(meta ?? {}, message),
    warn: (message, meta) => inner.warn(meta ?? {}, message),
    error: (message, meta) => inner.error(meta ?? {}, message),
    scope: (bindings) => wrap(inner.child(bindings)),
  };
}
