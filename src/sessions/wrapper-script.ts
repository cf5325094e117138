/**
 * The session wrapper: a POSIX `sh` script that Baton starts as `/bin/sh -c WRAPPER_SCRIPT
 * baton-session <dir> [NAME=value…] -- <argv…>` (or `… -c <command>`), detached into its own
 * session and process group, with the session's stdin as fd 0 and `<dir>/log` as fds 1 and 2. It
 *
 * 1. traps HUP, INT and TERM for itself, so that a TERM to the whole group stops the program but
 *    the wrapper lives on to record how it ended (a subshell resets caught traps, so the program
 *    gets default signal handling);
 * 2. writes its pid to `<dir>/status`;
 * 3. runs the program with `exec "$@"` in a subshell: argv passes through untouched (never
 *    `eval`), and `exec` never runs a shell builtin or function in the program's place. A shell
 *    command (argv `/bin/sh -c <command>`, as a `run` stage has) comes as `-c <command>` instead
 *    of `-- <argv…>`, and the subshell evaluates it itself: the wrapper is that same `/bin/sh`, so
 *    this saves starting a second shell for every command job. The command sees no positional
 *    parameters, as under `sh -c`; `$$` is the wrapper's pid (the session's);
 * 4. appends `$?` to `<dir>/status` as its second line and exits with the same code (128+n when
 *    the program died of signal n).
 *
 * For a FIFO session the engine opens `<dir>/stdin` read-write and passes it as fd 0, so the
 * wrapper holds it from its first instruction: the program never sees EOF while the wrapper
 * lives, and a steering writer finds a reader as soon as `start` returns.
 *
 * No variables are assigned in the wrapper itself (only positional parameters are used), because
 * a shell variable of the same name from the job's environment would be exported changed.
 * A POSIX shell changes a few variables it manages itself (dash: PWD, IFS, OPTIND, PPID; bash
 * also SHLVL, OLDPWD): the subshell unsets those the shell may add and re-exports the given
 * values, passed as `NAME=value` words before `--` (or `-c`), so the program's environment is
 * exactly the job's.
 *
 * Both lines go to one file, each with one shell `printf`, a single `write(2)` of a few bytes,
 * rather than write-then-`mv`: `mv` (and `date` for a millisecond time) would cost two or three
 * more processes per job, doubling the per-job overhead, and a file of its own for each record
 * would cost another inode per job. Readers accept a line only once it ends with a newline
 * (`readExitRecord`, `readSessionPid`), and take the exit time from the file's modification
 * time, which the append sets.
 */
const WRAPPER_LINES = [
  "trap : HUP INT TERM",
  'printf "%s\\n" "$$" > "$1/status" || exit 125',
  "(",
  "  shift",
  "  unset PWD OLDPWD SHLVL",
  '  while [ "$1" != -- ] && [ "$1" != -c ]; do export "$1"; shift; done',
  '  if [ "$1" = -c ]; then',
  "    eval 'set --;' \"$2\"",
  "  else",
  "    shift",
  '    exec "$@"',
  "  fi",
  ")",
  'set -- "$?" "$1"',
  'printf "%s\\n" "$1" >> "$2/status"',
];

export const WRAPPER_SCRIPT = [...WRAPPER_LINES, 'exit "$1"'].join("\n");

/**
 * The wrapper of a tmux pane. tmux destroys a pane as soon as its process has exited and the
 * terminal holds no unread output, but what the program wrote just before it ended can still be
 * on its way through the kernel's terminal buffer, and would never reach the log. This wrapper
 * waits 100 ms after it has written the exit record, so that tmux reads everything first; the
 * session counts as ended once the log is complete, that much later.
 */
export const TMUX_WRAPPER_SCRIPT = [...WRAPPER_LINES, "sleep 0.1 2>/dev/null", 'exit "$1"'].join(
  "\n",
);

/** Variables a POSIX shell sets or rewrites by itself; the wrapper restores the job's values. */
const SHELL_MANAGED_VARIABLES = ["PWD", "OLDPWD", "SHLVL", "IFS", "OPTIND", "PPID"] as const;

/** Names a POSIX shell passes through to a program; others it drops from the environment. */
const PORTABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Environment variable names the wrapper cannot pass on (a POSIX shell silently drops names that
 * are not identifiers, such as `A-B`). Pure.
 */
export function findUnportableEnvNames(env: Record<string, string>): string[] {
  return Object.keys(env).filter((name) => !PORTABLE_NAME.test(name));
}

/**
 * The argv (after `/bin/sh`) that runs `argv` under the wrapper `script` for session directory
 * `dir` (a `/bin/sh -c <command>` argv as the command itself, evaluated by the wrapper). Pure.
 * `env` is the program's full environment; only shell-managed variables are repeated here.
 */
export function makeWrapperArgs(
  dir: string,
  env: Record<string, string>,
  argv: readonly string[],
  script: string = WRAPPER_SCRIPT,
): string[] {
  const restore: string[] = [];
  for (const name of SHELL_MANAGED_VARIABLES) {
    const value = env[name];
    if (value !== undefined) {
      restore.push(`${name}=${value}`);
    }
  }
  const [program, flag, command, ...rest] = argv;
  if (program === "/bin/sh" && flag === "-c" && command !== undefined && rest.length === 0) {
    return ["-c", script, "baton-session", dir, ...restore, "-c", command];
  }
  return ["-c", script, "baton-session", dir, ...restore, "--", ...argv];
}
