import type { CheckInAction } from "../../engine/engine.js";
import { Engine } from "../../engine/engine.js";
import type { CommandInput } from "../main.js";
import { withApp } from "./common.js";

export function printCheckIn(input: CommandInput, actions: readonly CheckInAction[]): void {
  if (input.format === "json") {
    input.out.json({ actions });
    return;
  }
  input.out.table(
    actions.map((a) => ({ ...a, issue: `#${a.issue}` })),
    [
      { key: "issue", header: "task" },
      { key: "action", header: "action" },
      { key: "stage", header: "stage" },
      { key: "message", header: "message" },
    ],
  );
}

/** `baton check-in`: one tick over every open pipeline. */
export async function checkInCommand(input: CommandInput): Promise<void> {
  await withApp(input, async (app) => {
    // Inside a project its limits apply; elsewhere the defaults do.
    await app.optionalProject();
    const engine = new Engine(app.ctx, { mode: "check-in" });
    try {
      printCheckIn(input, await engine.checkIn());
    } finally {
      await engine.close();
    }
  });
}
