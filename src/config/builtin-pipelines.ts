/**
 * The built-in pipelines every project has (`--pipeline feature` works without defining it):
 * each comes from its template's YAML, normalised with the project's own defaults and agents,
 * its prompts taken from the template.
 */
import { parseDocument } from "yaml";
import { InternalError } from "../core/errors.js";
import type { AgentDef, Defaults, PipelineDef } from "../core/pipeline-def.js";
import { normalizePipeline } from "./normalize.js";
import { configSchema } from "./schema.js";
import { findTemplate } from "./templates/starter-files.js";

/**
 * @internal
 * The built-in pipeline `name`, normalised with `defaults` and `agents`; prompt paths read
 * `builtin:<name>/<file>`. Pure.
 * @throws InternalError when the built-in template does not parse (a bug; templates are tested).
 */
export function builtinPipeline(
  name: string,
  defaults: Defaults,
  agents: Readonly<Record<string, AgentDef>>,
): PipelineDef {
  const template = findTemplate(name);
  const parsed = configSchema.safeParse(parseDocument(template.yaml).toJS());
  const pipeline = parsed.success ? parsed.data.pipelines?.[name] : undefined;
  if (pipeline === undefined) {
    throw new InternalError(`the built-in template '${name}' has no valid pipeline '${name}'`, {
      cause: parsed.error,
    });
  }
  return normalizePipeline(name, pipeline, defaults, agents, (path) => ({
    path: `builtin:${name}/${path.replace(/^prompts\//, "")}`,
    template: template.prompts[path] ?? "",
  }));
}
