import { formatDuration } from "../../core/duration.js";
import type { Pipeline, Task } from "../../core/records.js";
import { Engine } from "../../engine/engine.js";
import { pipelineView, type PipelineView } from "../../engine/pipeline-view.js";
import { listEvents } from "../../store/events.repository.js";
import { refreshPipeline } from "../../store/pipelines.repository.js";
import type { App } from "../app.js";
import type { CommandInput } from "../main.js";
import { createProgress } from "../progress.js";

const FINISHED = new Set(["completed", "failed", "blocked", "cancelled"]);
const VIEW_REFRESH_MS = 250;

/**
 * Drives one pipeline in the foreground until it completes, fails or blocks (or the user
 * interrupts), showing progress. Returns the final view. Sessions keep running when
 * interrupted; any later engine adopts them.
 */
export async function drivePipeline(
  app: App,
  input: CommandInput,
  target: { pipeline: Pipeline; task: Task },
): Promise<{ view: PipelineView; interrupted: boolean }> {
  const { ctx } = app;
  const progress = createProgress(input.out, ctx.clock);
  let lastEvent = 0;
  let pipeline = target.pipeline;
  let view: PipelineView | null = null;
  let viewAt = Number.NEGATIVE_INFINITY;
  /**
   * After each pass: the pipeline's row and its new events (both cheap); the whole stage view
   * only for the live display, at most a few times a second, and at the end.
   */
  const refresh = async (full: boolean): Promise<void> => {
    pipeline = await refreshPipeline(ctx.store.db, pipeline);
    const events = await listEvents(ctx.store.db, { afterId: lastEvent, pipelineId: pipeline.id });
    lastEvent = events.at(-1)?.id ?? lastEvent;
    const now = ctx.clock();
    if (full || (input.out.isTTY && now - viewAt >= VIEW_REFRESH_MS)) {
      view = await pipelineView(ctx, pipeline, target.task);
      viewAt = now;
    }
    progress.update(view, events);
  };
  const engine = new Engine(ctx, { mode: "drive" });
  await refresh(input.out.isTTY);
  try {
    await engine.drive({
      pipelineIds: [target.pipeline.id],
      signal: input.signal,
      until: async () => {
        await refresh(false);
        return FINISHED.has(pipeline.status);
      },
    });
  } finally {
    await engine.close();
    await refresh(true);
    progress.stop();
  }
  const final = await pipelineView(ctx, pipeline, target.task);
  return { view: final, interrupted: input.signal.aborted };
}

/** The closing summary: outcome, stages with durations and fix rounds, where the work is. */
export function printSummary(input: CommandInput, view: PipelineView, interrupted: boolean): void {
  const { out } = input;
  out.line();
  if (interrupted && !FINISHED.has(view.status)) {
    out.line(out.paint("yellow", `Interrupted. Task #${view.task}'s sessions keep running.`));
    out.line(
      `Pick it up again with \`baton pipeline advance ${view.task} --wait\`, or stop it with \`baton pipeline abort ${view.task}\`.`,
    );
    return;
  }
  const colour = view.status === "completed" ? "green" : "red";
  out.line(
    out.paint(
      colour,
      `Pipeline ${view.pipeline} for task #${view.task} ${view.status}${view.reason === null || view.status === "completed" ? "" : `: ${view.reason}`}`,
    ),
  );
  out.table(
    view.stages.map((s) => ({
      stage: s.id,
      status: s.status,
      attempts: s.attempts,
      fix_rounds: s.fix_rounds,
      duration: s.duration_ms === null ? "-" : formatDuration(s.duration_ms),
    })),
    [
      { key: "stage", header: "stage" },
      { key: "status", header: "status" },
      { key: "attempts", header: "attempts" },
      { key: "fix_rounds", header: "fix rounds" },
      { key: "duration", header: "duration" },
    ],
  );
  if (view.branch !== null) {
    out.line(`Branch:   ${view.branch}`);
  }
  if (view.worktree !== null) {
    out.line(`Worktree: ${view.worktree}`);
  }
  if (view.status === "blocked") {
    out.line(
      `It needs a person: fix what is wrong, then \`baton task unblock ${view.task}\` (or \`baton pipeline retry ${view.task} --reason "..."\`).`,
    );
  } else if (view.status === "failed") {
    out.line(
      `See \`baton analytics issue-detail ${view.task}\`; run the failed stages again with \`baton pipeline retry ${view.task} --reason "..."\`.`,
    );
  }
}
