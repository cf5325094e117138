import { existsSync } from "node:fs";
import { formatDuration } from "../../core/duration.js";
import { ConflictError } from "../../core/errors.js";
import { isOpenPipeline } from "../../core/status.js";
import { Engine } from "../../engine/engine.js";
import {
  createPipeline,
  endPipeline,
  getPipelineOfTask,
  getTask,
  retryPipeline,
} from "../../engine/operations.js";
import { pipelineView } from "../../engine/pipeline-view.js";
import { EXIT, ExitError } from "../exit-error.js";
import type { CommandInput } from "../main.js";
import { pipelineFor, withApp } from "./common.js";
import { printCheckIn } from "./check-in.js";
import { drivePipeline, printSummary } from "./drive.js";
import { formatUsd } from "./status.js";

export function pipelineCreateCommand(number: number, options: { pipeline?: string }) {
  return async (input: CommandInput): Promise<void> => {
    await withApp(input, async (app) => {
      const project = await app.project();
      const task = await getTask(app.ctx, project.project, number);
      const chosen = pipelineFor(project, options.pipeline ?? task.pipelineName ?? undefined);
      const pipeline = await createPipeline(app.ctx, task, chosen.name, chosen.snapshot);
      input.out.line(
        `Created pipeline ${pipeline.name} (run ${pipeline.run}) for task #${number}.`,
      );
    });
  };
}

export function pipelineAdvanceCommand(number: number, options: { wait?: boolean }) {
  return async (input: CommandInput): Promise<void> => {
    const status = await withApp(input, async (app) => {
      const project = await app.project();
      const { task, pipeline } = await getPipelineOfTask(app.ctx, project.project, number);
      if (options.wait === true) {
        const { view, interrupted } = await drivePipeline(app, input, { pipeline, task });
        if (input.format === "json") {
          input.out.json(view);
        } else {
          printSummary(input, view, interrupted);
        }
        return view.status;
      }
      const engine = new Engine(app.ctx, { mode: "check-in" });
      try {
        const actions = await engine.checkIn({ pipelineIds: [pipeline.id] });
        printCheckIn(input, actions);
      } finally {
        await engine.close();
      }
      return "advanced";
    });
    if (status === "failed" || status === "blocked" || status === "cancelled") {
      throw new ExitError(EXIT.failed);
    }
  };
}

export function pipelineStatusCommand(number: number) {
  return async (input: CommandInput): Promise<void> => {
    await withApp(input, async (app) => {
      const project = await app.project();
      const { task, pipeline } = await getPipelineOfTask(app.ctx, project.project, number);
      const view = await pipelineView(app.ctx, pipeline, task);
      if (input.format === "json") {
        input.out.json(view);
        return;
      }
      const { out } = input;
      out.line(
        `${out.paint("bold", `#${view.task} ${view.title}`)}  ${view.pipeline} (run ${view.run}): ${view.status}${view.reason === null ? "" : ` — ${view.reason}`}`,
      );
      if (view.branch !== null) {
        out.line(`branch ${view.branch}  worktree ${view.worktree ?? "-"}`);
      }
      const started = view.started_at === null ? null : Date.parse(view.started_at);
      const finished = view.finished_at === null ? app.ctx.clock() : Date.parse(view.finished_at);
      out.table(
        [
          ...view.stages.map((s) => ({
            ...s,
            duration: s.duration_ms === null ? "-" : formatDuration(s.duration_ms),
            cost: formatUsd(s.cost_usd),
            tokens: s.tokens === 0 ? "-" : s.tokens,
          })),
          {
            id: "total",
            status: "",
            attempts: "",
            fix_rounds: "",
            duration: started === null ? "-" : formatDuration(finished - started),
            cost: formatUsd(view.cost_usd),
            tokens: view.tokens === 0 ? "-" : view.tokens,
          },
        ],
        [
          { key: "id", header: "stage" },
          { key: "status", header: "status" },
          { key: "attempts", header: "attempts" },
          { key: "fix_rounds", header: "fix rounds" },
          { key: "duration", header: "duration" },
          { key: "tokens", header: "tokens" },
          { key: "cost", header: "cost" },
        ],
      );
    });
  };
}

export function pipelineRetryCommand(number: number, reason: string) {
  return async (input: CommandInput): Promise<void> => {
    await withApp(input, async (app) => {
      const project = await app.project();
      const { pipeline } = await getPipelineOfTask(app.ctx, project.project, number);
      const stages = await retryPipeline(app.ctx, pipeline, reason);
      input.out.line(
        `Retrying ${stages.join(", ")} of task #${number}; they run at the next check-in or under \`baton serve\`.`,
      );
    });
  };
}

export function pipelineFailCommand(number: number, reason: string) {
  return async (input: CommandInput): Promise<void> => {
    await withApp(input, async (app) => {
      const project = await app.project();
      const { pipeline } = await getPipelineOfTask(app.ctx, project.project, number);
      await endPipeline(app.ctx, pipeline, { status: "failed", reason, removeWorktree: false });
      input.out.line(`Marked the pipeline of task #${number} failed.`);
    });
  };
}

export function pipelineAbortCommand(number: number, options: { removeWorktree?: boolean }) {
  return async (input: CommandInput): Promise<void> => {
    await withApp(input, async (app) => {
      const project = await app.project();
      const { pipeline } = await getPipelineOfTask(app.ctx, project.project, number);
      const open = isOpenPipeline(pipeline.status);
      const worktree = pipeline.worktreePath;
      const removing = options.removeWorktree === true && worktree !== null && existsSync(worktree);
      if (!open && !removing) {
        // Nothing left to do: say so rather than report an abort that did not happen.
        throw new ConflictError(
          `the pipeline of task #${number} is already ${pipeline.status}${options.removeWorktree === true ? " and has no worktree left to remove" : ""}`,
        );
      }
      await endPipeline(app.ctx, pipeline, {
        status: "cancelled",
        reason: "aborted by a person",
        removeWorktree: options.removeWorktree === true,
      });
      const kept = `${worktree ?? "-"} (branch ${pipeline.branch ?? "-"} kept)`;
      input.out.line(
        !open
          ? `The pipeline of task #${number} is already ${pipeline.status}; removed its worktree ${kept}.`
          : removing
            ? `Aborted the pipeline of task #${number} and removed ${kept}.`
            : `Aborted the pipeline of task #${number}.`,
      );
    });
  };
}
