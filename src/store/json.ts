import { InternalError } from "../core/errors.js";

/**
 * Parses a JSON column Baton wrote itself. A value that does not parse, or is not of the
 * expected shape, means the database was edited by hand or corrupted: that is reported as an
 * `InternalError` naming the table and column, never silently defaulted.
 */
export function parseJsonColumn<T>(
  text: string,
  where: string,
  check: (value: unknown) => value is T,
): T {
  let value: unknown;
  // Most stored lists and objects are empty; skip the parser for them.
  if (text === "[]") {
    value = [];
  } else if (text === "{}") {
    value = {};
  } else {
    try {
      value = JSON.parse(text);
    } catch (cause) {
      throw new InternalError(`${where} holds invalid JSON`, { cause });
    }
  }
  if (!check(value)) {
    throw new InternalError(`${where} holds JSON of the wrong shape`);
  }
  return value;
}

export function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === "string");
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function isFailureList(value: unknown): value is { gate: string; output: string }[] {
  return (
    Array.isArray(value) &&
    value.every((v) => isObject(v) && typeof v.gate === "string" && typeof v.output === "string")
  );
}
