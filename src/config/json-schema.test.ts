import { describe, expect, test } from "vitest";
import { parseDocument } from "yaml";
import { CONFIG_SCHEMA_ID, configJsonSchema } from "./json-schema.js";
import { starterFiles, TEMPLATE_NAMES } from "./templates/starter-files.js";

type Schema = Record<string, unknown>;

/**
 * Checks `value` against the JSON Schema keywords the generated schema uses (type, const,
 * enum, pattern, minimum, properties, required, additionalProperties, propertyNames, items,
 * anyOf), as an editor would. Returns the paths that fail.
 */
function violations(schema: Schema, value: unknown, path = "$"): string[] {
  if (Array.isArray(schema.anyOf)) {
    const branches = (schema.anyOf as Schema[]).map((branch) => violations(branch, value, path));
    return branches.some((b) => b.length === 0) ? [] : [`${path}: matches no anyOf branch`];
  }
  const found: string[] = [];
  const type = schema.type;
  const isObject = typeof value === "object" && value !== null && !Array.isArray(value);
  const typeOk =
    type === undefined ||
    (type === "object" && isObject) ||
    (type === "array" && Array.isArray(value)) ||
    (type === "string" && typeof value === "string") ||
    (type === "boolean" && typeof value === "boolean") ||
    (type === "number" && typeof value === "number") ||
    (type === "integer" && Number.isInteger(value));
  if (!typeOk) {
    return [`${path}: not ${JSON.stringify(type)}`];
  }
  if ("const" in schema && schema.const !== value) {
    found.push(`${path}: not ${JSON.stringify(schema.const)}`);
  }
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) {
    found.push(`${path}: not in enum`);
  }
  if (
    typeof schema.pattern === "string" &&
    typeof value === "string" &&
    !new RegExp(schema.pattern).test(value)
  ) {
    found.push(`${path}: does not match ${schema.pattern}`);
  }
  if (typeof schema.minimum === "number" && typeof value === "number" && value < schema.minimum) {
    found.push(`${path}: below ${schema.minimum}`);
  }
  if (Array.isArray(value) && typeof schema.items === "object") {
    value.forEach((item, i) =>
      found.push(...violations(schema.items as Schema, item, `${path}[${i}]`)),
    );
  }
  if (isObject) {
    const properties = (schema.properties ?? {}) as Record<string, Schema>;
    for (const key of (schema.required ?? []) as string[]) {
      if (!(key in value)) {
        found.push(`${path}: missing ${key}`);
      }
    }
    for (const [key, item] of Object.entries(value)) {
      const where = `${path}.${key}`;
      const names = schema.propertyNames as Schema | undefined;
      if (names !== undefined) {
        found.push(...violations(names, key, `${where} (key)`));
      }
      if (properties[key] !== undefined) {
        found.push(...violations(properties[key], item, where));
      } else if (schema.additionalProperties === false) {
        found.push(`${where}: not allowed`);
      } else if (typeof schema.additionalProperties === "object") {
        found.push(...violations(schema.additionalProperties as Schema, item, where));
      }
    }
  }
  return found;
}

/** Every `properties` entry, anywhere in the schema, with its path. */
function allProperties(schema: unknown, path = "$"): [string, Schema][] {
  if (typeof schema !== "object" || schema === null) {
    return [];
  }
  const node = schema as Schema;
  const found: [string, Schema][] = [];
  for (const [key, value] of Object.entries((node.properties ?? {}) as Record<string, Schema>)) {
    found.push([`${path}.${key}`, value], ...allProperties(value, `${path}.${key}`));
  }
  for (const key of ["anyOf", "items", "additionalProperties"]) {
    const value = node[key];
    for (const child of Array.isArray(value) ? value : [value]) {
      found.push(...allProperties(child, `${path}[${key}]`));
    }
  }
  return found;
}

describe("configJsonSchema", () => {
  const schema = configJsonSchema();

  test("is a draft 2020-12 object schema with an id, a title and the top-level keys", () => {
    expect(schema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
    expect(schema.$id).toBe(CONFIG_SCHEMA_ID);
    expect(schema.title).toBe("baton.yaml");
    expect(schema.type).toBe("object");
    expect(Object.keys(schema.properties as Schema)).toEqual([
      "version",
      "defaults",
      "limits",
      "agents",
      "router",
      "model_map",
      "pipelines",
    ]);
    expect(schema.required).toEqual(["version"]);
    expect(schema.additionalProperties).toBe(false);
  });

  test("describes every key, and documents static defaults", () => {
    const properties = allProperties(schema);
    expect(properties.length).toBeGreaterThan(60);
    const undescribed = properties
      .filter(([, p]) => typeof p.description !== "string")
      .map(([path]) => path);
    expect(undescribed).toEqual([]);
    const defaults = (schema.properties as Record<string, Schema>).defaults?.properties as Record<
      string,
      Schema
    >;
    expect(defaults.timeout?.default).toBe("45m");
    expect(defaults.agent?.default).toBe("claude");
  });

  test.each(TEMPLATE_NAMES)("accepts the %s template's baton.yaml", (name) => {
    const [config] = starterFiles(name);
    expect(violations(schema, parseDocument(config?.content ?? "").toJS())).toEqual([]);
  });

  test("rejects what the file format rejects", () => {
    const file = {
      version: 2,
      defaults: { agent: "Claude", colour: "blue" },
      limits: { max_running_jobs: 0 },
      pipelines: { default: { stages: [{ id: "plan", needs: [{ stage: "x", when: "later" }] }] } },
    };
    expect(violations(schema, file)).toEqual([
      "$.version: not 1",
      "$.defaults.agent: does not match ^[a-z][a-z0-9_-]*$",
      "$.defaults.colour: not allowed",
      "$.limits.max_running_jobs: below 1",
      "$.pipelines.default.stages[0].needs[0]: matches no anyOf branch",
    ]);
  });
});
