/**
 * Thrown by a command that has already printed what went wrong, to end with `exitCode`.
 * `main` turns it into the process's exit code without printing anything more.
 */
export class ExitError extends Error {
  readonly exitCode: number;
  constructor(exitCode: number) {
    super(`exit ${exitCode}`);
    this.name = "ExitError";
    this.exitCode = exitCode;
  }
}

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;
