/**
 * Schema parsing that keeps going past the first broken part, so a file's every problem can be
 * reported at once: each round removes what failed (an unknown key, a bad value, an entry
 * missing a required key) and parses again, until what is left parses. The rules then check
 * what is left; paths of the result map back to the input with `toInputPath`.
 */
import type { z } from "zod";
import {
  defaultIssueMessage,
  flattenIssues,
  type Path,
  type SchemaIssue,
} from "./schema-issues.js";

/** Marks a removed list entry, so indexes of the input stay valid while parsing what is left. */
const HOLE = Symbol("removed");

/** Enough rounds for the deepest chain of removals the config schema can cause. */
const MAX_ROUNDS = 12;

/** @internal The outcome of `parseTolerant`. */
export interface TolerantParse<T> {
  /** What parsed once the broken parts were removed; `undefined` when nothing usable is left. */
  data: T | undefined;
  /** Every problem found, at paths of the input. */
  issues: SchemaIssue[];
  /** The input path of a node of `data` (list indexes shift where entries were removed). */
  toInputPath(path: Path): Path;
}

/**
 * @internal
 * Parses `input` with `schema`, removing broken parts and parsing again until the rest parses.
 * Keys whose value is empty (`key:` with nothing after it) count as absent. Does not mutate
 * `input`; never throws.
 */
export function parseTolerant<S extends z.ZodType>(
  schema: S,
  input: unknown,
): TolerantParse<z.output<S>> {
  const work = { root: copyWithoutNulls(input) };
  const toInputPath = (path: Path): Path => inputPath(work.root, path);
  const issues: SchemaIssue[] = [];
  const removed = new Set<string>();
  for (let round = 0; round < MAX_ROUNDS; round += 1) {
    const result = schema.safeParse(withoutHoles(work.root), {
      reportInput: true,
      error: defaultIssueMessage,
    });
    if (result.success) {
      return { data: result.data, issues, toInputPath };
    }
    // Translate every path before removing anything: removals shift later list indexes.
    const found = flattenIssues(result.error.issues).map((issue) => ({
      ...issue,
      path: toInputPath(issue.path),
    }));
    let progressed = false;
    for (const issue of found) {
      const key = JSON.stringify(issue.path);
      // A removal can surface a "missing" issue at the removed path: already reported.
      if (!removed.has(key)) {
        issues.push(issue);
      }
      const target = issue.missing ? issue.path.slice(0, -1) : issue.path;
      if (issue.missing && target.length === 0 && issue.path[0] === "version") {
        // The root cannot be removed; assume the one version there is, to check the rest.
        setVersion(work.root);
        removed.add(key);
        progressed = true;
      } else if (removeAt(work.root, target)) {
        removed.add(key);
        removed.add(JSON.stringify(target));
        progressed = true;
      }
    }
    if (!progressed) {
      break;
    }
  }
  return { data: undefined, issues, toInputPath };
}

type Mapping = Record<string, unknown>;

function isMapping(value: unknown): value is Mapping {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function copyWithoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(copyWithoutNulls);
  }
  if (isMapping(value)) {
    // fromEntries defines own properties, so a `__proto__` key stays an (unknown) key.
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== null && v !== undefined)
        .map(([k, v]) => [k, copyWithoutNulls(v)]),
    );
  }
  return value;
}

function withoutHoles(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.filter((v) => v !== HOLE).map(withoutHoles);
  }
  if (isMapping(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutHoles(v)]));
  }
  return value;
}

function inputPath(root: unknown, path: Path): Path {
  const out: Path = [];
  let node = root;
  for (const segment of path) {
    if (Array.isArray(node) && typeof segment === "number") {
      let seen = -1;
      const index = node.findIndex((v) => v !== HOLE && ++seen === segment);
      out.push(index === -1 ? segment : index);
      node = index === -1 ? undefined : node[index];
    } else {
      out.push(segment);
      node = isMapping(node) ? node[String(segment)] : undefined;
    }
  }
  return out;
}

function nodeAt(root: unknown, path: Path): unknown {
  let node = root;
  for (const segment of path) {
    if (Array.isArray(node) && typeof segment === "number") {
      node = node[segment];
    } else {
      node = isMapping(node) ? node[String(segment)] : undefined;
    }
  }
  return node;
}

function removeAt(root: unknown, path: Path): boolean {
  const last = path[path.length - 1];
  if (last === undefined) {
    return false;
  }
  const parent = nodeAt(root, path.slice(0, -1));
  if (Array.isArray(parent) && typeof last === "number" && last < parent.length) {
    if (parent[last] === HOLE) {
      return false;
    }
    parent[last] = HOLE;
    return true;
  }
  if (isMapping(parent) && Object.hasOwn(parent, String(last))) {
    delete parent[String(last)];
    return true;
  }
  return false;
}

function setVersion(root: unknown): void {
  if (isMapping(root)) {
    root.version = 1;
  }
}
