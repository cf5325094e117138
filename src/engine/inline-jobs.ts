/**
 * Jobs that run inside the engine instead of a session: built-in stages (`uses`) and the
 * fan-in of a fan-out stage (`concat`, `vote`, `first-success`).
 */
import { join } from "node:path";
import type { StageDef } from "../core/pipeline-def.js";
import type { Job } from "../core/records.js";
import type { ErrorClass } from "../core/status.js";
import { openPullRequest } from "../github/open-pr.js";
import { readLogTail } from "../sessions/log-tail.js";
import type { EngineContext } from "./context.js";
import { sessionName } from "./job-start.js";
import type { LoadedPipeline } from "./snapshot.js";

export type InlineResult =
  | { ok: true; note: string; output: { path: string; content: string } | null }
  | { ok: false; errorClass: ErrorClass; error: string };

const MEMBER_OUTPUT_BYTES = 8000;

async function aggregate(
  ctx: EngineContext,
  lp: LoadedPipeline,
  stage: StageDef,
  job: Job,
): Promise<InlineResult> {
  if (stage.kind !== "fanout" || stage.aggregate.kind === "run") {
    return {
      ok: false,
      errorClass: "internal",
      error: `stage ${stage.id} has no in-place aggregate`,
    };
  }
  const members = lp.jobs.filter((j) => j.parentJobId === job.id && j.role === "member");
  const succeeded = members.filter((m) => m.status === "succeeded");
  const parts: string[] = [];
  for (const member of members) {
    const log = join(ctx.paths.sessions, sessionName(lp, member), "log");
    const output = await readLogTail(log, MEMBER_OUTPUT_BYTES).catch(() => "");
    parts.push(
      `## ${member.member ?? member.agent ?? member.id} (${member.status})\n\n${output.trimEnd()}`,
    );
  }
  const content = `${parts.join("\n\n")}\n`;
  const output = { path: `${stage.id}.aggregate.md`, content };
  const tally = `${succeeded.length} of ${members.length} agents succeeded`;
  const passed =
    stage.aggregate.kind === "concat"
      ? succeeded.length === members.length
      : stage.aggregate.kind === "vote"
        ? succeeded.length * 2 > members.length
        : succeeded.length > 0;
  return passed
    ? { ok: true, note: tally, output }
    : { ok: false, errorClass: "exit", error: `${stage.aggregate.kind}: ${tally}` };
}

async function builtin(
  ctx: EngineContext,
  lp: LoadedPipeline,
  stage: StageDef,
  worktree: string,
): Promise<InlineResult> {
  if (stage.kind !== "uses") {
    return { ok: false, errorClass: "internal", error: `stage ${stage.id} is not a built-in` };
  }
  switch (stage.uses) {
    case "open-pr": {
      const result = await openPullRequest({
        worktree,
        branch: lp.pipeline.branch ?? "",
        title: stage.with.title ?? `#${lp.task.number}: ${lp.task.title}`,
        body: stage.with.body ?? `${lp.task.body}\n\nMade by Baton for task #${lp.task.number}.`,
        base: stage.with.base ?? null,
        token: ctx.env.GITHUB_TOKEN ?? null,
        apiUrl: ctx.env.BATON_GITHUB_API_URL ?? "https://api.github.com",
      });
      return result.ok
        ? { ok: true, note: result.note, output: null }
        : { ok: false, errorClass: "permanent", error: result.error };
    }
    default:
      return {
        ok: false,
        errorClass: "permanent",
        error: `unknown built-in stage '${stage.uses}'; available: open-pr`,
      };
  }
}

/** Runs an inline job. Never throws for the job's own failure. */
export async function runInline(
  ctx: EngineContext,
  lp: LoadedPipeline,
  stage: StageDef,
  job: Job,
  worktree: string,
): Promise<InlineResult> {
  return job.kind === "aggregate"
    ? aggregate(ctx, lp, stage, job)
    : builtin(ctx, lp, stage, worktree);
}
