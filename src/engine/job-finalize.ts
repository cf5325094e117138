/**
 * Settling a job whose session ended: record the exit, run the stage's gates, record its
 * artifacts, commit what it left in the worktree, and write the outcome. Also runs the jobs
 * that need no session (built-ins, in-place aggregates).
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { EVENTS } from "../core/events.js";
import type { StageDef } from "../core/pipeline-def.js";
import type { Job } from "../core/records.js";
import { ACTIVE_JOB_STATUSES, type ErrorClass } from "../core/status.js";
import type { TemplateScope } from "../core/template.js";
import { coerceError } from "../lib/coerce-error.js";
import { makeId } from "../lib/ids.js";
import { readLogTail } from "../sessions/log-tail.js";
import type { ExitRecord } from "../sessions/runtime.js";
import type { ArtifactRow } from "../store/artifacts.table.js";
import { insertArtifacts, listArtifacts } from "../store/artifacts.repository.js";
import { appendEvents, type NewEvent } from "../store/events.repository.js";
import { insertGateResult } from "../store/gate-results.repository.js";
import { updateLeasedJob, usagePatch, type Lease } from "../store/jobs.repository.js";
import { touchPipeline } from "../store/pipelines.repository.js";
import { updateSession } from "../store/sessions.repository.js";
import { collectArtifacts } from "../workspace/artifacts.js";
import { commitAll } from "../workspace/commit.js";
import { getAdapter } from "../agents/registry.js";
import { pauseAgent } from "../store/agent-pauses.repository.js";
import { jobUsage, readAgentOutput, type OutputSummary } from "./agent-output.js";
import { runInline } from "./inline-jobs.js";
import type { EngineContext } from "./context.js";
import { sessionEnvironment } from "./environment.js";
import { runGates, type GateRun } from "./gates.js";
import { sessionName, stageOf } from "./job-start.js";
import type { LoadedPipeline } from "./snapshot.js";
import { ensurePipelineWorktree } from "./worktree.js";

export interface JobOutcome {
  status: "succeeded" | "failed" | "cancelled";
  errorClass: ErrorClass | null;
  error: string | null;
  /** Every gate result, including the round after autofix. */
  gates: GateRun[];
  /** The gates that still failed at the end. */
  failing: GateRun[];
  /** Text an inline job produced (a fan-in), recorded as an artifact. */
  output?: { path: string; content: string } | null;
  /** For a rate limit: when the agent may run again. */
  resetAt?: number | null;
}

/** Why Baton itself ended a job, overriding what its exit code says. */
export interface ForcedEnd {
  status: "failed" | "cancelled";
  errorClass: ErrorClass;
  reason: string;
}

const LOG_TAIL_BYTES = 2000;

function lastLine(text: string): string {
  const lines = text.trimEnd().split("\n");
  return (lines.at(-1) ?? "").slice(0, 300);
}

/** Variables for judge prompts: the job's own outputs join the pipeline's artifacts. */
async function gateScope(
  ctx: EngineContext,
  lp: LoadedPipeline,
  stage: StageDef,
  job: Job,
  worktree: string,
  outputs: readonly ArtifactRow[],
): Promise<TemplateScope> {
  const contents: Record<string, Record<string, string | null>> = {};
  const paths: Record<string, Record<string, string>> = {};
  const earlier = await listArtifacts(ctx.store.db, { pipelineId: lp.pipeline.id });
  for (const a of [
    ...earlier.map((e) => ({ stage_id: e.stageId, path: e.path, content: e.content })),
    ...outputs,
  ]) {
    (contents[a.stage_id] ??= {})[a.path] = a.content;
    (paths[a.stage_id] ??= {})[a.path] = join(worktree, a.path);
  }
  return {
    artifacts: contents,
    artifact_paths: paths,
    task: {
      number: lp.task.number,
      title: lp.task.title,
      body: lp.task.body,
      labels: lp.task.labels,
    },
    stage: { id: stage.id },
    pipeline: { name: lp.pipeline.name, branch: lp.pipeline.branch ?? "" },
    worktree,
    attempt: job.attempt,
    fix_round: job.fixRound,
  };
}

/**
 * Finalizes `job`, which this engine holds with `lease`, after its session ended (`exit`,
 * `null` when it vanished without a record) or without a session at all (`inline`). Returns the
 * outcome, or `null` when the lease was lost and nothing was written. Throws only for store
 * failures.
 */
export async function finalizeJob(
  ctx: EngineContext,
  lp: LoadedPipeline,
  job: Job,
  lease: Lease,
  end: { exit: ExitRecord | null; forced: ForcedEnd | null; inline: boolean; idle?: boolean },
): Promise<JobOutcome | null> {
  const stage = stageOf(lp, job.stageId);
  const now = ctx.clock();
  const sessionEnd =
    job.sessionId === null
      ? null
      : {
          id: job.sessionId,
          patch: {
            state:
              end.exit === null && end.forced === null && end.idle !== true
                ? ("lost" as const)
                : ("exited" as const),
            exited_at: end.exit?.at ?? now,
            exit_code: end.exit?.exitCode ?? null,
            signal: end.exit?.signal ?? null,
          },
        };
  // A job whose stage has gates to run or work to commit shows `checking` meanwhile, recorded
  // with its session's end in one commit. With nothing slow to do, the outcome is written at
  // once, with the session's end, in the commit that settles the job.
  const commits = stage.commit && job.kind !== "builtin";
  const checks = end.inline || runsGates(stage, job) || commits;
  if (checks) {
    const checking = await ctx.store.transaction(async (trx) => {
      if (
        !(await updateLeasedJob(
          trx,
          job.id,
          lease.token,
          { status: "checking" },
          ACTIVE_JOB_STATUSES,
        ))
      ) {
        return false;
      }
      if (sessionEnd !== null) {
        await updateSession(trx, sessionEnd.id, sessionEnd.patch);
      }
      return true;
    });
    if (!checking) {
      return null;
    }
  }
  const dir = join(ctx.paths.sessions, sessionName(lp, job));
  const events: NewEvent[] = [];
  const ref = {
    projectId: lp.project.id,
    taskNumber: lp.task.number,
    pipelineId: lp.pipeline.id,
    jobId: job.id,
  };
  let worktree: string | null = null;
  let outcome: JobOutcome;
  let artifacts: ArtifactRow[] = [];
  const agent = job.agent === null ? null : (lp.pipeline.snapshot.agents[job.agent] ?? null);
  let output: OutputSummary | null = null;
  try {
    output =
      agent === null || end.inline ? null : await readAgentOutput(agent.adapter, join(dir, "log"));
  } catch (thrown) {
    ctx.logger.warn("reading the agent's output failed", {
      jobId: job.id,
      error: coerceError(thrown).message,
    });
  }
  try {
    worktree = await ensurePipelineWorktree(ctx, lp);
    artifacts = await collectOutputs(ctx, lp, stage, job, worktree);
    outcome = await decideOutcome(ctx, lp, stage, job, worktree, dir, end, artifacts, output);
  } catch (thrown) {
    outcome = {
      status: "failed",
      errorClass: "internal",
      error: coerceError(thrown).message,
      gates: [],
      failing: [],
    };
  }
  if (end.exit !== null) {
    events.push({
      kind: EVENTS.jobExited,
      ...ref,
      data: { stage: stage.id, exitCode: end.exit.exitCode, signal: end.exit.signal },
    });
  }

  if (worktree !== null && existsSync(worktree)) {
    try {
      if (outcome.output !== undefined && outcome.output !== null) {
        const content = outcome.output.content;
        artifacts.push({
          id: makeId("art"),
          job_id: job.id,
          pipeline_id: lp.pipeline.id,
          stage_id: stage.id,
          path: outcome.output.path,
          kind: "aggregate",
          sha256: createHash("sha256").update(content).digest("hex"),
          size: Buffer.byteLength(content),
          content,
          created_at: ctx.clock(),
        });
      }
      if (commits) {
        const label = [
          `attempt ${job.attempt}`,
          ...(job.fixRound > 0 ? [`fix round ${job.fixRound}`] : []),
        ].join(", ");
        await commitAll({
          worktree,
          message: `baton: ${stage.id} for #${lp.task.number} (${label}, ${outcome.status})\n\nTask: ${lp.task.title}\nJob: ${job.id}`,
        });
      }
    } catch (thrown) {
      ctx.logger.warn("recording the job's work failed", {
        jobId: job.id,
        error: coerceError(thrown).message,
      });
    }
  }

  const failing = outcome.failing;
  const finishedAt = ctx.clock();
  const written = await ctx.store.transaction(async (trx) => {
    const ok = await updateLeasedJob(
      trx,
      job.id,
      lease.token,
      {
        status: outcome.status,
        exit_code: end.exit?.exitCode ?? null,
        signal: end.exit?.signal ?? null,
        error_class: outcome.errorClass,
        error: outcome.error,
        finished_at: finishedAt,
        fingerprints: failing.flatMap((g) => (g.fingerprint === null ? [] : [g.fingerprint])),
        failures: failing.map((g) => ({ gate: g.gate, output: g.outputTail })),
        lease_token: null,
        lease_holder: null,
        lease_expires_at: null,
        reset_at: outcome.resetAt ?? null,
        ...(output?.usage == null
          ? {}
          : usagePatch(jobUsage(output.usage, job.model ?? output.model, agent))),
      },
      checks ? ["checking"] : ACTIVE_JOB_STATUSES,
    );
    if (!ok) {
      return false;
    }
    if (!checks && sessionEnd !== null) {
      await updateSession(trx, sessionEnd.id, sessionEnd.patch);
    }
    if (outcome.errorClass === "rate_limit" && job.agent !== null) {
      const until = outcome.resetAt ?? finishedAt + lp.pipeline.snapshot.defaults.rateLimitPauseMs;
      await pauseAgent(
        trx,
        { agent: job.agent, until, reason: outcome.error ?? "rate limited", jobId: job.id },
        finishedAt,
      );
      events.push({
        kind: EVENTS.agentPaused,
        ...ref,
        data: { agent: job.agent, until, reason: outcome.error },
      });
    }
    for (const gate of outcome.gates) {
      await insertGateResult(trx, {
        job_id: job.id,
        pipeline_id: lp.pipeline.id,
        stage_id: stage.id,
        gate: gate.gate,
        passed: gate.passed ? 1 : 0,
        exit_code: gate.exitCode,
        autofixed: gate.autofixed ? 1 : 0,
        output_tail: gate.outputTail,
        fingerprint: gate.fingerprint,
        duration_ms: gate.durationMs,
        created_at: finishedAt,
      });
      events.push({
        kind: gate.passed ? EVENTS.gatePassed : EVENTS.gateFailed,
        ...ref,
        data: {
          stage: stage.id,
          gate: gate.gate,
          exitCode: gate.exitCode,
          fingerprint: gate.fingerprint,
          durationMs: gate.durationMs,
          autofixed: gate.autofixed,
        },
      });
    }
    await insertArtifacts(trx, artifacts);
    for (const a of artifacts) {
      events.push({
        kind: EVENTS.artifactRecorded,
        ...ref,
        data: { stage: stage.id, path: a.path, sha256: a.sha256, size: a.size },
      });
    }
    const durationMs = finishedAt - (job.startedAt ?? job.createdAt);
    events.push(
      outcome.status === "succeeded"
        ? { kind: EVENTS.jobSucceeded, ...ref, data: { stage: stage.id, durationMs } }
        : outcome.status === "cancelled"
          ? { kind: EVENTS.jobCancelled, ...ref, data: { stage: stage.id, reason: outcome.error } }
          : {
              kind: EVENTS.jobFailed,
              ...ref,
              data: {
                stage: stage.id,
                errorClass: outcome.errorClass,
                error: outcome.error,
                durationMs,
              },
            },
    );
    await touchPipeline(trx, lp.pipeline.id, finishedAt);
    await ctx.store.lockEvents(trx);
    await appendEvents(trx, events, finishedAt);
    return true;
  });
  return written ? outcome : null;
}

/** The files the stage's `outputs` globs match now, as artifact rows (not yet stored). */
async function collectOutputs(
  ctx: EngineContext,
  lp: LoadedPipeline,
  stage: StageDef,
  job: Job,
  worktree: string,
): Promise<ArtifactRow[]> {
  if (stage.outputs.length === 0 || job.role === "member" || !existsSync(worktree)) {
    return [];
  }
  try {
    const found = await collectArtifacts({ worktree, globs: stage.outputs });
    return found.map((a) => ({
      id: makeId("art"),
      job_id: job.id,
      pipeline_id: lp.pipeline.id,
      stage_id: stage.id,
      path: a.path,
      kind: a.kind,
      sha256: a.sha256,
      size: a.size,
      content: a.content,
      created_at: ctx.clock(),
    }));
  } catch (thrown) {
    ctx.logger.warn("collecting the job's outputs failed", {
      jobId: job.id,
      error: coerceError(thrown).message,
    });
    return [];
  }
}

/**
 * Why a session failed: an agent's adapter reads its exit, output and events into a failure
 * class; a command's failure is its exit.
 */
async function failedOutcome(
  ctx: EngineContext,
  lp: LoadedPipeline,
  stage: StageDef,
  job: Job,
  dir: string,
  exit: ExitRecord | null,
  output: OutputSummary | null,
): Promise<JobOutcome> {
  const tail = await readLogTail(join(dir, "log"), LOG_TAIL_BYTES).catch(() => "");
  const who = job.agent ?? stage.id;
  const how =
    exit === null
      ? "ended its turn with an error"
      : exit.signal !== null
        ? `was killed by ${exit.signal}`
        : `exited with code ${exit.exitCode}`;
  const agent = job.agent === null ? undefined : lp.pipeline.snapshot.agents[job.agent];
  if (job.kind !== "agent" || agent === undefined) {
    const line = lastLine(tail);
    return {
      status: "failed",
      errorClass: "exit",
      error: `${who} ${how}${line === "" ? "" : `: ${line}`}`,
      gates: [],
      failing: [],
    };
  }
  const verdict = getAdapter(agent.adapter).classifyFailure({
    exitCode: exit?.exitCode ?? null,
    signal: exit?.signal ?? null,
    outputTail: tail,
    events: output?.events ?? [],
    now: ctx.clock(),
  });
  const message = verdict.message.includes(how)
    ? verdict.message
    : `${how}${verdict.message === "" ? "" : `: ${verdict.message}`}`;
  return {
    status: "failed",
    errorClass: verdict.errorClass,
    error: `${who} ${message}`,
    gates: [],
    failing: [],
    resetAt: verdict.errorClass === "rate_limit" ? verdict.resetAt : null,
  };
}

/** Whether `job` runs its stage's gates: members of a fan-out are judged together by the aggregate. */
function runsGates(stage: StageDef, job: Job): boolean {
  return job.role !== "member" && stage.gates.length > 0;
}

async function decideOutcome(
  ctx: EngineContext,
  lp: LoadedPipeline,
  stage: StageDef,
  job: Job,
  worktree: string,
  dir: string,
  end: { exit: ExitRecord | null; forced: ForcedEnd | null; inline: boolean; idle?: boolean },
  outputs: readonly ArtifactRow[],
  output: OutputSummary | null,
): Promise<JobOutcome> {
  let inlineOutput: { path: string; content: string } | null = null;
  if (end.forced !== null) {
    return {
      status: end.forced.status,
      errorClass: end.forced.errorClass,
      error: end.forced.reason,
      gates: [],
      failing: [],
    };
  }
  if (end.inline) {
    const result = await runInline(ctx, lp, stage, job, worktree);
    if (!result.ok) {
      return {
        status: "failed",
        errorClass: result.errorClass,
        error: result.error,
        gates: [],
        failing: [],
      };
    }
    inlineOutput = result.output;
  } else if (end.idle !== true && end.exit === null) {
    return {
      status: "failed",
      errorClass: "lost",
      error: "the session ended without an exit record",
      gates: [],
      failing: [],
    };
  } else if (
    (end.idle !== true && end.exit !== null && end.exit.exitCode !== 0) ||
    output?.lastResult?.ok === false
  ) {
    // It failed: by its exit, or by its own account of its last turn (an agent that waits
    // after an error, or exits 0 anyway). Its adapter reads why.
    return failedOutcome(ctx, lp, stage, job, dir, end.idle === true ? null : end.exit, output);
  }
  // Otherwise it exited 0, or finished its turn and waited (Baton ended the session): its work
  // goes to the gates.
  if (!runsGates(stage, job)) {
    return {
      status: "succeeded",
      errorClass: null,
      error: null,
      gates: [],
      failing: [],
      output: inlineOutput,
    };
  }
  const env = sessionEnvironment({
    base: ctx.env,
    passEnv: [],
    agentEnv: {},
    adapterEnv: {},
    job: { BATON_TASK: String(lp.task.number), BATON_STAGE: stage.id, BATON_WORKTREE: worktree },
    pathPrefix: [],
  });
  const { results, failing } = await runGates({
    gates: stage.gates,
    worktree,
    dir,
    env,
    baseEnv: ctx.env,
    pathPrefix: [ctx.paths.bin],
    agents: lp.pipeline.snapshot.agents,
    forbiddenDirs: [lp.project.rootPath],
    scope: await gateScope(ctx, lp, stage, job, worktree, outputs),
  });
  if (failing.length === 0) {
    return {
      status: "succeeded",
      errorClass: null,
      error: null,
      gates: results,
      failing: [],
      output: inlineOutput,
    };
  }
  return {
    status: "failed",
    errorClass: "gate",
    error: `gate ${failing.map((g) => g.gate).join(", ")} failed`,
    gates: results,
    failing,
    output: inlineOutput,
  };
}
