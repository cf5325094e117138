const MAX_SLUG = 40;

/**
 * A branch-safe slug of any title: accents dropped, lower case, runs of anything but `a-z0-9`
 * turned into one `-`, at most 40 characters, never empty. Shell syntax, quotes and newlines
 * all become dashes, so the result is safe in a ref, a path and a tmux session name.
 */
export function slugify(title: string): string {
  const slug = title
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, MAX_SLUG)
    .replace(/-+$/g, "");
  return slug === "" ? "task" : slug;
}

/** The branch of a task's pipeline: `baton/<n>-<slug>`. */
export function branchName(taskNumber: number, title: string): string {
  return `baton/${taskNumber}-${slugify(title)}`;
}
