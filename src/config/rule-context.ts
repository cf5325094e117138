/**
 * What a rule sees and how it reports: the parsed file (to know what was written), the
 * normalised config (to check what it means), and the prompt texts.
 */
import type { BatonConfig, PipelineDef, StageDef } from "../core/pipeline-def.js";
import type { RawConfig } from "./schema.js";
import type { Path } from "./schema-issues.js";
import type { RawStage } from "./stage-schema.js";

/** A problem a rule found. Without `file`, it is located in `baton.yaml` by its path. */
export interface RuleIssue {
  /** Path in the parsed file, such as `["pipelines", "default", "stages", 1, "needs", 0]`. */
  path: Path;
  message: string;
  /** Point at the key rather than its value. */
  atKey?: boolean;
  /** For problems inside another file (a prompt): that file and the 1-based position. */
  file?: string;
  line?: number;
  col?: number;
}

/** @internal What every rule gets: the file as written and normalised, and where to report. */
export interface RuleContext {
  raw: RawConfig;
  /** Normalised from `raw`: the file's pipelines only, no built-in ones. */
  config: BatonConfig;
  /** Prompt texts by path as written; `null` (or absent) when the file is missing. */
  prompts: ReadonlyMap<string, string | null>;
  error(issue: RuleIssue): void;
  warning(issue: RuleIssue): void;
}

/** A named check across keys; it reports through the context and returns nothing. */
export type Rule = (context: RuleContext) => void;

/** @internal A stage as written and normalised, with its path in the file. */
export interface StageEntry {
  pipeline: PipelineDef;
  /** The stage as written. */
  raw: RawStage;
  /** The same stage normalised. */
  stage: StageDef;
  /** Path of the stage: `["pipelines", name, "stages", index]`. */
  path: Path;
}

/** @internal Every stage of the file's pipelines, as written and normalised, with its path. */
export function stageEntries(context: RuleContext): StageEntry[] {
  const entries: StageEntry[] = [];
  for (const [name, rawPipeline] of Object.entries(context.raw.pipelines ?? {})) {
    const pipeline = context.config.pipelines[name];
    if (pipeline === undefined) {
      continue;
    }
    rawPipeline.stages.forEach((raw, index) => {
      const stage = pipeline.stages[index];
      if (stage !== undefined) {
        entries.push({ pipeline, raw, stage, path: ["pipelines", name, "stages", index] });
      }
    });
  }
  return entries;
}

/** @internal A list of choices for messages: `a, b, c`. */
export function listNames(names: Iterable<string>): string {
  return [...new Set(names)].join(", ");
}
