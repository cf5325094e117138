import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

/** The first executable called `name` on `path` (a PATH value), or `null`. Never throws. */
export function whichOnPath(name: string, path: string | undefined): string | null {
  for (const dir of (path ?? "").split(delimiter)) {
    if (dir === "") {
      continue;
    }
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here; keep looking.
    }
  }
  return null;
}
