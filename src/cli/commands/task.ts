import { UsageError } from "../../core/errors.js";
import { TASK_STATUSES, type TaskStatus } from "../../core/status.js";
import { addTask, cancelTask, getTask, unblockTasks } from "../../engine/operations.js";
import { pipelineView } from "../../engine/pipeline-view.js";
import { findLatestPipelineForTask } from "../../store/pipelines.repository.js";
import { listTasks } from "../../store/tasks.repository.js";
import type { CommandInput, TaskAddOptions } from "../main.js";
import { pipelineFor, printWarnings, readBody, withAgent, withApp } from "./common.js";

export function taskAddCommand(title: string, options: TaskAddOptions) {
  return async (input: CommandInput): Promise<void> => {
    const body = await readBody(options.bodyFile);
    await withApp(input, async (app) => {
      const project = await app.project();
      printWarnings(input, project);
      const chosen = pipelineFor(project, options.pipeline);
      const { task } = await addTask(app.ctx, {
        project: project.project,
        title,
        body,
        labels: options.label,
        source: "local",
        agent: options.agent ?? null,
        pipelineName: chosen.name,
        snapshot: withAgent(chosen.snapshot, project, options.agent),
      });
      input.out.line(`Added task #${task.number}: ${task.title}`);
      input.out.line(
        input.out.paint(
          "dim",
          `Its ${chosen.name} pipeline starts at the next \`baton check-in\`, under \`baton serve\`, or with \`baton pipeline advance ${task.number}\`.`,
        ),
      );
    });
  };
}

export function taskListCommand(options: { status: string[] }) {
  return async (input: CommandInput): Promise<void> => {
    const unknown = options.status.filter((s) => !(TASK_STATUSES as readonly string[]).includes(s));
    if (unknown.length > 0) {
      throw new UsageError(
        `unknown --status ${unknown.join(", ")}; statuses are: ${TASK_STATUSES.join(", ")}`,
      );
    }
    await withApp(input, async (app) => {
      const project = await app.project();
      const tasks = await listTasks(app.ctx.store.db, {
        projectId: project.project.id,
        statuses: options.status as TaskStatus[],
      });
      if (input.format === "json") {
        input.out.json(
          tasks.map((t) => ({
            number: t.number,
            title: t.title,
            status: t.status,
            labels: t.labels,
            source: t.source,
            pipeline: t.pipelineName,
            created_at: new Date(t.createdAt).toISOString(),
          })),
        );
        return;
      }
      input.out.table(
        tasks.map((t) => ({
          number: `#${t.number}`,
          status: t.status,
          title: t.title,
          labels: t.labels,
        })),
        [
          { key: "number", header: "task" },
          { key: "status", header: "status" },
          { key: "title", header: "title" },
          { key: "labels", header: "labels" },
        ],
      );
    });
  };
}

export function taskShowCommand(number: number) {
  return async (input: CommandInput): Promise<void> => {
    await withApp(input, async (app) => {
      const project = await app.project();
      const task = await getTask(app.ctx, project.project, number);
      const pipeline = await findLatestPipelineForTask(app.ctx.store.db, task.id);
      const view = pipeline === undefined ? null : await pipelineView(app.ctx, pipeline, task);
      if (input.format === "json") {
        input.out.json({
          number: task.number,
          title: task.title,
          body: task.body,
          status: task.status,
          labels: task.labels,
          source: task.source,
          created_at: new Date(task.createdAt).toISOString(),
          pipeline: view,
        });
        return;
      }
      const { out } = input;
      out.line(`${out.paint("bold", `#${task.number} ${task.title}`)}  (${task.status})`);
      if (task.labels.length > 0) {
        out.line(`labels: ${task.labels.join(", ")}`);
      }
      if (task.body.trim() !== "") {
        out.line();
        out.line(task.body.trimEnd());
      }
      if (view !== null) {
        out.line();
        out.line(
          `pipeline ${view.pipeline} (run ${view.run}): ${view.status}${view.reason === null ? "" : ` — ${view.reason}`}`,
        );
        if (view.branch !== null) {
          out.line(`branch ${view.branch}, worktree ${view.worktree ?? "-"}`);
        }
        out.table(
          view.stages.map((s) => ({ ...s, error: s.error ?? "" })),
          [
            { key: "id", header: "stage" },
            { key: "status", header: "status" },
            { key: "attempts", header: "attempts" },
            { key: "fix_rounds", header: "fix rounds" },
            { key: "error", header: "last error" },
          ],
        );
      }
    });
  };
}

export function taskCancelCommand(number: number) {
  return async (input: CommandInput): Promise<void> => {
    await withApp(input, async (app) => {
      const project = await app.project();
      const task = await getTask(app.ctx, project.project, number);
      await cancelTask(app.ctx, task, "cancelled by a person");
      input.out.line(`Cancelled task #${number}.`);
    });
  };
}

export function taskUnblockCommand(which: number | "all", reason: string) {
  return async (input: CommandInput): Promise<void> => {
    await withApp(input, async (app) => {
      const project = await app.project();
      const unblocked = await unblockTasks(app.ctx, project.project, which, reason);
      input.out.line(
        unblocked.length === 0
          ? "No task needed unblocking."
          : `Unblocked ${unblocked.map((n) => `#${n}`).join(", ")}; their stages run again at the next check-in or under \`baton serve\`.`,
      );
    });
  };
}
