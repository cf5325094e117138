import { addTask } from "../../engine/operations.js";
import { EXIT, ExitError } from "../exit-error.js";
import type { CommandInput, TaskAddOptions } from "../main.js";
import { pipelineFor, printWarnings, readBody, withAgent, withApp } from "./common.js";
import { drivePipeline, printSummary } from "./drive.js";

/** `baton run <title>`: add a task and drive its pipeline to the end in the foreground. */
export function runCommand(title: string, options: TaskAddOptions) {
  return async (input: CommandInput): Promise<void> => {
    const body = await readBody(options.bodyFile);
    const outcome = await withApp(input, async (app) => {
      const project = await app.project();
      printWarnings(input, project);
      const chosen = pipelineFor(project, options.pipeline);
      const { task, pipeline } = await addTask(app.ctx, {
        project: project.project,
        title,
        body,
        labels: options.label,
        source: "local",
        agent: options.agent ?? null,
        pipelineName: chosen.name,
        snapshot: withAgent(chosen.snapshot, project, options.agent),
      });
      const stages = pipeline.snapshot.pipeline.stages.map((s) => s.id).join(" → ");
      input.out.line(`Task #${task.number}: ${task.title}`);
      input.out.line(input.out.paint("dim", `Pipeline ${pipeline.name}: ${stages}`));
      const { view, interrupted } = await drivePipeline(app, input, { pipeline, task });
      printSummary(input, view, interrupted);
      return view.status;
    });
    if (outcome !== "completed") {
      throw new ExitError(EXIT.failed);
    }
  };
}
