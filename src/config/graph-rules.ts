/**
 * Rules about the stage graph of each pipeline: ids, needs, cycles and where routes may go.
 */
import { ancestors, findCycle } from "../core/graph.js";
import { BUILTIN_PIPELINE_NAMES } from "./builtins.js";
import { listNames, stageEntries, type RuleContext } from "./rule-context.js";
import { didYouMean } from "./suggest.js";

/** Stage ids are unique within a pipeline. */
export function noDuplicateStageIds(context: RuleContext): void {
  const first = new Map<string, number>();
  for (const { pipeline, stage, path } of stageEntries(context)) {
    const key = `${pipeline.name}\0${stage.id}`;
    const index = first.get(key);
    if (index === undefined) {
      first.set(key, Number(path[3]));
      continue;
    }
    context.error({
      path: [...path, "id"],
      message: `duplicate stage id '${stage.id}' (stage ${index} has it too); stage ids must be unique within a pipeline`,
    });
  }
}

/** Every need names a stage of the same pipeline. */
export function needsExistingStages(context: RuleContext): void {
  for (const { pipeline, stage, path } of stageEntries(context)) {
    const ids = pipeline.stages.map((s) => s.id);
    stage.needs.forEach((need, index) => {
      if (!ids.includes(need.stage)) {
        context.error({
          path: [...path, "needs", index],
          message: `stage '${stage.id}' needs '${need.stage}', which is not a stage of pipeline '${pipeline.name}'; stages are: ${listNames(ids)}${didYouMean(need.stage, ids)}`,
        });
      }
    });
  }
}

/** The needs of a pipeline form no cycle; the message names one, pointing at a need in it. */
export function noCycles(context: RuleContext): void {
  for (const [name, pipeline] of Object.entries(context.config.pipelines)) {
    if (context.raw.pipelines?.[name] === undefined) {
      continue;
    }
    const cycle = findCycle(pipeline.stages);
    if (cycle === null) {
      continue;
    }
    const [from, to] = cycle;
    const index = pipeline.stages.findIndex((s) => s.id === from);
    const needIndex = pipeline.stages[index]?.needs.findIndex((n) => n.stage === to) ?? -1;
    context.error({
      path: ["pipelines", name, "stages", index, "needs", needIndex],
      message: `stages depend on each other in a cycle: ${cycle.join(" → ")} (each needs the next); remove one of these needs`,
    });
  }
}

/** `on_fail: {route}` goes back to a stage this one depends on, directly or not. */
export function routeTargetsAncestor(context: RuleContext): void {
  for (const { pipeline, stage, path } of stageEntries(context)) {
    if (stage.onFail.kind !== "route") {
      continue;
    }
    const target = stage.onFail.to;
    const ids = pipeline.stages.map((s) => s.id);
    const before = ancestors(pipeline.stages, stage.id);
    let message: string | undefined;
    if (!ids.includes(target)) {
      message = `route target '${target}' is not a stage of pipeline '${pipeline.name}'; stages are: ${listNames(ids)}${didYouMean(target, ids)}`;
    } else if (!before.has(target)) {
      const choices = ids.filter((id) => before.has(id));
      message =
        choices.length === 0
          ? `route target '${target}' is not an earlier stage that '${stage.id}' depends on, and '${stage.id}' depends on none; use retry or escalate instead`
          : `route target '${target}' is not an earlier stage that '${stage.id}' depends on; route may go back to: ${listNames(choices)}`;
    }
    if (message !== undefined) {
      context.error({ path: [...path, "on_fail", "route"], message });
    }
  }
}

/** `defaults.pipeline` names a pipeline of the file or a built-in one, when the file has any. */
export function defaultPipelineExists(context: RuleContext): void {
  if (context.raw.pipelines === undefined) {
    return;
  }
  const name = context.raw.defaults.pipeline;
  const names = [...new Set([...Object.keys(context.raw.pipelines), ...BUILTIN_PIPELINE_NAMES])];
  if (!names.includes(name)) {
    context.error({
      path: ["defaults", "pipeline"],
      message: `no pipeline named '${name}'; pipelines are: ${listNames(names)}; set defaults.pipeline to one of them${didYouMean(name, names)}`,
    });
  }
}
