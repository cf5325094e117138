/**
 * The copy of a pipeline's definition a pipeline run keeps, so that editing `baton.yaml`
 * never changes a pipeline that is already running.
 */
import { NotFoundError } from "../core/errors.js";
import type { BatonConfig, PipelineSnapshot } from "../core/pipeline-def.js";

/**
 * The pipeline `name` with the config's agents, defaults and routing. A deep copy: later
 * changes to `config` do not reach it. Does not mutate `config`.
 * @throws NotFoundError listing the pipeline names when `name` is not one of them.
 */
export function snapshotPipeline(config: BatonConfig, name: string): PipelineSnapshot {
  const pipeline = config.pipelines[name];
  if (pipeline === undefined) {
    const names = Object.keys(config.pipelines).join(", ");
    throw new NotFoundError(
      `no pipeline named '${name}' in ${config.file}; pipelines are: ${names}`,
    );
  }
  // Every agent comes along: routing, labels and rate-limit fallbacks may pick any of them.
  return structuredClone({
    pipeline,
    agents: config.agents,
    defaults: config.defaults,
    router: config.router,
    modelMap: config.modelMap,
  });
}
