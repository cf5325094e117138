/**
 * The built-in pipeline templates by name, and the files `baton init --template <name>`
 * writes for one.
 */
import { NotFoundError } from "../../core/errors.js";
import { defaultTemplate } from "./default-template.js";
import { deliveryTemplate } from "./delivery-template.js";
import { featureTemplate } from "./feature-template.js";
import { ideaTemplate } from "./idea-template.js";
import type { PipelineTemplate } from "./pipeline-template.js";

export type { PipelineTemplate } from "./pipeline-template.js";

/** Names `baton init --template` accepts; `default` is the commented starter. */
export const TEMPLATE_NAMES = ["default", "feature", "delivery", "idea"] as const;
type TemplateName = (typeof TEMPLATE_NAMES)[number];

const TEMPLATES: Readonly<Record<TemplateName, PipelineTemplate>> = {
  default: defaultTemplate,
  feature: featureTemplate,
  delivery: deliveryTemplate,
  idea: ideaTemplate,
};

/**
 * The template called `name`.
 * @throws NotFoundError listing the template names when there is none.
 */
export function findTemplate(name: string): PipelineTemplate {
  if (!(TEMPLATE_NAMES as readonly string[]).includes(name)) {
    throw new NotFoundError(
      `no pipeline template named '${name}'; templates are: ${TEMPLATE_NAMES.join(", ")}`,
    );
  }
  return TEMPLATES[name as TemplateName];
}

/**
 * The files of a template, paths relative to the project root: `baton.yaml` first, then its
 * prompt files. Returns new objects; writes nothing.
 * @throws NotFoundError listing the template names for an unknown template.
 * @example
 * for (const file of starterFiles("default")) {
 *   await writeFile(join(root, file.path), file.content, { flag: "wx" });
 * }
 */
export function starterFiles(template: string): { path: string; content: string }[] {
  const found = findTemplate(template);
  return [
    { path: "baton.yaml", content: found.yaml },
    ...Object.entries(found.prompts).map(([path, content]) => ({
      path,
      content: content.endsWith("\n") ? content : `${content}\n`,
    })),
  ];
}
