/**
 * Starting a claimed job: worktree, prompt, environment, then the session. The intent is
 * written before the effect: the session row (name, directory) exists before the process is
 * spawned, so an engine that dies in between leaves a record the next one can act on.
 */
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { getAdapter } from "../agents/registry.js";
import { AppError, ErrorCodes } from "../core/errors.js";
import { EVENTS } from "../core/events.js";
import { stageById, type StageDef } from "../core/pipeline-def.js";
import type { Job } from "../core/records.js";
import { coerceError } from "../lib/coerce-error.js";
import { makeId, makeSecret } from "../lib/ids.js";
import { readSessionPid } from "../sessions/exit-record.js";
import type { Runtime, SessionHandle, SessionSpec } from "../sessions/runtime.js";
import { listArtifacts, recordConsumption } from "../store/artifacts.repository.js";
import { appendEvents } from "../store/events.repository.js";
import { updateLeasedJob, type Lease } from "../store/jobs.repository.js";
import { touchPipeline } from "../store/pipelines.repository.js";
import { insertSession } from "../store/sessions.repository.js";
import type { EngineContext } from "./context.js";
import { sessionEnvironment } from "./environment.js";
import { renderJobPrompt } from "./prompt.js";
import type { LoadedPipeline } from "./snapshot.js";
import { processStartTime } from "./holder.js";
import { ensurePipelineWorktree } from "./worktree.js";

export type StartOutcome =
  | { kind: "session"; handle: SessionHandle; sessionId: string }
  /** The job needs no session (a built-in, an in-place aggregate): run it in the engine. */
  | { kind: "inline" }
  /** Could not start: the job was settled as failed. */
  | { kind: "failed"; error: string }
  | { kind: "lease-lost" };

export function stageOf(lp: LoadedPipeline, stageId: string): StageDef {
  const stage = stageById(lp.pipeline.snapshot, stageId);
  if (stage === undefined) {
    throw new AppError(
      ErrorCodes.INTERNAL,
      `pipeline ${lp.pipeline.id} has a job of unknown stage ${stageId}`,
    );
  }
  return stage;
}

/** `baton-<project>-<task>[-r<run>]-<stage>-<seq>[-<member>]`, safe for tmux and paths. */
export function sessionName(lp: LoadedPipeline, job: Job): string {
  const safe = (text: string): string =>
    text
      .toLowerCase()
      .replace(/[^a-z0-9_-]+/g, "-")
      .replace(/^-+|-+$/g, "");
  const run = lp.pipeline.run > 1 ? `-r${lp.pipeline.run}` : "";
  const member = job.member === null ? "" : `-${safe(job.member)}`;
  return `baton-${safe(lp.project.name)}-${lp.task.number}${run}-${safe(job.stageId)}-${job.seq}${member}`;
}

export function runtimeFor(
  ctx: EngineContext,
  lp: LoadedPipeline,
  stage: StageDef,
  job: Job,
): Runtime {
  const agent = job.agent === null ? undefined : lp.pipeline.snapshot.agents[job.agent];
  const choice = agent?.runtime ?? stage.runtime;
  const name = choice === "auto" ? ctx.defaultRuntime : choice;
  const runtime = ctx.runtimes[name] ?? ctx.runtimes.process;
  if (runtime === undefined) {
    throw new AppError(ErrorCodes.INTERNAL, "no session runtime is available");
  }
  return runtime;
}

interface Launch {
  argv: string[];
  /** Bytes for the session's stdin FIFO once it runs (the first message of a streaming agent). */
  initialInput: string | null;
  stdin: SessionSpec["stdin"];
  env: Record<string, string>;
  passEnv: readonly string[];
  agentEnv: Record<string, string>;
}

/** What to run for `job`, or `null` when it runs inside the engine. */
async function planLaunch(
  ctx: EngineContext,
  lp: LoadedPipeline,
  stage: StageDef,
  job: Job,
  worktree: string,
  dir: string,
): Promise<Launch | null> {
  if (
    job.kind === "builtin" ||
    (job.kind === "aggregate" && !(stage.kind === "fanout" && stage.aggregate.kind === "run"))
  ) {
    return null;
  }
  if (job.kind === "command" || job.kind === "aggregate") {
    const command =
      stage.kind === "run"
        ? stage.run
        : stage.kind === "fanout" && stage.aggregate.kind === "run"
          ? stage.aggregate.run
          : null;
    if (command === null) {
      throw new AppError(ErrorCodes.INTERNAL, `stage ${stage.id} has no command to run`);
    }
    return {
      argv: ["/bin/sh", "-c", command],
      initialInput: null,
      stdin: { kind: "null" },
      env: {},
      passEnv: [],
      agentEnv: {},
    };
  }
  const agentName = job.agent ?? "";
  const agent = lp.pipeline.snapshot.agents[agentName];
  if (agent === undefined) {
    throw new AppError(
      ErrorCodes.CONFIG_INVALID,
      `agent ${agentName} is not defined in this pipeline's config`,
    );
  }
  const artifacts = await listArtifacts(ctx.store.db, { pipelineId: lp.pipeline.id });
  const prompt = renderJobPrompt({
    stage,
    job,
    task: lp.task,
    pipeline: lp.pipeline,
    worktree,
    artifacts,
  });
  if (prompt.missing.length > 0) {
    ctx.logger.warn("prompt variables resolved to nothing", {
      jobId: job.id,
      missing: prompt.missing,
    });
  }
  mkdirSync(dir, { recursive: true });
  const promptFile = join(dir, "prompt.md");
  writeFileSync(promptFile, prompt.text);
  const needed = new Set(stage.needs.map((n) => n.stage));
  const consumed = artifacts.filter((a) => needed.has(a.stageId)).map((a) => a.id);
  await recordConsumption(
    ctx.store.db,
    job.id,
    [...new Set([...consumed, ...prompt.usedArtifactIds])],
    ctx.clock(),
  );
  const manifest = join(dir, "artifacts.json");
  writeFileSync(
    manifest,
    JSON.stringify(
      artifacts.map((a) => ({
        stage: a.stageId,
        path: a.path,
        sha256: a.sha256,
        size: a.size,
        file: join(worktree, a.path),
      })),
      null,
      2,
    ),
  );
  const invocation = getAdapter(agent.adapter).invocation({
    agent,
    promptFile,
    prompt: prompt.text,
    worktree,
    taskNumber: lp.task.number,
    stageId: stage.id,
    model: job.model ?? agent.model,
    forbiddenDirs: agent.sandbox ? [lp.project.rootPath] : [],
    interactive: stage.interactive,
    oneShot: false,
  });
  const stdin: SessionSpec["stdin"] =
    invocation.stdin === "prompt"
      ? { kind: "file", path: promptFile }
      : invocation.stdin === "fifo"
        ? { kind: "fifo" }
        : { kind: "null" };
  return {
    argv: invocation.argv,
    initialInput: invocation.initialInput,
    stdin,
    env: { ...invocation.env, BATON_PROMPT_FILE: promptFile, BATON_ARTIFACTS: manifest },
    passEnv: agent.passEnv,
    agentEnv: agent.env,
  };
}

/**
 * Starts `job`, which this engine has claimed with `lease` (status `starting`), giving its session
 * `claimedToken` when the claim wrote that token's hash, else a new token. Never throws for
 * the job's own problems (a bad agent config, a program that cannot start): the job is settled
 * as failed and the outcome says so. Throws only for store failures.
 */
export async function startJob(
  ctx: EngineContext,
  lp: LoadedPipeline,
  job: Job,
  lease: Lease,
  claimedToken?: string,
): Promise<StartOutcome> {
  const stage = stageOf(lp, job.stageId);
  const name = sessionName(lp, job);
  const dir = join(ctx.paths.sessions, name);
  let launch: Launch | null;
  let worktree: string;
  let runtime: Runtime;
  try {
    runtime = runtimeFor(ctx, lp, stage, job);
    worktree = await ensurePipelineWorktree(ctx, lp);
    launch = await planLaunch(ctx, lp, stage, job, worktree, dir);
  } catch (thrown) {
    const error = coerceError(thrown).message;
    return (await failStart(ctx, lp, job, lease, error))
      ? { kind: "failed", error }
      : { kind: "lease-lost" };
  }
  if (launch === null) {
    return { kind: "inline" };
  }

  const token = claimedToken ?? makeSecret();
  const sessionId = makeId("ses");
  const env = sessionEnvironment({
    base: ctx.env,
    passEnv: launch.passEnv,
    agentEnv: launch.agentEnv,
    adapterEnv: launch.env,
    job: {
      BATON_HOME: ctx.paths.home,
      BATON_TASK: String(lp.task.number),
      BATON_PIPELINE: lp.pipeline.id,
      BATON_STAGE: stage.id,
      BATON_JOB_ID: job.id,
      BATON_ATTEMPT: String(job.attempt),
      BATON_FIX_ROUND: String(job.fixRound),
      BATON_JOB_TOKEN: token,
      BATON_AGENT: job.agent ?? "",
      BATON_MODEL:
        job.model ??
        (job.agent === null ? null : lp.pipeline.snapshot.agents[job.agent]?.model) ??
        "",
      BATON_SESSION: sessionName(lp, job),
      BATON_WORKTREE: worktree,
      ...(ctx.databaseUrl === null ? {} : { BATON_DATABASE_URL: ctx.databaseUrl }),
    },
    pathPrefix: [ctx.paths.bin],
  });
  // The job's token goes in before the program runs, so it can spawn jobs from its first moment:
  // with the claim, or here for a job resumed after its engine died. A crash after the spawn
  // leaves the session's status file, with its pid, in its (deterministic) directory, which is how
  // a resuming engine finds it instead of starting the job twice.
  if (
    claimedToken === undefined &&
    !(await updateLeasedJob(ctx.store.db, job.id, lease.token, { token_hash: hashToken(token) }, [
      "starting",
    ]))
  ) {
    return { kind: "lease-lost" };
  }

  let handle: SessionHandle;
  try {
    handle = await runtime.start({
      name,
      dir,
      argv: launch.argv,
      cwd: worktree,
      env,
      stdin: launch.stdin,
    });
  } catch (thrown) {
    const error = `could not start ${job.agent ?? stage.id}: ${coerceError(thrown).message}`;
    return (await failStart(ctx, lp, job, lease, error))
      ? { kind: "failed", error }
      : { kind: "lease-lost" };
  }
  if (launch.initialInput !== null) {
    const sent = await runtime.steer(handle, launch.initialInput);
    if (!sent.delivered) {
      await runtime.kill(handle, 1000);
      const error = `could not give ${job.agent ?? stage.id} its prompt: ${sent.reason}`;
      return (await failStart(ctx, lp, job, lease, error))
        ? { kind: "failed", error }
        : { kind: "lease-lost" };
    }
  }
  const started = await recordSession(ctx, lp, job, lease, {
    id: sessionId,
    runtime: runtime.name,
    handle,
  });
  if (!started) {
    // Another engine took the job over while we spawned: ours must not run beside it.
    await runtime.kill(handle, 1000);
    return { kind: "lease-lost" };
  }
  return { kind: "session", handle, sessionId };
}

/**
 * Records a spawned session and moves its job to `running`, in one transaction under the job's
 * lease. Returns false, writing nothing, when the lease was lost.
 */
export async function recordSession(
  ctx: EngineContext,
  lp: LoadedPipeline,
  job: Job,
  lease: Lease,
  session: { id: string; runtime: string; handle: SessionHandle },
): Promise<boolean> {
  const { handle } = session;
  return ctx.store.transaction(async (trx) => {
    const ok = await updateLeasedJob(
      trx,
      job.id,
      lease.token,
      { status: "running", session_id: session.id },
      ["starting"],
    );
    if (!ok) {
      return false;
    }
    await insertSession(trx, {
      id: session.id,
      job_id: job.id,
      pipeline_id: lp.pipeline.id,
      name: handle.name,
      runtime: session.runtime,
      host: ctx.hostname,
      dir: handle.dir,
      log_path: handle.logPath,
      pid: handle.pid,
      pid_start_time: handle.pidStartTime,
      started_at: handle.startedAt,
    });
    await ctx.store.lockEvents(trx);
    await appendEvents(
      trx,
      [
        {
          kind: EVENTS.jobStarted,
          projectId: lp.project.id,
          taskNumber: lp.task.number,
          pipelineId: lp.pipeline.id,
          jobId: job.id,
          data: {
            stage: job.stageId,
            session: handle.name,
            runtime: session.runtime,
            pid: handle.pid,
            agent: job.agent,
          },
        },
      ],
      ctx.clock(),
    );
    return true;
  });
}

/**
 * For a job left `starting` by an engine that died: the session it spawned, if its wrapper got
 * as far as writing its pid, recorded as the job's session. `null` when nothing was spawned.
 */
export async function recoverSpawnedSession(
  ctx: EngineContext,
  lp: LoadedPipeline,
  job: Job,
  lease: Lease,
): Promise<SessionHandle | null> {
  const name = sessionName(lp, job);
  const dir = join(ctx.paths.sessions, name);
  const pid = readSessionPid(dir);
  if (pid === null) {
    // No pid: the wrapper never ran, so the job can be started.
    return null;
  }
  const stage = stageOf(lp, job.stageId);
  const runtime = runtimeFor(ctx, lp, stage, job);
  const handle: SessionHandle = {
    name,
    runtime: runtime.name,
    dir,
    logPath: join(dir, "log"),
    pid,
    pidStartTime: processStartTime(pid),
    startedAt: ctx.clock(),
  };
  const recorded = await recordSession(ctx, lp, job, lease, {
    id: makeId("ses"),
    runtime: runtime.name,
    handle,
  });
  return recorded ? handle : null;
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

async function failStart(
  ctx: EngineContext,
  lp: LoadedPipeline,
  job: Job,
  lease: Lease,
  error: string,
): Promise<boolean> {
  const now = ctx.clock();
  return ctx.store.transaction(async (trx) => {
    const ok = await updateLeasedJob(
      trx,
      job.id,
      lease.token,
      {
        status: "failed",
        error_class: "spawn",
        error,
        finished_at: now,
        lease_token: null,
        lease_holder: null,
        lease_expires_at: null,
      },
      ["starting", "running", "checking"],
    );
    if (ok) {
      await touchPipeline(trx, lp.pipeline.id, now);
      await ctx.store.lockEvents(trx);
      await appendEvents(
        trx,
        [
          {
            kind: EVENTS.jobFailed,
            projectId: lp.project.id,
            taskNumber: lp.task.number,
            pipelineId: lp.pipeline.id,
            jobId: job.id,
            data: { stage: job.stageId, errorClass: "spawn", error },
          },
        ],
        now,
      );
    }
    return ok;
  });
}
