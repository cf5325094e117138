/**
 * A CLI project (`test/helpers/cli.ts`) whose sessions run on a private tmux server
 * (`BATON_TMUX_SOCKET=bench-<random>`), as `test/cli/tmux.test.ts` sets one up, with a cleanup
 * that ends the panes' processes, kills that server, removes its socket file and then the
 * project's temp dirs.
 */
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { coerceError } from "../../src/lib/coerce-error.js";
import { createTmuxClient, type TmuxClient } from "../../src/sessions/tmux-command.js";
import {
  makeCliProject,
  type CliProject,
  type CliProjectOptions,
  type CliResult,
} from "../../test/helpers/cli.js";

export interface TmuxCliProject {
  readonly project: CliProject;
  readonly socket: string;
  /** A client of the project's tmux server. */
  readonly tmux: TmuxClient;
  /** The whole environment the CLI runs with, for CLIs started by hand (as `project.run` does). */
  readonly env: Record<string, string>;
  /** `baton ...args` in the project, on its tmux server. */
  run(args: readonly string[]): Promise<CliResult>;
  /**
   * Ends every pane's process group, kills the tmux server, removes its socket, then runs the
   * project's cleanup (which throws if it had to kill a leftover process). Runs every step even
   * when one fails; rejects with the first failure.
   */
  cleanup(): Promise<void>;
}

export async function makeTmuxCliProject(options: CliProjectOptions): Promise<TmuxCliProject> {
  const socket = `bench-${randomBytes(4).toString("hex")}`;
  const project = await makeCliProject(options);
  // As `makeCliProject` runs the CLI, plus the socket.
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: join(project.base, "user"),
    LANG: "C.UTF-8",
    TMPDIR: project.tmp,
    NO_COLOR: "1",
    BATON_HOME: project.home,
    BATON_LOG_LEVEL: "warn",
    BATON_TMUX_SOCKET: socket,
  };
  // With the CLI's environment, so it finds the same server (TMUX_TMPDIR is not passed on).
  const tmux = createTmuxClient(socket, env);
  return {
    project,
    socket,
    tmux,
    env,
    run: (args) => project.run(args, { env: { BATON_TMUX_SOCKET: socket } }),
    cleanup: async () => {
      const failures: Error[] = [];
      const step = async (work: () => unknown): Promise<void> => {
        try {
          await work();
        } catch (error) {
          failures.push(coerceError(error));
        }
      };
      // Wrappers outlive a closed terminal on purpose (they record the exit): end the panes'
      // process groups before the server.
      await step(async () => {
        const panes = await tmux.run(["list-panes", "-a", "-F", "#{pane_pid}"]);
        for (const pid of panes.stdout.split("\n").filter((line) => /^\d+$/.test(line))) {
          try {
            process.kill(-Number(pid), "SIGKILL");
          } catch {
            // Already gone.
          }
        }
      });
      await step(() => tmux.run(["kill-server"]));
      await step(() => {
        rmSync(join("/tmp", `tmux-${process.getuid?.() ?? 0}`, socket), { force: true });
      });
      await step(() => project.cleanup());
      const [first] = failures;
      if (first !== undefined) {
        throw first;
      }
    },
  };
}
