import { formatDuration } from "../../core/duration.js";
import { buildPipelineView } from "../../engine/pipeline-view.js";
import { listJobs } from "../../store/jobs.repository.js";
import { listPipelines } from "../../store/pipelines.repository.js";
import { listProjects } from "../../store/projects.repository.js";
import { listTasksByIds } from "../../store/tasks.repository.js";
import type { CommandInput } from "../main.js";
import { withApp } from "./common.js";

/** Dollars as the tables show them, `$0.0123`; `-` for 0 (no cost reported). */
export function formatUsd(usd: number): string {
  return usd === 0 ? "-" : `$${usd.toFixed(4)}`;
}

/** `baton status`: every pipeline's latest state, newest last. */
export async function statusCommand(input: CommandInput): Promise<void> {
  await withApp(input, async (app) => {
    const project = await app.optionalProject();
    const db = app.ctx.store.db;
    const pipelines = await listPipelines(
      db,
      project === null ? {} : { projectId: project.project.id },
    );
    const [tasks, jobs, projects] = await Promise.all([
      listTasksByIds(
        db,
        pipelines.map((p) => p.taskId),
      ),
      listJobs(
        db,
        pipelines.map((p) => p.id),
      ),
      listProjects(db),
    ]);
    const taskById = new Map(tasks.map((t) => [t.id, t]));
    const projectName = new Map(projects.map((p) => [p.id, p.name]));
    const now = app.ctx.clock();
    const rows = pipelines.flatMap((pipeline) => {
      const task = taskById.get(pipeline.taskId);
      if (task === undefined) {
        return [];
      }
      const view = buildPipelineView(
        pipeline,
        task,
        jobs.filter((j) => j.pipelineId === pipeline.id),
        now,
      );
      const current = view.stages.find((s) =>
        ["running", "checking", "queued", "blocked", "failed"].includes(s.status),
      );
      return [{ view, project: projectName.get(pipeline.projectId) ?? "?", current }];
    });
    if (input.format === "json") {
      input.out.json({
        pipelines: rows.map((r) => ({ project: r.project, ...r.view })),
      });
      return;
    }
    input.out.table(
      rows.map(({ view, project: name, current }) => ({
        task: `#${view.task}`,
        project: name,
        status: view.status,
        stage: current === undefined ? "-" : `${current.id} (${current.status})`,
        cost: formatUsd(view.cost_usd),
        age: formatDuration(now - Date.parse(view.created_at)),
        title: view.title,
      })),
      [
        { key: "task", header: "task" },
        ...(project === null ? [{ key: "project", header: "project" }] : []),
        { key: "status", header: "status" },
        { key: "stage", header: "stage" },
        { key: "cost", header: "cost" },
        { key: "age", header: "age" },
        { key: "title", header: "title" },
      ],
    );
  });
}
