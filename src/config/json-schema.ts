/**
 * The JSON Schema of `baton.yaml`, for editors (`# yaml-language-server: $schema=...`) and
 * `baton config schema`. Generated from the same zod schema that checks the file.
 */
import { z } from "zod";
import { configSchema } from "./schema.js";

/** Stable identifier of the schema; a URN, because Baton does not serve it from a URL. */
export const CONFIG_SCHEMA_ID = "urn:baton:schema:baton-yaml:1";

/**
 * The JSON Schema (draft 2020-12) of `baton.yaml` as written: input types, so keys with
 * defaults are optional and show their `default`. Returns a new object on each call.
 * @example
 * process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
 */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchema, { target: "draft-2020-12", io: "input" });
  const { $schema, ...rest } = schema;
  return {
    $schema,
    $id: CONFIG_SCHEMA_ID,
    title: "baton.yaml",
    ...rest,
  };
}
