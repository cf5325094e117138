/**
 * A pipeline definition's stages as the planner walks them: in dependency order, each with the
 * positions of the stages it needs, so a pass looks needs up by index rather than by id.
 * Built once per definition object and kept while the object lives.
 */
import { topologicalOrder } from "./graph.js";
import type { PipelineSnapshot, StageDef } from "./pipeline-def.js";

export interface StageGraph {
  /** Every stage, each after the stages it needs. */
  order: readonly StageDef[];
  /** A stage's index in `order`, by id. */
  position: ReadonlyMap<string, number>;
  /** For each stage of `order`, the index of each of its needs, in `needs` order; -1 for a need naming no stage. */
  needs: readonly (readonly number[])[];
}

const graphs = new WeakMap<PipelineSnapshot, StageGraph>();

export function stageGraph(snapshot: PipelineSnapshot): StageGraph {
  let graph = graphs.get(snapshot);
  if (graph === undefined) {
    // The config rules reject cycles, so a null here means a corrupt snapshot: fall back to
    // the written order rather than stalling the pipeline.
    const order = topologicalOrder(snapshot.pipeline.stages) ?? snapshot.pipeline.stages;
    const position = new Map(order.map((stage, i) => [stage.id, i]));
    const needs = order.map((stage) => stage.needs.map((need) => position.get(need.stage) ?? -1));
    graph = { order, position, needs };
    graphs.set(snapshot, graph);
  }
  return graph;
}
