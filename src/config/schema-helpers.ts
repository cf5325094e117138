/**
 * Building blocks shared by the `baton.yaml` schemas: strict objects whose unknown-key error
 * lists the supported keys, durations checked with `parseDuration`, and names.
 */
import { z } from "zod";
import { parseDuration } from "../core/duration.js";
import { NAME_PATTERN } from "./builtins.js";

/** Prefix of the message of every unknown-key issue; the schema issue mapper relies on it. */
export const SUPPORTED_KEYS_PREFIX = "supported keys are: ";

/**
 * A strict object: unknown keys are issues whose message lists the supported keys, so the
 * issue mapper can say "unknown key 'x'; supported keys are: a, b, c".
 */
export function strictObject<T extends z.ZodRawShape>(shape: T): z.ZodObject<T, z.core.$strict> {
  const supported = Object.keys(shape).join(", ");
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === "unrecognized_keys" ? `${SUPPORTED_KEYS_PREFIX}${supported}` : undefined,
  });
}

function notADuration(input: unknown): string {
  const shown = typeof input === "string" ? input : JSON.stringify(input);
  return `'${shown}' is not a duration; use a number and a unit, such as 90s, 10m or 1h30m`;
}

/** A duration such as `45m`, `1h30m` or `250ms`; bare numbers are rejected (which unit?). */
export function durationSchema(description: string): z.ZodType<string> {
  return z
    .string({ error: (issue) => notADuration(issue.input) })
    .refine((text) => parseDuration(text) !== undefined, {
      error: (issue) => notADuration(issue.input),
    })
    .meta({ description, examples: ["90s", "10m", "1h30m"] });
}

/**
 * A stage id, agent name or pipeline name: lowercase letters, digits, `-` and `_`. `missing`
 * is the message when a required name is absent.
 */
export function nameSchema(what: string, missing?: string): z.ZodString {
  const base =
    missing === undefined
      ? z.string()
      : z.string({ error: (issue) => (issue.input === undefined ? missing : undefined) });
  return base.regex(NAME_PATTERN, {
    error: (issue) =>
      `'${String(issue.input)}' is not a valid ${what}; use lowercase letters, digits, '-' and '_', starting with a letter`,
  });
}

/** A non-empty string; `missing` is the message when a required one is absent. */
export function textSchema(description: string, missing?: string): z.ZodString {
  const base =
    missing === undefined
      ? z.string()
      : z.string({ error: (issue) => (issue.input === undefined ? missing : undefined) });
  return base.min(1, { error: "must not be empty" }).describe(description);
}

/** A whole number of at least `min`. */
export function countSchema(min: number, description: string): z.ZodNumber {
  return z
    .number()
    .int({ error: (issue) => `expected a whole number, got ${String(issue.input)}` })
    .min(min, { error: (issue) => `must be at least ${min}, got ${String(issue.input)}` })
    .describe(description);
}
