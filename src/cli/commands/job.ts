import { UsageError } from "../../core/errors.js";
import { spawnJob } from "../../engine/operations.js";
import type { CommandInput } from "../main.js";
import { withApp } from "./common.js";

/** `baton job spawn`: from inside a session, add a job to the session's pipeline. */
export function jobSpawnCommand(options: { stage: string; context: string }) {
  return async (input: CommandInput): Promise<void> => {
    const jobId = input.env.raw.BATON_JOB_ID;
    const token = input.env.raw.BATON_JOB_TOKEN;
    if (jobId === undefined || token === undefined || jobId === "" || token === "") {
      throw new UsageError(
        "baton job spawn runs inside a Baton session: BATON_JOB_ID and BATON_JOB_TOKEN are not set",
      );
    }
    await withApp(input, async (app) => {
      const spawned = await spawnJob(app.ctx, {
        jobId,
        token,
        stage: options.stage,
        context: options.context,
      });
      input.out.line(
        `Spawned job ${spawned.jobId} (stage ${options.stage}) in task #${spawned.taskNumber}'s pipeline.`,
      );
    });
  };
}
