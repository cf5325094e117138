import { planPipeline, type PipelineState } from "./pipeline-resolver.js";

/**
 * The stages a manual retry (or an unblock) runs again: those whose failure is final and the
 * one that escalated. Pure; sessions and leases do not matter here.
 */
export function stagesToRetry(state: PipelineState, now: number): string[] {
  const plan = planPipeline(
    {
      ...state,
      status: "running",
      jobs: state.jobs.map((j) => ({ ...j, session: null, lease: "none" as const })),
    },
    now,
  );
  const escalated = plan.decisions.flatMap((d) => (d.kind === "escalate" ? [d.stageId] : []));
  const failed = [...plan.stages].flatMap(([id, r]) => (r.state === "failed" ? [id] : []));
  return [...new Set([...escalated, ...failed])];
}
