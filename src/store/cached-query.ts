import { CompiledQuery, type Compilable, type QueryResult } from "kysely";
import type { Db } from "./db.js";

/**
 * SQL text of statements the engine runs for every job, by dialect and shape. Building a query
 * with kysely and compiling it costs more than SQLite takes to run it; the text only depends on
 * the statement's shape (which columns, how many rows), so it is compiled once and reused with
 * new parameters.
 */
const texts = new WeakMap<object, Map<string, string | null>>();

/**
 * Runs the statement that `build` makes, whose parameters are `parameters` in order, reusing the
 * SQL compiled the first time `shape` was seen on this dialect. `shape` must name everything
 * that changes the text (a column list, a row count); `parameters` must be exactly what
 * kysely's compilation of `build()` binds, which is checked on that first compilation: a shape
 * whose parameters differ is never reused, only built each time.
 */
export async function runCached<R>(
  db: Db,
  shape: string,
  parameters: unknown[],
  build: () => Compilable<R>,
): Promise<QueryResult<R>> {
  const adapter = db.getExecutor().adapter;
  let byShape = texts.get(adapter);
  if (byShape === undefined) {
    byShape = new Map();
    texts.set(adapter, byShape);
  }
  const text = byShape.get(shape);
  if (text === undefined) {
    const compiled = build().compile();
    const same =
      compiled.parameters.length === parameters.length &&
      compiled.parameters.every((p, i) => p === parameters[i]);
    byShape.set(shape, same ? compiled.sql : null);
    return db.executeQuery(compiled);
  }
  if (text === null) {
    return db.executeQuery(build().compile());
  }
  return db.executeQuery<R>(CompiledQuery.raw(text, parameters));
}

/**
 * The columns an `update … set` of `patch` writes, as kysely compiles it (a column whose value is
 * `undefined` is left out): their names, comma-joined for a `runCached` shape, and their values
 * in the same order, the first of its parameters.
 */
export function setColumns(patch: object): { names: string; values: unknown[] } {
  const names: string[] = [];
  const values: unknown[] = [];
  for (const [name, value] of Object.entries(patch)) {
    if (value !== undefined) {
      names.push(name);
      values.push(value);
    }
  }
  return { names: names.join(","), values };
}
