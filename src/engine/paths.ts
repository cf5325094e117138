import { join } from "node:path";

/** Where Baton keeps its state, all under `BATON_HOME` (default `~/.baton`). */
export interface BatonPaths {
  home: string;
  database: string;
  sessions: string;
  worktrees: string;
  logs: string;
  /** Files touched here wake engines watching the directory (`serve`, `run`). */
  wake: string;
  /** Holds a `baton` shim that sessions find first on their PATH. */
  bin: string;
}

export function batonPaths(home: string): BatonPaths {
  return {
    home,
    database: join(home, "baton.db"),
    sessions: join(home, "sessions"),
    worktrees: join(home, "worktrees"),
    logs: join(home, "logs"),
    wake: join(home, "wake"),
    bin: join(home, "bin"),
  };
}
