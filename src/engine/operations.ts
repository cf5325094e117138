/**
 * What people and agents ask for, outside the scheduler's own loop: add a task, make a
 * pipeline, retry, fail, abort, cancel, unblock, and spawn a job from inside a session. Each
 * checks the request against the current state first and changes nothing when it is refused.
 */
import { basename } from "node:path";
import { ConflictError, NotFoundError, UnauthorizedError, UsageError } from "../core/errors.js";
import { EVENTS } from "../core/events.js";
import type { NewJob } from "../core/job.js";
import {
  stageById,
  type PipelineSnapshot,
  type RouteResult,
  type StageDef,
} from "../core/pipeline-def.js";
import type { Job, Pipeline, Project, Session, Task, TaskSource } from "../core/records.js";
import { stagesToRetry } from "../core/retry-plan.js";
import { labelRoute, modelFor, routeAtCreation, stageAgentChoice } from "../core/routing.js";
import { isActiveJob, isOpenPipeline, type PipelineStatus } from "../core/status.js";
import { makeId, makeSecret } from "../lib/ids.js";
import { takeRouterTurn } from "../store/agent-pauses.repository.js";
import type { Db } from "../store/db.js";
import { appendEvents, type NewEvent } from "../store/events.repository.js";
import {
  findJobByTokenHash,
  getJobById,
  insertJob,
  listJobs,
  nextJobSeq,
  settleJob,
} from "../store/jobs.repository.js";
import {
  bumpPipelineVersion,
  findLatestPipelineForTask,
  getPipelineById,
  clearPipelineWorktree,
  insertPipeline,
  touchPipeline,
} from "../store/pipelines.repository.js";
import {
  findProjectByName,
  findProjectByRoot,
  getProjectById,
  insertProject,
  takeTaskNumber,
} from "../store/projects.repository.js";
import {
  countSessionInputs,
  listSessionsByIds,
  updateSession,
} from "../store/sessions.repository.js";
import type { Runtime, SteerResult } from "../sessions/runtime.js";
import type { AgentAdapter } from "../agents/adapter.js";
import { getAdapter } from "../agents/registry.js";
import {
  findTaskByNumber,
  insertTask,
  listTasks,
  setTaskStatus,
} from "../store/tasks.repository.js";
import { removeWorktree } from "../workspace/worktree.js";
import { movePipeline } from "./apply-structural.js";
import type { EngineContext } from "./context.js";
import { hashToken } from "./job-start.js";
import { jobSnap, sessionHandle, SnapshotLoader, type LoadedPipeline } from "./snapshot.js";
import { notifyEngines } from "./wake.js";

/** The project for a checkout, registered on first use under a unique readable name. */
export async function ensureProject(ctx: EngineContext, rootPath: string): Promise<Project> {
  const known = await findProjectByRoot(ctx.store.db, rootPath);
  if (known !== undefined) {
    return known;
  }
  const base =
    basename(rootPath)
      .toLowerCase()
      .replace(/[^a-z0-9_-]+/g, "-")
      .replace(/^-+|-+$/g, "") || "project";
  let name = base;
  for (let n = 2; (await findProjectByName(ctx.store.db, name)) !== undefined; n += 1) {
    name = `${base}-${n}`;
  }
  return insertProject(ctx.store.db, { id: makeId("prj"), name, rootPath, now: ctx.clock() });
}

export async function getTask(ctx: EngineContext, project: Project, number: number): Promise<Task> {
  const task = await findTaskByNumber(ctx.store.db, project.id, number);
  if (task === undefined) {
    throw new NotFoundError(
      `task #${number} not found in project ${project.name}; \`baton task list\` shows the tasks`,
    );
  }
  return task;
}

/** The task's latest pipeline. Throws `NotFoundError` when it has none. */
export async function getPipelineOfTask(
  ctx: EngineContext,
  project: Project,
  number: number,
): Promise<{ task: Task; pipeline: Pipeline }> {
  const task = await getTask(ctx, project, number);
  const pipeline = await findLatestPipelineForTask(ctx.store.db, task.id);
  if (pipeline === undefined) {
    throw new NotFoundError(
      `task #${number} has no pipeline; create one with \`baton pipeline create ${number}\``,
    );
  }
  return { task, pipeline };
}

export interface AddTaskInput {
  project: Project;
  title: string;
  body: string;
  labels: string[];
  source: TaskSource;
  agent: string | null;
  pipelineName: string;
  snapshot: PipelineSnapshot;
}

/** Adds a task and its pipeline (pending, queued for a slot). */
export async function addTask(
  ctx: EngineContext,
  input: AddTaskInput,
): Promise<{ task: Task; pipeline: Pipeline }> {
  if (input.title.trim() === "") {
    throw new UsageError('a task needs a title: baton task add "<title>"');
  }
  const now = ctx.clock();
  const result = await ctx.store.transaction(async (trx) => {
    const number = await takeTaskNumber(trx, input.project.id);
    const task = await insertTask(trx, {
      id: makeId("tsk"),
      projectId: input.project.id,
      number,
      title: input.title,
      body: input.body,
      labels: input.labels,
      source: input.source,
      sourceRef: null,
      status: "queued",
      pipelineName: input.pipelineName,
      agent: input.agent,
      now,
    });
    const route = await initialRoute(trx, input.project.id, input.snapshot, input.labels, now);
    const pipeline = await insertPipeline(trx, {
      id: makeId("pl"),
      projectId: input.project.id,
      taskId: task.id,
      taskNumber: number,
      run: 1,
      name: input.pipelineName,
      snapshot: input.snapshot,
      route,
      now,
    });
    await ctx.store.lockEvents(trx);
    await appendEvents(
      trx,
      [
        {
          kind: EVENTS.taskCreated,
          projectId: input.project.id,
          taskNumber: number,
          data: { title: input.title, labels: input.labels, source: input.source },
        },
        {
          kind: EVENTS.pipelineCreated,
          projectId: input.project.id,
          taskNumber: number,
          pipelineId: pipeline.id,
          data: { name: input.pipelineName, run: 1 },
        },
        ...routedEvents(pipeline, route),
      ],
      now,
    );
    return { task, pipeline };
  });
  notifyEngines(ctx.paths.wake, result.pipeline.id);
  return result;
}

/** A new pipeline for a task whose last one finished. Throws `ConflictError` while one is open. */
export async function createPipeline(
  ctx: EngineContext,
  task: Task,
  pipelineName: string,
  snapshot: PipelineSnapshot,
): Promise<Pipeline> {
  const latest = await findLatestPipelineForTask(ctx.store.db, task.id);
  if (latest !== undefined && isOpenPipeline(latest.status)) {
    throw new ConflictError(
      `task #${task.number} already has an open pipeline (${latest.status}); abort it first with \`baton pipeline abort ${task.number}\``,
    );
  }
  const now = ctx.clock();
  const pipeline = await ctx.store.transaction(async (trx) => {
    const route = await initialRoute(trx, task.projectId, snapshot, task.labels, now);
    const created = await insertPipeline(trx, {
      id: makeId("pl"),
      projectId: task.projectId,
      taskId: task.id,
      taskNumber: task.number,
      run: (latest?.run ?? 0) + 1,
      name: pipelineName,
      snapshot,
      route,
      now,
    });
    await setTaskStatus(trx, task.id, "queued", now);
    await ctx.store.lockEvents(trx);
    await appendEvents(
      trx,
      [
        {
          kind: EVENTS.pipelineCreated,
          projectId: task.projectId,
          taskNumber: task.number,
          pipelineId: created.id,
          data: { name: pipelineName, run: created.run },
        },
        ...routedEvents(created, route),
      ],
      now,
    );
    return created;
  });
  notifyEngines(ctx.paths.wake, pipeline.id);
  return pipeline;
}

/**
 * The route a new pipeline starts with, from the task's labels and the router (the llm router
 * runs later, in the engine). Takes a round-robin turn only when one is used.
 */
async function initialRoute(
  db: Db,
  projectId: string,
  snapshot: PipelineSnapshot,
  labels: readonly string[],
  now: number,
): Promise<RouteResult | null> {
  const labelled = labelRoute(labels).agent;
  const turn =
    snapshot.router.mode === "round_robin" &&
    (labelled === null || snapshot.agents[labelled] === undefined)
      ? await takeRouterTurn(db, projectId, now)
      : 0;
  return routeAtCreation(snapshot, labels, turn);
}

function routedEvents(pipeline: Pipeline, route: RouteResult | null): NewEvent[] {
  return route === null
    ? []
    : [
        {
          kind: EVENTS.pipelineRouted,
          projectId: pipeline.projectId,
          taskNumber: pipeline.taskNumber,
          pipelineId: pipeline.id,
          data: { ...route },
        },
      ];
}

async function loadOne(ctx: EngineContext, pipeline: Pipeline): Promise<LoadedPipeline> {
  const loader = new SnapshotLoader(ctx);
  const snap = await loader.load({ pipelineIds: [pipeline.id] }, "baton-cli", ctx.clock());
  const entry = snap.entries.get(pipeline.id);
  const lp = entry === undefined ? undefined : (await loader.hydrate([entry])).get(pipeline.id);
  if (lp === undefined) {
    throw new ConflictError(
      `pipeline of task #${pipeline.taskNumber} is ${pipeline.status}, not open`,
    );
  }
  return lp;
}

/** The first attempt of `stage`, run by the agent the stage chooses (none for other kinds). */
function firstAttempt(
  pipeline: Pipeline,
  stage: StageDef,
  fields: Pick<NewJob, "role" | "kind" | "parentJobId" | "trigger" | "context" | "deps">,
): NewJob {
  return {
    ...fields,
    stageId: stage.id,
    member: null,
    attempt: 1,
    fixRound: 0,
    ...(stage.kind === "agent"
      ? stageAgentChoice(pipeline.snapshot, pipeline.route, stage)
      : { agent: null, model: null }),
    notBefore: null,
    routedFrom: null,
  };
}

/**
 * Runs the failed (or escalated) stages of a failed or blocked pipeline again, as new jobs
 * carrying `reason`. Throws `ConflictError` for a pipeline in any other state.
 */
export async function retryPipeline(
  ctx: EngineContext,
  pipeline: Pipeline,
  reason: string,
): Promise<string[]> {
  if (pipeline.status !== "failed" && pipeline.status !== "blocked") {
    const why: Partial<Record<PipelineStatus, string>> = {
      completed: "it completed; there is nothing to retry",
      cancelled: "it was cancelled; create a new one with `baton pipeline create`",
      running: "it is still running",
      pending: "it has not started yet",
    };
    throw new ConflictError(
      `cannot retry the pipeline of task #${pipeline.taskNumber}: ${why[pipeline.status] ?? pipeline.status}`,
    );
  }
  const now = ctx.clock();
  const jobs = await listJobs(ctx.store.db, [pipeline.id]);
  const state = {
    id: pipeline.id,
    taskNumber: pipeline.taskNumber,
    status: pipeline.status,
    createdAt: pipeline.createdAt,
    startedAt: pipeline.startedAt,
    snapshot: pipeline.snapshot,
    route: pipeline.route,
    jobs: jobs.map((j) => jobSnap(j, "none", null)),
  };
  const stages = stagesToRetry(state, now);
  if (stages.length === 0) {
    throw new ConflictError(
      `the pipeline of task #${pipeline.taskNumber} has no failed stage to retry`,
    );
  }
  const applied = await ctx.store.transaction(async (trx) => {
    if (!(await bumpPipelineVersion(trx, pipeline.id, pipeline.version, now))) {
      return false;
    }
    let seq = await nextJobSeq(trx, pipeline.id);
    for (const stageId of stages) {
      const stage = stageById(pipeline.snapshot, stageId);
      if (stage === undefined) {
        continue;
      }
      const job = firstAttempt(pipeline, stage, {
        role: "head",
        kind:
          stage.kind === "agent"
            ? "agent"
            : stage.kind === "run"
              ? "command"
              : stage.kind === "uses"
                ? "builtin"
                : "aggregate",
        parentJobId: null,
        trigger: "manual",
        context: { manual: { reason } },
        deps: [],
      });
      const id = makeId("job");
      await insertJob(trx, {
        id,
        pipelineId: pipeline.id,
        seq,
        job,
        parentJobId: null,
        status: "pending",
        tokenHash: makeSecret(),
        lease: null,
        now,
      });
      seq += 1;
      if (stage.kind === "fanout") {
        for (const agent of stage.agents) {
          await insertJob(trx, {
            id: makeId("job"),
            pipelineId: pipeline.id,
            seq,
            job: {
              ...job,
              role: "member",
              kind: "agent",
              member: agent,
              agent,
              model: modelFor(pipeline.snapshot, pipeline.route?.complexity ?? null, agent),
            },
            parentJobId: id,
            status: "pending",
            tokenHash: makeSecret(),
            lease: null,
            now,
          });
          seq += 1;
        }
      }
    }
    const events: NewEvent[] = [];
    const ref = {
      pipeline,
      project: { id: pipeline.projectId },
      task: { id: pipeline.taskId, number: pipeline.taskNumber },
    };
    await movePipeline(trx, ref, "running", null, now, events);
    events.push({
      kind: EVENTS.pipelineRetried,
      projectId: pipeline.projectId,
      taskNumber: pipeline.taskNumber,
      pipelineId: pipeline.id,
      data: { reason, stages },
    });
    await ctx.store.lockEvents(trx);
    await appendEvents(trx, events, now);
    return true;
  });
  if (!applied) {
    throw new ConflictError(
      `the pipeline of task #${pipeline.taskNumber} changed while retrying; run the command again`,
    );
  }
  notifyEngines(ctx.paths.wake, pipeline.id);
  return stages;
}

/**
 * Ends an open pipeline as `failed` or `cancelled`: kills its sessions, settles its active jobs
 * as cancelled, and optionally removes its worktree (the branch stays).
 */
export async function endPipeline(
  ctx: EngineContext,
  pipeline: Pipeline,
  end: { status: "failed" | "cancelled"; reason: string; removeWorktree: boolean },
): Promise<void> {
  if (!isOpenPipeline(pipeline.status)) {
    if (end.removeWorktree && pipeline.worktreePath !== null) {
      await removePipelineWorktree(ctx, pipeline);
      return;
    }
    throw new ConflictError(
      `the pipeline of task #${pipeline.taskNumber} is already ${pipeline.status}`,
    );
  }
  const lp = await loadOne(ctx, pipeline);
  const active = lp.jobs.filter((j) => isActiveJob(j.status) || j.status === "pending");
  const sessions = await listSessionsByIds(
    ctx.store.db,
    active.flatMap((j) => (j.sessionId === null ? [] : [j.sessionId])),
  );
  for (const session of sessions) {
    if (session.pid !== null) {
      const runtime =
        ctx.runtimes[session.runtime === "tmux" ? "tmux" : "process"] ?? ctx.runtimes.process;
      await runtime?.kill(sessionHandle(session), 5000);
    }
  }
  const now = ctx.clock();
  const events: NewEvent[] = [];
  await ctx.store.transaction(async (trx) => {
    for (const job of active) {
      if (
        await settleJob(trx, job.id, ["pending", "starting", "running", "checking"], {
          status: "cancelled",
          error_class: "cancelled",
          error: end.reason,
          finished_at: now,
        })
      ) {
        events.push({
          kind: EVENTS.jobCancelled,
          projectId: lp.project.id,
          taskNumber: lp.task.number,
          pipelineId: pipeline.id,
          jobId: job.id,
          data: { stage: job.stageId, reason: end.reason },
        });
      }
    }
    await movePipeline(trx, lp, end.status, end.reason, now, events);
    await ctx.store.lockEvents(trx);
    await appendEvents(trx, events, now);
  });
  notifyEngines(ctx.paths.wake, pipeline.id);
  if (end.removeWorktree) {
    await removePipelineWorktree(
      ctx,
      (await getPipelineById(ctx.store.db, pipeline.id)) ?? pipeline,
    );
  }
}

async function removePipelineWorktree(ctx: EngineContext, pipeline: Pipeline): Promise<void> {
  const project = await getProjectById(ctx.store.db, pipeline.projectId);
  if (pipeline.worktreePath !== null && project !== undefined) {
    await removeWorktree({ projectRoot: project.rootPath, path: pipeline.worktreePath });
    await clearPipelineWorktree(ctx.store.db, pipeline.id, ctx.clock());
  }
}

/** Cancels a task and its open pipeline, if any. */
export async function cancelTask(ctx: EngineContext, task: Task, reason: string): Promise<void> {
  if (task.status === "cancelled" || task.status === "done") {
    throw new ConflictError(`task #${task.number} is already ${task.status}`);
  }
  const pipeline = await findLatestPipelineForTask(ctx.store.db, task.id);
  if (pipeline !== undefined && isOpenPipeline(pipeline.status)) {
    await endPipeline(ctx, pipeline, { status: "cancelled", reason, removeWorktree: false });
    return;
  }
  await setTaskStatus(ctx.store.db, task.id, "cancelled", ctx.clock());
}

/** Unblocks tasks waiting for a person: their blocked pipelines retry the escalated stage. */
export async function unblockTasks(
  ctx: EngineContext,
  project: Project,
  which: number | "all",
  reason: string,
): Promise<number[]> {
  const tasks =
    which === "all"
      ? await listTasks(ctx.store.db, {
          projectId: project.id,
          statuses: ["needs_review", "blocked"],
        })
      : [await getTask(ctx, project, which)];
  const unblocked: number[] = [];
  for (const task of tasks) {
    const pipeline = await findLatestPipelineForTask(ctx.store.db, task.id);
    if (pipeline?.status !== "blocked") {
      if (which !== "all") {
        throw new ConflictError(
          `task #${task.number} is ${task.status}, not blocked; nothing to unblock`,
        );
      }
      continue;
    }
    await retryPipeline(ctx, pipeline, reason);
    unblocked.push(task.number);
  }
  return unblocked;
}

/**
 * Adds a job to the running job's own pipeline (`baton job spawn` inside a session). The
 * caller proves who it is with the job's token; the spawning job's stage then also waits for
 * the new job.
 */
export async function spawnJob(
  ctx: EngineContext,
  input: { jobId: string; token: string; stage: string; context: string },
): Promise<{ jobId: string; taskNumber: number }> {
  const parent = await getJobById(ctx.store.db, input.jobId);
  if (parent === undefined || parent.id !== input.jobId) {
    throw new UnauthorizedError(
      "job spawn: BATON_JOB_ID names no job; run it from inside a Baton session",
    );
  }
  if ((await findJobByTokenHash(ctx.store.db, input.jobId, hashToken(input.token))) === undefined) {
    throw new UnauthorizedError(
      "job spawn: BATON_JOB_TOKEN does not match the job; only a job's own session may spawn",
    );
  }
  if (!isActiveJob(parent.status)) {
    throw new ConflictError(
      `job spawn: job ${parent.id} is ${parent.status}; only a running job may spawn`,
    );
  }
  const pipeline = await getPipelineById(ctx.store.db, parent.pipelineId);
  if (pipeline === undefined || !isOpenPipeline(pipeline.status)) {
    throw new ConflictError("job spawn: the job's pipeline is no longer open");
  }
  const stage = stageById(pipeline.snapshot, input.stage);
  if (stage === undefined || (stage.kind !== "agent" && stage.kind !== "run")) {
    const choices = pipeline.snapshot.pipeline.stages
      .filter((s) => s.kind === "agent" || s.kind === "run")
      .map((s) => s.id);
    throw new UsageError(
      `job spawn: --stage must be an agent or run stage of this pipeline: ${choices.join(", ")}`,
    );
  }
  const now = ctx.clock();
  const id = makeId("job");
  await ctx.store.transaction(async (trx) => {
    const seq = await nextJobSeq(trx, pipeline.id);
    await insertJob(trx, {
      id,
      pipelineId: pipeline.id,
      seq,
      job: firstAttempt(pipeline, stage, {
        role: "spawned",
        kind: stage.kind === "agent" ? "agent" : "command",
        parentJobId: parent.id,
        trigger: "spawn",
        context: { spawn: { context: input.context, byJob: parent.id } },
        deps: [{ jobId: parent.id, when: "always" }],
      }),
      parentJobId: parent.id,
      status: "pending",
      tokenHash: makeSecret(),
      lease: null,
      now,
    });
    await touchPipeline(trx, pipeline.id, now);
    await ctx.store.lockEvents(trx);
    await appendEvents(
      trx,
      [
        {
          kind: EVENTS.jobSpawned,
          projectId: pipeline.projectId,
          taskNumber: pipeline.taskNumber,
          pipelineId: pipeline.id,
          jobId: id,
          data: { stage: stage.id, byJob: parent.id, context: input.context },
        },
      ],
      now,
    );
  });
  notifyEngines(ctx.paths.wake, pipeline.id);
  return { jobId: id, taskNumber: pipeline.taskNumber };
}

/** The bytes that deliver `message` to a job's session, as its agent's adapter wants them. */
export function steerTextFor(
  snapshot: PipelineSnapshot,
  agentName: string | null,
  message: string,
): string {
  const agent = agentName === null ? undefined : snapshot.agents[agentName];
  if (agent !== undefined) {
    try {
      return getAdapter(agent.adapter).steerText(message);
    } catch {
      // An adapter this build lacks cannot have a running session either; fall through.
    }
  }
  return message.endsWith("\n") ? message : `${message}\n`;
}

/**
 * Why a session of `job` cannot take a message, or `null` when it can: a headless agent whose
 * CLI reads nothing once it runs (Codex's `exec`, OpenCode, Aider, Gemini) would never see
 * what was typed into its terminal, though the terminal would echo it.
 */
function steeringRefusal(snapshot: PipelineSnapshot, job: Job): string | null {
  const agent = job.agent === null ? undefined : snapshot.agents[job.agent];
  const stage = stageById(snapshot, job.stageId);
  if (agent === undefined || stage?.interactive === true) {
    return null;
  }
  let steering: AgentAdapter["steering"];
  try {
    steering = getAdapter(agent.adapter).steering;
  } catch {
    return null;
  }
  return steering === "none"
    ? `agent ${agent.name} (${agent.adapter}) runs headless and reads no messages while it ` +
        "works; only Claude Code takes them headless. Give the stage `interactive: true` to " +
        "run its terminal UI, which can be steered."
    : null;
}

/** Formats `message` for the session's agent and delivers it, counting it as sent. */
async function deliverSteer(
  ctx: EngineContext,
  runtime: Runtime,
  session: Session,
  pipeline: Pipeline | undefined,
  job: Job | undefined,
  message: string,
): Promise<SteerResult> {
  const text =
    pipeline === undefined
      ? `${message}\n`
      : steerTextFor(pipeline.snapshot, job?.agent ?? null, message);
  // Counted before it is written, so that a turn ending as it arrives is never read as the
  // agent waiting; taken back if it could not be delivered.
  await countSessionInputs(ctx.store.db, session.id, 1);
  const result = await runtime.steer(sessionHandle(session), text);
  if (!result.delivered) {
    await countSessionInputs(ctx.store.db, session.id, -1);
  }
  return result;
}

/**
 * Sends `message` to a live session: formats it for the session's agent, delivers it through
 * the runtime, stamps `steered_at` and records an event. Returns what the runtime said, or why
 * the session's agent cannot take a message.
 */
export async function steerSession(
  ctx: EngineContext,
  session: Session,
  message: string,
  reason: string,
  wrapUp = false,
): Promise<SteerResult> {
  const runtime = ctx.runtimes[session.runtime === "tmux" ? "tmux" : "process"];
  if (runtime === undefined) {
    return { delivered: false, reason: `the ${session.runtime} runtime is not available here` };
  }
  const job = await getJobById(ctx.store.db, session.jobId);
  const pipeline =
    job === undefined ? undefined : await getPipelineById(ctx.store.db, job.pipelineId);
  const refusal =
    pipeline === undefined || job === undefined ? null : steeringRefusal(pipeline.snapshot, job);
  const result =
    refusal !== null
      ? { delivered: false as const, reason: refusal }
      : await deliverSteer(ctx, runtime, session, pipeline, job, message);
  const now = ctx.clock();
  await ctx.store.transaction(async (trx) => {
    await updateSession(trx, session.id, {
      steered_at: now,
      ...(wrapUp ? { wrapup_at: now } : {}),
      ...(result.delivered ? { state: "steer" } : {}),
      // An agent that said it waits has a message to work on now.
      ...(result.delivered && session.agentIdleAt !== null ? { agent_active_at: now } : {}),
    });

    await ctx.store.lockEvents(trx);
    await appendEvents(
      trx,
      [
        {
          kind: EVENTS.sessionSteered,
          pipelineId: session.pipelineId,
          taskNumber: pipeline?.taskNumber ?? null,
          projectId: pipeline?.projectId ?? null,
          jobId: session.jobId,
          data: {
            session: session.name,
            stage: job?.stageId ?? null,
            delivered: result.delivered,
            reason: result.delivered ? reason : result.reason,
            message,
          },
        },
      ],
      now,
    );
  });
  return result;
}
