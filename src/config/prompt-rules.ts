/**
 * Rules about prompt files: they exist, their variables are ones Baton fills in, and the
 * artifacts they read come from stages that run before.
 */
import { resolve } from "node:path";
import { ancestors } from "../core/graph.js";
import type { PipelineDef, StageDef } from "../core/pipeline-def.js";
import { TEMPLATE_ROOTS, listTemplateReferences } from "../core/template.js";
import { listNames, stageEntries, type RuleContext } from "./rule-context.js";
import type { Path } from "./schema-issues.js";
import { didYouMean } from "./suggest.js";

interface PromptUse {
  pipeline: PipelineDef;
  stage: StageDef;
  /** Path of the `prompt` key in the file. */
  path: Path;
  /** The prompt path as written. */
  file: string;
  /** Fix and judge prompts run after the stage's own job, so they may read its artifacts. */
  afterStage: boolean;
}

/** Every prompt the file's stages name: stage prompts, fix prompts and judge prompts. */
function promptUses(context: RuleContext): PromptUse[] {
  const uses: PromptUse[] = [];
  for (const { pipeline, raw, stage, path } of stageEntries(context)) {
    if (raw.prompt !== undefined) {
      uses.push({
        pipeline,
        stage,
        path: [...path, "prompt"],
        file: raw.prompt,
        afterStage: false,
      });
    }
    if (raw.fix?.prompt !== undefined) {
      const fixPath = [...path, "fix", "prompt"];
      uses.push({ pipeline, stage, path: fixPath, file: raw.fix.prompt, afterStage: true });
    }
    raw.gates?.forEach((gate, index) => {
      if (gate.judge?.prompt !== undefined) {
        const judgePath = [...path, "gates", index, "judge", "prompt"];
        uses.push({ pipeline, stage, path: judgePath, file: gate.judge.prompt, afterStage: true });
      }
    });
  }
  return uses;
}

/** Every prompt file named in the file exists. */
export function promptFilesExist(context: RuleContext): void {
  for (const use of promptUses(context)) {
    if ((context.prompts.get(use.file) ?? null) === null) {
      context.error({
        path: use.path,
        message: `prompt file '${use.file}' not found at ${resolve(context.config.root, use.file)}; create it, or fix the path (it is relative to the directory holding baton.yaml)`,
      });
    }
  }
}

/** Template variables start with a root Baton fills in; reported once per prompt file. */
export function templateVariablesKnown(context: RuleContext): void {
  const roots = Object.keys(TEMPLATE_ROOTS);
  const checked = new Set<string>();
  for (const use of promptUses(context)) {
    const text = context.prompts.get(use.file);
    if (text === undefined || text === null || checked.has(use.file)) {
      continue;
    }
    checked.add(use.file);
    for (const ref of listTemplateReferences(text)) {
      if (!roots.includes(ref.root)) {
        context.error({
          path: use.path,
          file: resolve(context.config.root, use.file),
          line: ref.line,
          col: ref.col,
          message: `unknown template variable '{{${ref.path}}}'; variables start with one of: ${listNames(roots)}${didYouMean(ref.root, roots)}`,
        });
      }
    }
  }
}

/**
 * `{{artifacts.<stage>…}}` and `{{artifact_paths.<stage>…}}` name a stage that runs before the
 * prompt does; otherwise they render empty (a warning).
 */
export function artifactsFromAncestors(context: RuleContext): void {
  for (const use of promptUses(context)) {
    const text = context.prompts.get(use.file);
    if (text === undefined || text === null) {
      continue;
    }
    const ids = use.pipeline.stages.map((s) => s.id);
    const before = ancestors(use.pipeline.stages, use.stage.id);
    if (use.afterStage) {
      before.add(use.stage.id);
    }
    for (const ref of listTemplateReferences(text)) {
      const source = ref.path.split(".")[1];
      if ((ref.root !== "artifacts" && ref.root !== "artifact_paths") || source === undefined) {
        continue;
      }
      let message: string | undefined;
      if (!ids.includes(source)) {
        message = `'{{${ref.path}}}' names no stage of pipeline '${use.pipeline.name}'; stages are: ${listNames(ids)}${didYouMean(source, ids)}`;
      } else if (!before.has(source)) {
        message = `'{{${ref.path}}}' reads an artifact of stage '${source}', which stage '${use.stage.id}' does not depend on, so it will be empty; add '${source}' to the needs of '${use.stage.id}'`;
      }
      if (message !== undefined) {
        context.warning({
          path: use.path,
          file: resolve(context.config.root, use.file),
          line: ref.line,
          col: ref.col,
          message,
        });
      }
    }
  }
}
