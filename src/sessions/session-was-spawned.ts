import { existsSync } from "node:fs";
import { sessionPaths } from "./session-paths.js";

/**
 * Whether a wrapper ever ran in session directory `dir`: it writes its pid to the `status` file
 * before it starts the program. Lets reconciliation tell "spawned, then lost" from "never spawned".
 * Never throws.
 */
export function sessionWasSpawned(dir: string): boolean {
  return existsSync(sessionPaths(dir).status);
}
