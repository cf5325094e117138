/**
 * Turns zod issues into located, readable issues: one per unknown key, the likely branch of a
 * failed union instead of every branch, and messages that say how to fix the value.
 */
import type { z } from "zod";
import { SUPPORTED_KEYS_PREFIX } from "./schema-helpers.js";
import { didYouMean } from "./suggest.js";

/** A path into the parsed file: keys, and list indexes as numbers. */
export type Path = (string | number)[];

/** @internal A schema problem at a path of the parsed value. */
export interface SchemaIssue {
  path: Path;
  message: string;
  /** Point at the key rather than the value (unknown keys, bad names). */
  atKey: boolean;
  /** A required key is absent. */
  missing: boolean;
}

type Issue = z.core.$ZodIssue;

/** What `defaultIssueMessage` says of an absent value; `flattenIssues` names the key. */
const MISSING = "missing required key";

/**
 * @internal
 * Messages for the issues no schema words itself; passed to `safeParse` as its error map.
 * Never throws.
 */
export function defaultIssueMessage(issue: z.core.$ZodRawIssue): string {
  switch (issue.code) {
    case "invalid_type": {
      if (issue.input === undefined) {
        return MISSING;
      }
      // YAML reads `draft: true` or `model: 4` as a boolean or a number, not text.
      const quote =
        issue.expected === "string" && ["number", "boolean"].includes(typeof issue.input)
          ? `; quote it ("${JSON.stringify(issue.input)}") to use it as text`
          : "";
      return `expected ${expectedName(issue.expected)}, got ${describeValue(issue.input)}${quote}`;
    }
    case "invalid_value": {
      const values = issue.values.map((v) => String(v));
      const input = String(issue.input);
      return `${describeValue(issue.input)} is not one of: ${values.join(", ")}${didYouMean(input, values)}`;
    }
    case "too_small":
      if (issue.origin === "array") {
        return `needs at least ${String(issue.minimum)} item${issue.minimum === 1 ? "" : "s"}`;
      }
      if (issue.origin === "string") {
        return "must not be empty";
      }
      return `must be at least ${String(issue.minimum)}, got ${describeValue(issue.input)}`;
    case "too_big":
      return `must be at most ${String(issue.maximum)}, got ${describeValue(issue.input)}`;
    default:
      return `invalid value ${describeValue(issue.input)}`;
  }
}

/** @internal Flattens zod issues into one readable issue per problem, with paths from the parsed root. */
export function flattenIssues(issues: readonly Issue[], prefix: Path = []): SchemaIssue[] {
  const flat: SchemaIssue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path.map(pathSegment)];
    switch (issue.code) {
      case "unrecognized_keys":
        for (const key of issue.keys) {
          flat.push({
            path: [...path, key],
            message: unknownKeyMessage(key, issue.message),
            atKey: true,
            missing: false,
          });
        }
        break;
      case "invalid_key":
        flat.push({
          path,
          message: issue.issues[0]?.message ?? issue.message,
          atKey: true,
          missing: false,
        });
        break;
      case "invalid_union": {
        const branch = likelyBranch(issue.errors);
        if (branch === undefined) {
          flat.push({ path, message: issue.message, atKey: false, missing: false });
        } else {
          flat.push(...flattenIssues(branch, path));
        }
        break;
      }
      default: {
        // With `reportInput`, only an absent value leaves `input` undefined.
        const missing = issue.input === undefined;
        const key = path[path.length - 1];
        const message =
          issue.message === MISSING && key !== undefined
            ? `${MISSING} '${String(key)}'`
            : issue.message;
        flat.push({ path, message, atKey: false, missing });
      }
    }
  }
  return flat;
}

function unknownKeyMessage(key: string, schemaMessage: string): string {
  if (!schemaMessage.startsWith(SUPPORTED_KEYS_PREFIX)) {
    return `unknown key '${key}'`;
  }
  const supported = schemaMessage.slice(SUPPORTED_KEYS_PREFIX.length).split(", ");
  return `unknown key '${key}'; ${schemaMessage}${didYouMean(key, supported)}`;
}

/**
 * The branch of a union the user most likely meant: one whose type matched at the root, with
 * the fewest unknown keys, then the fewest issues. `undefined` when no branch matched or two
 * tie, so the union's own message (listing the forms) is shown instead.
 */
function likelyBranch(branches: readonly (readonly Issue[])[]): readonly Issue[] | undefined {
  const ranked = branches
    .map((issues) => ({ issues, rank: branchRank(issues) }))
    .filter((b) => b.rank !== null)
    .sort((a, b) => compareRanks(a.rank ?? [], b.rank ?? []));
  const [best, next] = ranked;
  if (
    best === undefined ||
    (next !== undefined && compareRanks(best.rank ?? [], next.rank ?? []) === 0)
  ) {
    return undefined;
  }
  return best.issues;
}

/** `null` when the branch's type did not match at the root. */
function branchRank(issues: readonly Issue[]): number[] | null {
  let unknownKeys = 0;
  for (const issue of issues) {
    if (issue.path.length > 0) {
      continue;
    }
    if (issue.code === "invalid_type" || (issue.code === "invalid_value" && !sameType(issue))) {
      return null;
    }
    if (issue.code === "invalid_union" && likelyBranch(issue.errors) === undefined) {
      return null;
    }
    if (issue.code === "unrecognized_keys") {
      unknownKeys += issue.keys.length;
    }
  }
  return [unknownKeys, issues.length];
}

/** A wrong value of the right type (a misspelt word) means the branch is the likely one. */
function sameType(issue: z.core.$ZodIssueInvalidValue): boolean {
  return issue.values.some((value) => typeof value === typeof issue.input);
}

function compareRanks(a: readonly number[], b: readonly number[]): number {
  return (a[0] ?? 0) - (b[0] ?? 0) || (a[1] ?? 0) - (b[1] ?? 0);
}

function pathSegment(segment: PropertyKey): string | number {
  return typeof segment === "number" ? segment : String(segment);
}

function expectedName(expected: string): string {
  switch (expected) {
    case "object":
    case "record":
      return "a mapping (key: value)";
    case "array":
      return "a list";
    case "boolean":
      return "true or false";
    case "int":
      return "a whole number";
    default:
      return `a ${expected}`;
  }
}

/** @internal A short rendering of a value for a message: `'text'`, `3`, `a list`, `nothing`. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) {
    return "nothing";
  }
  if (Array.isArray(value)) {
    return "a list";
  }
  if (typeof value === "object") {
    return "a mapping";
  }
  if (typeof value === "string") {
    return `'${value}'`;
  }
  return typeof value === "number" || typeof value === "boolean" ? String(value) : typeof value;
}
