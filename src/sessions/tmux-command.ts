/**
 * Runs tmux commands against one tmux server, Baton's own (`tmux -L <socket>`), never the user's
 * default server. Every call is an argv array (no shell). Two tmux quirks are handled here once:
 *
 * - tmux reads its command line as a command *sequence*: an argument that ends in `;` ends the
 *   command there (the `;` is dropped) and the following arguments form the next tmux command,
 *   while a trailing `\;` stands for a literal `;`. `escapeTmuxArgument` makes every argument
 *   literal.
 * - tmux sends the whole command in one message of at most 16 KiB; longer ones fail with
 *   "command too long". `runTmux` refuses them up front with an error that says so.
 */
import { spawn } from "node:child_process";
import { InternalError, ProcessExitError } from "../core/errors.js";
import { coerceError } from "../lib/coerce-error.js";

/** A hung tmux server must not hang the engine: a command gets this long, then SIGKILL. */
const TMUX_COMMAND_TIMEOUT_MS = 10_000;
/**
 * tmux's message limit (`MAX_IMSGSIZE`, 16384 bytes) less its headers, for the packed arguments
 * (each one NUL-terminated). Kept a little below the exact figure.
 */
const MAX_COMMAND_BYTES = 16_384 - 128;
/** What `tmux -L` accepts as a socket name and what keeps it a plain file name. */
const SOCKET_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
/**
 * The only variables tmux commands (and so the server they start) get: what tmux needs to find
 * its socket and handle text, and what a shell a person opens in an attached session needs.
 * Not `TMUX` (it would tie the client to another server), not `BATON_SESSION` (the server
 * would look like part of a session to `findSessionProcesses`), and none of the engine's
 * secrets, which would otherwise reach every window a person opens and the log pipe.
 */
const CLIENT_VARIABLES = [
  "PATH",
  "HOME",
  "USER",
  "LOGNAME",
  "SHELL",
  "LANG",
  "LANGUAGE",
  "TZ",
  "TMPDIR",
  "TMUX_TMPDIR",
  "XDG_RUNTIME_DIR",
] as const;
const STDERR_TAIL_CHARS = 2_000;

export interface TmuxResult {
  /** tmux's exit code; `null` when tmux could not run or was killed (see `stderr`). */
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Why a tmux command failed: the server is not running (or exited while we asked), the target
 * session does not exist, or anything else.
 */
export type TmuxFailure = "no-server" | "no-session" | "other";

/** One tmux server, addressed by socket name. Construct with `createTmuxClient`. */
export interface TmuxClient {
  readonly socket: string;
  /**
   * Runs `tmux -L <socket> -f /dev/null <args…>`, with `input` (if given) on its stdin, and
   * resolves with its exit code and output. A failure to run tmux at all (not installed)
   * resolves with `code: null`. Rejects with `ProcessExitError` only when the command is longer
   * than tmux accepts.
   */
  run(args: readonly string[], input?: string): Promise<TmuxResult>;
  /**
   * Runs several tmux commands in one tmux invocation, joined by `;`: the server runs them in
   * order, with nothing else in between, and skips the rest after one fails. As `run` otherwise.
   */
  runSequence(commands: readonly (readonly string[])[], input?: string): Promise<TmuxResult>;
  /** Like `run`, but throws `ProcessExitError` (with `what` and tmux's stderr) unless it exits 0. */
  runOrThrow(args: readonly string[], what: string, input?: string): Promise<string>;
}

/**
 * Creates a client for the tmux server on socket `socket`. Of `env` (default: this process's
 * environment) only the variables tmux needs are kept, once: the first command starts the
 * server, which keeps that environment for the windows a person may open and the log pipe.
 * Throws `InternalError` for a socket name that is not a plain name.
 */
export function createTmuxClient(
  socket: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): TmuxClient {
  if (!SOCKET_NAME.test(socket)) {
    throw new InternalError(
      `tmux socket name ${JSON.stringify(socket)} is not valid; use letters, digits, ., _ and -`,
    );
  }
  const clientEnv: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    const kept = (CLIENT_VARIABLES as readonly string[]).includes(name) || name.startsWith("LC_");
    if (value !== undefined && kept) {
      clientEnv[name] = value;
    }
  }
  return new Client(socket, Object.freeze(clientEnv));
}

class Client implements TmuxClient {
  readonly socket: string;
  readonly #env: Readonly<Record<string, string>>;

  constructor(socket: string, env: Readonly<Record<string, string>>) {
    this.socket = socket;
    this.#env = env;
  }

  run(args: readonly string[], input?: string): Promise<TmuxResult> {
    return this.runSequence([args], input);
  }

  async runSequence(commands: readonly (readonly string[])[], input?: string): Promise<TmuxResult> {
    // A bare `;` argument separates commands; every other argument is made literal.
    const args = commands.flatMap((command, index) => [
      ...(index === 0 ? [] : [";"]),
      ...command.map(escapeTmuxArgument),
    ]);
    // `-f /dev/null`: a server started here must not read the user's ~/.tmux.conf, whose hooks
    // and options (remain-on-exit, destroy-unattached, default-command…) would change how
    // sessions behave. It only matters when the command starts the server.
    const argv = ["-L", this.socket, "-f", "/dev/null", ...args];
    const bytes = argv.reduce((sum, arg) => sum + Buffer.byteLength(arg) + 1, 0);
    if (bytes > MAX_COMMAND_BYTES) {
      throw new ProcessExitError(
        `tmux ${commands[0]?.[0] ?? ""}: the command is ${bytes} bytes, more than tmux accepts ` +
          `(${MAX_COMMAND_BYTES}); pass long text (prompts) in a file, shorten the ` +
          "environment, or use runtime: process",
        { exitCode: null, signal: null, stderrTail: "" },
      );
    }
    return runTmuxProcess(argv, this.#env, input);
  }

  async runOrThrow(args: readonly string[], what: string, input?: string): Promise<string> {
    const result = await this.run(args, input);
    if (result.code !== 0) {
      throw tmuxError(what, result);
    }
    return result.stdout;
  }
}

/** The `ProcessExitError` for a failed tmux command: `what` failed, with tmux's own words. */
export function tmuxError(what: string, result: TmuxResult): ProcessExitError {
  const stderr = result.stderr.trim();
  return new ProcessExitError(
    `${what}: tmux ${result.code === null ? "did not run" : `exited ${result.code}`}` +
      (stderr === "" ? "" : `: ${stderr}`),
    { exitCode: result.code, signal: null, stderrTail: stderr.slice(-STDERR_TAIL_CHARS) },
  );
}

function runTmuxProcess(
  argv: string[],
  env: Readonly<Record<string, string>>,
  input: string | undefined,
): Promise<TmuxResult> {
  return new Promise((resolve) => {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let settled = false;
    const finish = (code: number | null, extra = ""): void => {
      if (!settled) {
        settled = true;
        resolve({
          code,
          stdout: Buffer.concat(stdout).toString("utf8"),
          stderr: Buffer.concat(stderr).toString("utf8") + extra,
        });
      }
    };
    let child;
    try {
      child = spawn("tmux", argv, {
        env,
        stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
        timeout: TMUX_COMMAND_TIMEOUT_MS,
        killSignal: "SIGKILL",
      });
    } catch (thrown) {
      // Synchronous spawn failures (invalid arguments): report like a failed command.
      finish(null, `cannot run tmux: ${coerceError(thrown).message}`);
      return;
    }
    child.stdout?.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.on("error", (error) => {
      finish(null, `cannot run tmux: ${error.message}; is tmux installed and on PATH?`);
    });
    child.on("close", (code, signal) => {
      finish(code, signal === null ? "" : `tmux was killed by ${signal}`);
    });
    if (child.stdin !== null) {
      // EPIPE when tmux exits without reading (a failed command): its exit code says why.
      child.stdin.on("error", () => undefined);
      child.stdin.end(input);
    }
  });
}

/**
 * Makes one argument literal for tmux's command-sequence parsing: a trailing `;` would end the
 * command and a trailing `\;` means `;`, so the final `;` gets a `\` before it. Nothing else in
 * an argument is special there. Pure.
 */
export function escapeTmuxArgument(arg: string): string {
  return arg.endsWith(";") ? `${arg.slice(0, -1)}\\;` : arg;
}

/**
 * Escapes `text` for a tmux argument that tmux expands as a format (`new-session -c`,
 * `pipe-pane`'s command): `#` starts a format (`#{…}`, and `#(…)` runs a command), `##` is a
 * literal `#`. Pure.
 */
export function escapeTmuxFormat(text: string): string {
  return text.replaceAll("#", "##");
}

/** Tells apart the failures callers handle differently, from tmux's stderr. Pure. */
export function classifyTmuxFailure(stderr: string): TmuxFailure {
  if (
    /^(?:no server running on |server exited unexpectedly|lost server)/m.test(stderr) ||
    /^error connecting to .*\((?:No such file or directory|Connection refused)\)/m.test(stderr)
  ) {
    return "no-server";
  }
  // With exact targets (`=name`, `=name:`), a missing window or pane is a missing session; a
  // server whose last session just ended has no "current target" to resolve against.
  if (/^(?:can't find (?:session|window|pane): |no current target)/m.test(stderr)) {
    return "no-session";
  }
  return "other";
}
