import { parseDuration, formatDuration } from "../../core/duration.js";
import { UsageError } from "../../core/errors.js";
import { getTask } from "../../engine/operations.js";
import { buildPipelineView } from "../../engine/pipeline-view.js";
import {
  COST_GROUPS,
  costByGroup,
  gateFailureRates,
  pipelineThroughput,
  recentGateFailures,
  stageDurations,
  sumCostRows,
  type CostGroup,
} from "../../store/analytics.repository.js";
import { listArtifacts } from "../../store/artifacts.repository.js";
import { listEvents } from "../../store/events.repository.js";
import { listGateResults } from "../../store/gate-results.repository.js";
import { listJobs } from "../../store/jobs.repository.js";
import { listPipelines } from "../../store/pipelines.repository.js";
import type { CommandInput } from "../main.js";
import { withApp } from "./common.js";
import { formatUsd } from "./status.js";

export type Report =
  "stage-duration" | "check-failure-rate" | "pipeline-throughput" | "check-failures" | "cost";

/**
 * Parses `--by` values (each one key or a comma list) into distinct keys, in the order given;
 * none given means `agent`. Throws `UsageError` naming the valid keys.
 */
export function parseCostGroups(values: readonly string[]): CostGroup[] {
  const keys = values.flatMap((v) => v.split(",")).map((k) => k.trim());
  const groups: CostGroup[] = [];
  for (const key of keys) {
    const group = COST_GROUPS.find((g) => g === key);
    if (group === undefined) {
      throw new UsageError(
        `--by ${key === "" ? "''" : key} is not a grouping; use ${COST_GROUPS.join(", ")} (or a comma list of them)`,
      );
    }
    if (!groups.includes(group)) {
      groups.push(group);
    }
  }
  return groups.length === 0 ? ["agent"] : groups;
}

function parseSince(text: string | undefined, now: number): number | null {
  if (text === undefined) {
    return null;
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) {
    const at = Date.parse(`${text}T00:00:00Z`);
    if (!Number.isNaN(at)) {
      return at;
    }
  }
  const ago = parseDuration(text);
  if (ago === undefined) {
    throw new UsageError(`--since ${text} is neither a date (YYYY-MM-DD) nor a duration (7d, 12h)`);
  }
  return now - ago;
}

export function analyticsCommand(report: Report, options: { since?: string; by?: string[] }) {
  return async (input: CommandInput): Promise<void> => {
    await withApp(input, async (app) => {
      const project = await app.optionalProject();
      const projectId = project?.project.id ?? null;
      const db = app.ctx.store.db;
      const { out } = input;
      switch (report) {
        case "stage-duration": {
          const rows = await stageDurations(db, projectId);
          if (input.format === "json") {
            out.json(rows);
            return;
          }
          out.table(
            rows.map((r) => ({
              ...r,
              avg: formatDuration(r.avg_ms),
              p50: formatDuration(r.p50_ms),
              p95: formatDuration(r.p95_ms),
            })),
            [
              { key: "stage", header: "stage" },
              { key: "runs", header: "runs" },
              { key: "avg", header: "avg" },
              { key: "p50", header: "p50" },
              { key: "p95", header: "p95" },
            ],
          );
          return;
        }
        case "check-failure-rate": {
          const rows = await gateFailureRates(db, projectId);
          if (input.format === "json") {
            out.json(rows);
            return;
          }
          out.table(
            rows.map((r) => ({ ...r, rate: `${(r.failure_rate * 100).toFixed(1)}%` })),
            [
              { key: "stage", header: "stage" },
              { key: "gate", header: "gate" },
              { key: "runs", header: "runs" },
              { key: "failures", header: "failures" },
              { key: "rate", header: "failure rate" },
            ],
          );
          return;
        }
        case "pipeline-throughput": {
          const rows = await pipelineThroughput(
            db,
            projectId,
            parseSince(options.since, app.ctx.clock()),
          );
          if (input.format === "json") {
            out.json(rows);
            return;
          }
          out.table(rows, [
            { key: "day", header: "day" },
            { key: "completed", header: "completed" },
            { key: "failed", header: "failed" },
            { key: "cancelled", header: "cancelled" },
          ]);
          return;
        }
        case "cost": {
          const by = parseCostGroups(options.by ?? []);
          const rows = await costByGroup(db, {
            projectId,
            by,
            since: parseSince(options.since, app.ctx.clock()),
          });
          if (input.format === "json") {
            out.json(rows);
            return;
          }
          // The total row names itself in the first key column and leaves the others blank.
          const total = {
            ...sumCostRows(rows),
            ...Object.fromEntries(by.map((k, i) => [k, i === 0 ? "total" : ""])),
          };
          out.table(
            (rows.length === 0 ? [] : [...rows, total]).map((r) => ({
              ...r,
              cost: formatUsd(r.cost_usd),
            })),
            [
              ...by.map((k) => ({ key: k, header: k })),
              { key: "jobs", header: "jobs" },
              { key: "tokens_in", header: "tokens in" },
              { key: "tokens_out", header: "tokens out" },
              { key: "cache_read_tokens", header: "cache read" },
              { key: "cache_write_tokens", header: "cache write" },
              { key: "cost", header: "cost" },
            ],
          );
          return;
        }
        case "check-failures": {
          const rows = await recentGateFailures(db, projectId, 50);
          if (input.format === "json") {
            out.json(rows);
            return;
          }
          for (const row of rows) {
            out.line(
              out.paint(
                "bold",
                `#${row.task} ${row.stage}/${row.gate} exit ${row.exit_code ?? "-"} at ${row.at}`,
              ),
            );
            out.line(
              row.output_tail
                .trimEnd()
                .split("\n")
                .slice(-8)
                .map((l) => `  ${l}`)
                .join("\n"),
            );
          }
          if (rows.length === 0) {
            out.line("No gate has failed.");
          }
          return;
        }
      }
    });
  };
}

/** `baton analytics issue-detail <n>`: the task, its pipelines, jobs, gates, artifacts and events. */
export function issueDetailCommand(number: number) {
  return async (input: CommandInput): Promise<void> => {
    await withApp(input, async (app) => {
      const project = await app.project();
      const db = app.ctx.store.db;
      const task = await getTask(app.ctx, project.project, number);
      const pipelines = (await listPipelines(db, { projectId: project.project.id })).filter(
        (p) => p.taskId === task.id,
      );
      const detail = [];
      for (const pipeline of pipelines) {
        const jobs = await listJobs(db, [pipeline.id]);
        detail.push({
          view: buildPipelineView(pipeline, task, jobs, app.ctx.clock()),
          jobs: jobs.map((j) => ({
            id: j.id,
            seq: j.seq,
            stage: j.stageId,
            role: j.role,
            trigger: j.trigger,
            attempt: j.attempt,
            fix_round: j.fixRound,
            agent: j.agent,
            status: j.status,
            error_class: j.errorClass,
            error: j.error,
            duration_ms:
              j.startedAt !== null && j.finishedAt !== null ? j.finishedAt - j.startedAt : null,
          })),
          gates: (await listGateResults(db, { pipelineId: pipeline.id })).map((g) => ({
            job: g.jobId,
            stage: g.stageId,
            gate: g.gate,
            passed: g.passed,
            autofixed: g.autofixed,
            exit_code: g.exitCode,
            fingerprint: g.fingerprint,
            output_tail: g.outputTail,
          })),
          artifacts: (await listArtifacts(db, { pipelineId: pipeline.id })).map((a) => ({
            stage: a.stageId,
            path: a.path,
            sha256: a.sha256,
            size: a.size,
          })),
          events: (await listEvents(db, { pipelineId: pipeline.id })).map((e) => ({
            id: e.id,
            at: new Date(e.at).toISOString(),
            kind: e.kind,
            data: e.data,
          })),
        });
      }
      if (input.format === "json") {
        input.out.json({
          task: {
            number: task.number,
            title: task.title,
            status: task.status,
            labels: task.labels,
          },
          pipelines: detail,
        });
        return;
      }
      const { out } = input;
      out.line(out.paint("bold", `#${task.number} ${task.title}`) + `  (${task.status})`);
      for (const d of detail) {
        out.line();
        out.line(
          `pipeline ${d.view.pipeline} run ${d.view.run}: ${d.view.status}${d.view.reason === null ? "" : ` — ${d.view.reason}`}`,
        );
        out.table(
          d.jobs.map((j) => ({
            ...j,
            duration: j.duration_ms === null ? "-" : formatDuration(j.duration_ms),
            error: j.error ?? "",
          })),
          [
            { key: "seq", header: "#" },
            { key: "stage", header: "stage" },
            { key: "trigger", header: "trigger" },
            { key: "attempt", header: "attempt" },
            { key: "fix_round", header: "fix" },
            { key: "status", header: "status" },
            { key: "duration", header: "duration" },
            { key: "error", header: "error" },
          ],
        );
        for (const g of d.gates.filter((x) => !x.passed)) {
          out.line(
            out.paint("red", `gate ${g.stage}/${g.gate} failed (exit ${g.exit_code ?? "-"})`),
          );
          out.line(
            g.output_tail
              .trimEnd()
              .split("\n")
              .slice(-6)
              .map((l) => `  ${l}`)
              .join("\n"),
          );
        }
        for (const a of d.artifacts) {
          out.line(
            `artifact ${a.stage}/${a.path} ${a.size} bytes sha256 ${a.sha256.slice(0, 16)}…`,
          );
        }
      }
    });
  };
}
