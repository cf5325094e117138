/**
 * Builds a job's prompt from its stage's template and the job's context. Task text enters only
 * as variable values; the result is written to a file or piped to stdin, never through a shell.
 */
import type { PromptDef, StageDef } from "../core/pipeline-def.js";
import type { Artifact, Job, Pipeline, Task } from "../core/records.js";
import { renderTemplate, type TemplateScope } from "../core/template.js";

export interface RenderedPrompt {
  text: string;
  /** Ids of the artifacts the prompt used by name. */
  usedArtifactIds: string[];
  /** Template variables that resolved to nothing (worth a warning in the log). */
  missing: string[];
}

const FIX_TEMPLATE: PromptDef = {
  path: "builtin:fix.md",
  template: [
    "You are fixing the work of stage `{{stage.id}}` for task #{{task.number}}: {{task.title}}",
    "",
    "These checks failed (fix round {{fix_round}}):",
    "",
    "{{failures}}",
    "",
    "Change the code in this worktree so that they pass. Do not weaken, skip or delete the checks.",
    "",
  ].join("\n"),
};

/** The failing gates as Markdown: a heading and the output tail of each. */
export function formatFailures(failures: readonly { gate: string; output: string }[]): string {
  return failures.map((f) => `### ${f.gate}\n\n\`\`\`\n${f.output.trimEnd()}\n\`\`\``).join("\n\n");
}

function templateFor(stage: StageDef, job: Job): PromptDef {
  if (job.trigger === "fix" && stage.fix.prompt !== null) {
    return stage.fix.prompt;
  }
  if (stage.kind === "agent" || stage.kind === "fanout") {
    return stage.prompt;
  }
  return FIX_TEMPLATE;
}

/** Renders the prompt of `job`. Never throws; unknown variables render empty. */
export function renderJobPrompt(input: {
  stage: StageDef;
  job: Job;
  task: Task;
  pipeline: Pipeline;
  worktree: string;
  /** The pipeline's artifacts, oldest first; later ones of the same stage and path win. */
  artifacts: readonly Artifact[];
}): RenderedPrompt {
  const { stage, job, task, pipeline, worktree } = input;
  const contents: Record<string, Record<string, string | null>> = {};
  const paths: Record<string, Record<string, string>> = {};
  const byPath = new Map<string, Artifact>();
  for (const artifact of input.artifacts) {
    (contents[artifact.stageId] ??= {})[artifact.path] = artifact.content;
    (paths[artifact.stageId] ??= {})[artifact.path] = `${worktree}/${artifact.path}`;
    byPath.set(`${artifact.stageId}.${artifact.path}`, artifact);
  }
  const failures = job.context.failures ?? [];
  const scope: TemplateScope = {
    task: { number: task.number, title: task.title, body: task.body, labels: task.labels },
    stage: { id: stage.id },
    pipeline: { name: pipeline.name, branch: pipeline.branch ?? "" },
    worktree,
    attempt: job.attempt,
    fix_round: job.fixRound,
    failures: formatFailures(failures),
    route: job.context.route === undefined ? null : { ...job.context.route },
    spawn: job.context.spawn === undefined ? null : { context: job.context.spawn.context },
    artifacts: contents,
    artifact_paths: paths,
  };
  const template = templateFor(stage, job);
  const rendered = renderTemplate(template.template, scope);
  const used = new Set(rendered.used);
  const sections = [rendered.text.trimEnd()];
  // A job must see why it exists even when the stage's template does not ask for it.
  if (failures.length > 0 && !template.template.includes("failures")) {
    sections.push(
      `## Checks that failed${job.fixRound > 0 ? ` (fix round ${job.fixRound})` : ""}\n\n${formatFailures(failures)}`,
    );
  }
  if (job.context.route !== undefined && !template.template.includes("route")) {
    sections.push(
      `## Sent back by stage \`${job.context.route.from}\`\n\n${job.context.route.reason}`,
    );
  }
  if (job.context.spawn !== undefined && !template.template.includes("spawn")) {
    sections.push(
      `## Context from the job that asked for this one\n\n${job.context.spawn.context}`,
    );
  }
  if (job.context.manual !== undefined) {
    sections.push(`## Note from a person who retried this stage\n\n${job.context.manual.reason}`);
  }
  const usedArtifactIds = [...byPath.entries()]
    .filter(([key]) => used.has(`artifacts.${key}`) || used.has(`artifact_paths.${key}`))
    .map(([, artifact]) => artifact.id);
  return { text: `${sections.join("\n\n")}\n`, usedArtifactIds, missing: rendered.missing };
}
