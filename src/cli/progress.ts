/**
 * Progress of a pipeline while `baton run` (or `pipeline advance --wait`) drives it: on a
 * terminal, a live view of the stages redrawn in place; otherwise one plain line per event, so
 * logs and CI output stay readable.
 */
import logUpdate from "log-update";
import { formatDuration } from "../core/duration.js";
import type { BatonEvent } from "../core/records.js";
import type { PipelineView } from "../engine/pipeline-view.js";
import type { Output } from "./output.js";

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

function str(value: unknown): string {
  return typeof value === "string" ? value : typeof value === "number" ? String(value) : "";
}

/** One line for an event people care about, or `null` for bookkeeping. */
export function describeEvent(event: BatonEvent): string | null {
  const d = event.data;
  const stage = str(d.stage);
  switch (event.kind) {
    case "pipeline.started":
      return "pipeline started";
    case "pipeline.routed": {
      const model = str(d.model);
      const line = `routed to ${str(d.agent)}${model === "" ? "" : ` (${model})`}: ${str(d.reason)}`;
      const warning = str(d.warning);
      return warning === "" ? line : `${line}; warning: ${warning}`;
    }
    case "job.created": {
      const trigger = str(d.trigger);
      return trigger === "initial" || trigger === "rerun" ? null : `${stage}: ${str(d.reason)}`;
    }
    case "job.started":
      return `${stage}: started${d.agent === null || d.agent === undefined ? "" : ` (${str(d.agent)})`} in session ${str(d.session)}`;
    case "job.succeeded":
      return `${stage}: succeeded in ${formatDuration(Number(d.durationMs ?? 0))}`;
    case "job.failed":
      return `${stage}: failed (${str(d.errorClass)}): ${str(d.error)}`;
    case "job.skipped":
      return `${stage}: skipped, ${str(d.reason)}`;
    case "job.cancelled":
      return `${stage}: cancelled, ${str(d.reason)}`;
    case "job.spawned":
      return `${stage}: spawned by a running job: ${str(d.context)}`;
    case "gate.passed":
      return `${stage}: gate ${str(d.gate)} passed${d.autofixed === true ? " after autofix" : ""}`;
    case "gate.failed":
      return `${stage}: gate ${str(d.gate)} failed (exit ${str(d.exitCode) || "?"})`;
    case "artifact.recorded":
      return `${stage}: recorded ${str(d.path)} (${str(d.size)} bytes)`;
    case "session.steered":
      return `${stage}: steered: ${str(d.reason)}`;
    case "session.adopted":
      return `adopted running session ${str(d.session)}`;
    case "session.lost":
      return `session lost: ${str(d.reason)}`;
    case "pipeline.blocked":
      return `pipeline blocked: ${str(d.reason)}`;
    case "pipeline.completed":
      return "pipeline completed";
    case "pipeline.failed":
      return `pipeline failed: ${str(d.reason)}`;
    case "pipeline.cancelled":
      return `pipeline cancelled: ${str(d.reason)}`;
    default:
      return null;
  }
}

const ICONS: Record<string, string> = {
  pending: "·",
  queued: "…",
  running: "▶",
  checking: "▶",
  succeeded: "✓",
  failed: "✗",
  skipped: "-",
  blocked: "‼",
  cancelled: "✗",
};

export interface Progress {
  /** New events since the last call, and the stage view when it was refreshed (else `null`). */
  update(view: PipelineView | null, events: readonly BatonEvent[]): void;
  stop(): void;
}

export function createProgress(out: Output, now: () => number): Progress {
  if (!out.isTTY) {
    return {
      update: (_view, events) => {
        for (const event of events) {
          const line = describeEvent(event);
          if (line !== null) {
            out.line(
              `${new Date(event.at).toISOString().slice(11, 19)} #${event.taskNumber ?? "?"} ${line}`,
            );
          }
        }
      },
      stop: () => undefined,
    };
  }
  let frame = 0;
  let last: PipelineView | null = null;
  const recent: string[] = [];
  const render = (): void => {
    if (last === null) {
      return;
    }
    frame = (frame + 1) % SPINNER.length;
    const width = Math.max(...last.stages.map((s) => s.id.length), 5);
    const lines = [
      out.paint("bold", `#${last.task} ${last.title}`) +
        out.paint("dim", `  (${last.pipeline}, ${last.status})`),
    ];
    for (const stage of last.stages) {
      const active = stage.status === "running" || stage.status === "checking";
      const icon = active ? SPINNER[frame] : (ICONS[stage.status] ?? "?");
      const colour =
        stage.status === "succeeded"
          ? "green"
          : stage.status === "failed" || stage.status === "blocked"
            ? "red"
            : active
              ? "cyan"
              : "dim";
      const extra = [
        stage.fix_rounds > 0 ? `fix rounds ${stage.fix_rounds}` : "",
        stage.attempts > 1 ? `attempts ${stage.attempts}` : "",
        stage.started_at === null
          ? ""
          : formatDuration(
              (stage.finished_at === null ? now() : Date.parse(stage.finished_at)) -
                Date.parse(stage.started_at),
            ),
      ].filter((s) => s !== "");
      lines.push(
        `  ${out.paint(colour, icon ?? "?")} ${stage.id.padEnd(width)}  ${stage.status.padEnd(9)} ${out.paint("dim", extra.join(", "))}`,
      );
    }
    if (recent.length > 0) {
      lines.push("", ...recent.map((l) => out.paint("dim", `  ${l}`)));
    }
    logUpdate(lines.join("\n"));
  };
  const timer = setInterval(render, 120);
  timer.unref();
  return {
    update: (view, events) => {
      last = view ?? last;
      for (const event of events) {
        const line = describeEvent(event);
        if (line !== null) {
          recent.push(line);
        }
      }
      recent.splice(0, Math.max(0, recent.length - 6));
      render();
    },
    stop: () => {
      clearInterval(timer);
      render();
      logUpdate.done();
    },
  };
}
