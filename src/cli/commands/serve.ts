import { Engine } from "../../engine/engine.js";
import type { CommandInput } from "../main.js";
import { withApp } from "./common.js";

/** `baton serve`: the engine as a foreground daemon over every open pipeline. */
export function serveCommand(options: { tick: number }) {
  return async (input: CommandInput): Promise<void> => {
    await withApp(input, async (app) => {
      await app.optionalProject();
      const engine = new Engine(app.ctx, { mode: "drive", tickMs: options.tick });
      input.out.line(
        `Baton engine running (store ${app.env.databaseUrl === null ? app.ctx.paths.database : "PostgreSQL"}); Ctrl-C stops it, sessions keep running.`,
      );
      try {
        await engine.drive({ until: () => Promise.resolve(false), signal: input.signal });
      } finally {
        await engine.close();
      }
      input.out.line("Engine stopped; leases released, sessions left running for the next engine.");
    });
  };
}
