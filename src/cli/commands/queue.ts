import { UsageError } from "../../core/errors.js";
import {
  readQueueSettings,
  writeQueueSettings,
  type QueueSettings,
} from "../../store/settings.repository.js";
import type { CommandInput } from "../main.js";
import { withApp } from "./common.js";

export async function queueStatusCommand(input: CommandInput): Promise<void> {
  await withApp(input, async (app) => {
    const settings = await readQueueSettings(app.ctx.store.db);
    if (input.format === "json") {
      input.out.json({
        paused: settings.paused,
        max_concurrent: settings.maxConcurrent,
        stop_on_failure: settings.stopOnFailure,
      });
      return;
    }
    input.out.line(`paused:          ${settings.paused ? "yes" : "no"}`);
    input.out.line(`stop_on_failure: ${settings.stopOnFailure ? "on" : "off"}`);
    input.out.line(
      `max_concurrent:  ${settings.maxConcurrent ?? "off (limits.max_running_jobs applies)"}`,
    );
  });
}

export function queueSetCommand(patch: Partial<QueueSettings>) {
  return async (input: CommandInput): Promise<void> => {
    await withApp(input, async (app) => {
      await writeQueueSettings(app.ctx.store.db, patch, app.ctx.clock());
      input.out.line(
        patch.paused === true
          ? "Queue paused: running work finishes, nothing new starts."
          : "Queue settings updated.",
      );
    });
  };
}

function onOff(flag: string, value: string): boolean {
  if (value === "on" || value === "true") {
    return true;
  }
  if (value === "off" || value === "false") {
    return false;
  }
  throw new UsageError(`${flag} takes on or off, got '${value}'`);
}

export function queueSetFromFlags(flags: { stopOnFailure?: string; maxConcurrent?: string }) {
  const patch: Partial<QueueSettings> = {};
  if (flags.stopOnFailure !== undefined) {
    patch.stopOnFailure = onOff("--stop-on-failure", flags.stopOnFailure);
  }
  if (flags.maxConcurrent !== undefined) {
    const n = Number(flags.maxConcurrent);
    if (flags.maxConcurrent !== "off" && (!Number.isInteger(n) || n <= 0)) {
      throw new UsageError(
        `--max-concurrent takes a positive whole number or off, got '${flags.maxConcurrent}'`,
      );
    }
    patch.maxConcurrent = flags.maxConcurrent === "off" ? null : n;
  }
  if (Object.keys(patch).length === 0) {
    throw new UsageError("queue set needs --stop-on-failure or --max-concurrent");
  }
  return queueSetCommand(patch);
}
