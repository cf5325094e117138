/**
 * Prompt templates: `{{ name.path }}` is replaced by the value at that path, and nothing else
 * happens. There are no sections, loops, partials or expressions, so no code runs in a
 * template and task text can never become instructions to Baton.
 *
 * Paths are dotted. `artifacts.<stage>.<file>` takes the rest of the path as a file name, so
 * `{{artifacts.plan.PLAN.md}}` is the content of `PLAN.md` from stage `plan`, and
 * `{{artifact_paths.plan.PLAN.md}}` its path in the worktree.
 */

const VARIABLE = /\{\{\s*([A-Za-z_][\w.\-/]*)\s*\}\}/g;

/** The variable roots a prompt may use, with what each holds. */
export const TEMPLATE_ROOTS = {
  task: "the task: task.number, task.title, task.body, task.labels",
  stage: "the stage: stage.id",
  pipeline: "the pipeline: pipeline.name, pipeline.branch",
  worktree: "absolute path of the worktree",
  attempt: "attempt number of this stage, from 1",
  fix_round: "fix round, 0 outside fix rounds",
  failures: "the failing gates' names and output tails, empty when none",
  route: "when work was routed back: route.from, route.reason",
  spawn: "in a spawned job: spawn.context",
  artifacts: "artifacts.<stage>.<file>: content of a file an earlier stage recorded",
  artifact_paths: "artifact_paths.<stage>.<file>: its path in the worktree",
} as const;
export type TemplateRoot = keyof typeof TEMPLATE_ROOTS;

export interface TemplateReference {
  /** The whole dotted path, as written. */
  path: string;
  root: string;
  /** 1-based position of the `{{` in the template. */
  line: number;
  col: number;
}

/** Every `{{ … }}` reference in a template, in order. */
export function listTemplateReferences(template: string): TemplateReference[] {
  const refs: TemplateReference[] = [];
  for (const match of template.matchAll(VARIABLE)) {
    const path = match[1] as string;
    const before = template.slice(0, match.index);
    const line = before.split("\n").length;
    const col = match.index - before.lastIndexOf("\n");
    refs.push({ path, root: path.split(".")[0] as string, line, col });
  }
  return refs;
}

export type TemplateValue = string | number | boolean | null | readonly string[] | TemplateScope;
export interface TemplateScope {
  readonly [key: string]: TemplateValue | undefined;
}

export interface RenderResult {
  text: string;
  /** Paths that resolved to nothing; they render as empty text. */
  missing: string[];
  /** Every path that resolved, for recording which artifacts a prompt used. */
  used: string[];
}

/**
 * Replaces each `{{path}}` with its value from `scope`. Lists render one per line; scopes and
 * missing values render empty and are reported in `missing`. Never throws.
 */
export function renderTemplate(template: string, scope: TemplateScope): RenderResult {
  const missing: string[] = [];
  const used: string[] = [];
  const text = template.replace(VARIABLE, (_whole, path: string) => {
    const value = lookup(scope, path);
    if (
      value === undefined ||
      (typeof value === "object" && value !== null && !Array.isArray(value))
    ) {
      missing.push(path);
      return "";
    }
    used.push(path);
    if (value === null) {
      return "";
    }
    if (Array.isArray(value)) {
      return value.join("\n");
    }
    return String(value);
  });
  return { text, missing, used };
}

/**
 * Finds `path` in `scope`. At each level the longest key matching a dotted prefix of what is
 * left wins, so keys may themselves hold dots (file names such as `PLAN.md`).
 */
function lookup(scope: TemplateScope, path: string): TemplateValue | undefined {
  let current: TemplateValue | undefined = scope;
  let rest = path;
  while (rest !== "") {
    if (current === null || typeof current !== "object" || Array.isArray(current)) {
      return undefined;
    }
    const level: TemplateScope = current as TemplateScope;
    let found: string | undefined;
    for (let end = rest.length; end > 0; end = rest.lastIndexOf(".", end - 1)) {
      const key = rest.slice(0, end);
      if (Object.hasOwn(level, key)) {
        found = key;
        break;
      }
    }
    if (found === undefined) {
      return undefined;
    }
    current = level[found];
    rest = rest.slice(found.length + 1);
  }
  return current;
}
