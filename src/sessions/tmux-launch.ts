/**
 * What a tmux pane runs for a session, and the command that copies the pane to the log.
 *
 * The pane's process is `/bin/sh -c TMUX_LAUNCH_SCRIPT baton-launch <gate> <stdin kind>
 * <stdin path> <env…> /bin/sh -c TMUX_WRAPPER_SCRIPT baton-session <dir> … -- <argv…>`. The
 * launcher
 *
 * 1. points its stdin at the prompt file for a `file` session, and at the session's `stdin`
 *    FIFO (opened read-write, so it never waits for a writer) for a `fifo` session: a headless
 *    agent that streams its input reads messages from there, as under the `process` runtime.
 *    Other sessions keep the pane's terminal as stdin: interactive agents read the terminal,
 *    and steering types into it;
 * 2. blocks opening the `gate` FIFO for reading until the runtime opens it for writing, which
 *    the runtime does only once `pipe-pane` copies the pane to the log, so the program cannot
 *    print anything the log would miss;
 * 3. `exec`s `env -i` with the job's variables, `BATON_SESSION`, and the terminal type tmux set
 *    (`TERM`, unless the job sets its own), which `exec`s the same wrapper the `process` runtime
 *    uses (`wrapper-script.ts`). Nothing else of the tmux server's environment (`TMUX`,
 *    `TMUX_PANE`, the engine's own variables) reaches the program.
 *
 * Each step `exec`s the next, so tmux's `#{pane_pid}` is the wrapper's pid: the leader of the
 * pane's session and process group, which is what `killSession` signals.
 *
 * Data only ever travels as separate argv words: the launcher uses positional parameters and
 * assigns no variables, so the job's values pass through untouched.
 */
import type { SessionSpec } from "./runtime.js";
import { sessionPaths } from "./session-paths.js";
import { escapeTmuxFormat } from "./tmux-command.js";
import { makeWrapperArgs, TMUX_WRAPPER_SCRIPT } from "./wrapper-script.js";

export const TMUX_LAUNCH_SCRIPT = [
  'if [ "$2" = file ]; then exec < "$3" || exit 125; fi',
  'if [ "$2" = fifo ]; then exec <> "$3" || exit 125; fi',
  ': < "$1" || exit 125',
  "shift 3",
  'if [ -n "${TERM+set}" ]; then exec /usr/bin/env -i -- "TERM=$TERM" "$@"; fi',
  'exec /usr/bin/env -i -- "$@"',
].join("\n");

/**
 * The argv of the pane for `spec`: launcher, environment, wrapper and program. Pure.
 * `spec.env` names must be portable (checked by `prepareSessionDir`).
 */
export function makeTmuxPaneArgv(spec: SessionSpec): string[] {
  const env = { ...spec.env, BATON_SESSION: spec.name };
  const paths = sessionPaths(spec.dir);
  return [
    "/bin/sh",
    "-c",
    TMUX_LAUNCH_SCRIPT,
    "baton-launch",
    paths.gate,
    spec.stdin.kind,
    spec.stdin.kind === "file" ? spec.stdin.path : spec.stdin.kind === "fifo" ? paths.stdin : "",
    ...Object.entries(env).map(([name, value]) => `${name}=${value}`),
    "/bin/sh",
    ...makeWrapperArgs(spec.dir, env, spec.argv, TMUX_WRAPPER_SCRIPT),
  ];
}

/**
 * The `pipe-pane` command that appends the pane's output to `<dir>/log` and, once the pane is
 * gone and every byte is written, creates `<dir>/log-closed`. tmux runs it with `sh -c` after
 * expanding `#` formats in it, so the paths are single-quoted for the shell and their `#`s
 * doubled for tmux. Pure.
 */
export function makeLogPipeCommand(dir: string): string {
  const paths = sessionPaths(dir);
  return escapeTmuxFormat(
    `cat >> ${quoteForShell(paths.log)}; : > ${quoteForShell(paths.logClosed)}`,
  );
}

/** `text` as one single-quoted POSIX shell word. Pure. */
export function quoteForShell(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}
