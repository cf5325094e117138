/**
 * Baton's error types. Every error carries a stable string `code` that the CLI and the HTTP
 * server map to an exit code or a status. Expected outcomes (a failed job, a cancelled
 * pipeline) are data, not errors: throw only for bad input, conflicts, infrastructure failures
 * and bugs.
 */

export const ErrorCodes = {
  CONFIG_INVALID: "CONFIG_INVALID",
  CONFIG_NOT_FOUND: "CONFIG_NOT_FOUND",
  USAGE: "USAGE",
  NOT_FOUND: "NOT_FOUND",
  CONFLICT: "CONFLICT",
  UNAUTHORIZED: "UNAUTHORIZED",
  PROCESS_EXIT: "PROCESS_EXIT",
  LEASE_LOST: "LEASE_LOST",
  GIT: "GIT",
  TEMPLATE: "TEMPLATE",
  INTERNAL: "INTERNAL",
} as const;
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Base class: a message that says what is wrong, where, and how to fix it. */
export class AppError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }

  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

/** One problem found in a config file, with its location when the parser knows it. */
export interface ConfigIssue {
  file: string;
  path: string;
  message: string;
  line?: number;
  col?: number;
}

/** Formats an issue as `file:line:col: dot.path: message`. */
export function formatConfigIssue(issue: ConfigIssue): string {
  const where =
    issue.line === undefined ? issue.file : `${issue.file}:${issue.line}:${issue.col ?? 1}`;
  return issue.path === ""
    ? `${where}: ${issue.message}`
    : `${where}: ${issue.path}: ${issue.message}`;
}

export class ConfigError extends AppError {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[], options?: { cause?: unknown }) {
    super(ErrorCodes.CONFIG_INVALID, issues.map(formatConfigIssue).join("\n"), options);
    this.issues = issues;
  }
}

/** A command was called wrongly: an unknown flag value, a missing argument. */
export class UsageError extends AppError {
  constructor(message: string) {
    super(ErrorCodes.USAGE, message);
  }
}

export class NotFoundError extends AppError {
  constructor(message: string) {
    super(ErrorCodes.NOT_FOUND, message);
  }
}

/** The request is valid but the current state does not allow it (retry a completed pipeline). */
export class ConflictError extends AppError {
  constructor(message: string) {
    super(ErrorCodes.CONFLICT, message);
  }
}

export class UnauthorizedError extends AppError {
  constructor(message: string) {
    super(ErrorCodes.UNAUTHORIZED, message);
  }
}

/** A child process Baton needed (git, tmux) exited non-zero or on a signal. */
export class ProcessExitError extends AppError {
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stderrTail: string;
  constructor(
    message: string,
    details: { exitCode: number | null; signal: string | null; stderrTail: string },
    options?: { cause?: unknown },
  ) {
    super(ErrorCodes.PROCESS_EXIT, message, options);
    this.exitCode = details.exitCode;
    this.signal = details.signal;
    this.stderrTail = details.stderrTail;
  }
}

/** A write of a job was refused because this engine no longer holds the job's lease. */
export class LeaseLostError extends AppError {
  constructor(message: string) {
    super(ErrorCodes.LEASE_LOST, message);
  }
}

/** A bug in Baton: an illegal state transition, a broken invariant. */
export class InternalError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.INTERNAL, message, options);
  }
}

/** Errors a user caused and can fix by changing their input; the CLI exits 2 for these. */
export function isUserError(error: unknown): boolean {
  return (
    error instanceof ConfigError ||
    error instanceof UsageError ||
    error instanceof NotFoundError ||
    error instanceof ConflictError ||
    error instanceof UnauthorizedError ||
    (error instanceof AppError && error.code === ErrorCodes.CONFIG_NOT_FOUND)
  );
}
