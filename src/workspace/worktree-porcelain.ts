/** One entry of `git worktree list --porcelain`. */
export interface WorktreeEntry {
  /** Absolute path of the worktree, as git recorded it. */
  path: string;
  /** The checked-out branch without `refs/heads/`; `null` when detached or bare. */
  branch: string | null;
  /** The commit checked out; `""` for a bare repository. */
  head: string;
  bare: boolean;
  /** Git marks the entry prunable: its directory is gone (deleted by hand). */
  prunable: boolean;
  locked: boolean;
}

/**
 * Parses the output of `git worktree list --porcelain` (without `-z`): blocks of
 * `key value` lines separated by blank lines, the first line of each being `worktree <path>`.
 * Unknown keys are ignored, as git's documentation asks. Pure; never throws.
 *
 * @example
 * parseWorktreePorcelain("worktree /repo\nHEAD 1a2b\nbranch refs/heads/main\n\n");
 * // [{ path: "/repo", branch: "main", head: "1a2b", bare: false, prunable: false, locked: false }]
 */
export function parseWorktreePorcelain(output: string): WorktreeEntry[] {
  const entries: WorktreeEntry[] = [];
  let current: WorktreeEntry | null = null;
  for (const line of output.split("\n")) {
    const space = line.indexOf(" ");
    const key = space === -1 ? line : line.slice(0, space);
    const value = space === -1 ? "" : line.slice(space + 1);
    if (key === "worktree") {
      current = {
        path: value,
        branch: null,
        head: "",
        bare: false,
        prunable: false,
        locked: false,
      };
      entries.push(current);
      continue;
    }
    if (current === null) {
      continue;
    }
    switch (key) {
      case "HEAD":
        current.head = value;
        break;
      case "branch":
        current.branch = value.startsWith("refs/heads/")
          ? value.slice("refs/heads/".length)
          : value;
        break;
      case "bare":
        current.bare = true;
        break;
      case "prunable":
        current.prunable = true;
        break;
      case "locked":
        current.locked = true;
        break;
      default:
        // "detached", a blank separator, or a key a newer git added.
        break;
    }
  }
  return entries;
}
