import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { StringDecoder } from "node:string_decoder";
import { formatDuration, parseDuration } from "../../core/duration.js";
import { ConflictError, NotFoundError, UsageError } from "../../core/errors.js";
import { EVENTS } from "../../core/events.js";
import type { Session } from "../../core/records.js";
import { isTerminalJob } from "../../core/status.js";
import type { EngineContext } from "../../engine/context.js";
import { getPipelineOfTask, steerSession } from "../../engine/operations.js";
import { sessionHandle } from "../../engine/snapshot.js";
import { notifyEngines } from "../../engine/wake.js";
import { followLog } from "../../sessions/follow-log.js";
import type { Runtime } from "../../sessions/runtime.js";
import { appendEvents } from "../../store/events.repository.js";
import { getJobById } from "../../store/jobs.repository.js";
import { clearPipelineWorktree, listPipelines } from "../../store/pipelines.repository.js";
import { findSessionByName, listSessions, updateSession } from "../../store/sessions.repository.js";
import { getProjectById } from "../../store/projects.repository.js";
import { removeWorktree } from "../../workspace/worktree.js";
import { EXIT, ExitError } from "../exit-error.js";
import type { CommandInput } from "../main.js";
import { withApp } from "./common.js";

const LIVE_STATES = new Set(["starting", "started", "active", "idle", "steer", "human_input"]);

/**
 * Live tmux sessions Baton started that no record knows: on Baton's own server, named as Baton
 * names sessions, with a session directory in this BATON_HOME. Anything else on that server (a
 * person's own session) is not Baton's and is never listed or touched.
 */
async function unrecordedSessions(ctx: EngineContext): Promise<string[]> {
  const known = new Set((await listSessions(ctx.store.db, {})).map((s) => s.name));
  const live = (await ctx.runtimes.tmux?.listLive?.()) ?? [];
  return live.filter(
    (name) =>
      name.startsWith("baton-") && !known.has(name) && existsSync(join(ctx.paths.sessions, name)),
  );
}

function runtimeOf(ctx: EngineContext, session: Session): Runtime | undefined {
  return ctx.runtimes[session.runtime === "tmux" ? "tmux" : "process"];
}

async function find(ctx: EngineContext, name: string): Promise<Session> {
  const session = await findSessionByName(ctx.store.db, name);
  if (session === undefined) {
    throw new NotFoundError(`no session named ${name}; \`baton session list\` shows them`);
  }
  return session;
}

interface Row {
  name: string;
  runtime: string;
  state: string;
  human: string | null;
  orphan: string | null;
  stage: string | null;
  job_status: string | null;
  pid: number | null;
  age: string;
  log: string | null;
}

/**
 * `baton session list`: every session with its state as seen now, and orphans both ways:
 * `no-tmux` (the record says live, the session is gone) and `no-db` (a session on Baton's own
 * tmux server that no record knows).
 */
export async function sessionListCommand(input: CommandInput): Promise<void> {
  await withApp(input, async (app) => {
    const { ctx } = app;
    const sessions = (await listSessions(ctx.store.db, {})).slice(-200);
    const now = ctx.clock();
    const rows: Row[] = [];
    for (const session of sessions) {
      const runtime = runtimeOf(ctx, session);
      let state = session.state;
      let orphan: string | null = null;
      let human: string | null = null;
      if (LIVE_STATES.has(session.state) && runtime !== undefined && session.pid !== null) {
        const seen = await runtime.observe(sessionHandle(session));
        if (seen.exit !== null) {
          state = "exited";
        } else if (!seen.alive) {
          orphan = session.runtime === "tmux" ? "no-tmux" : "no-process";
        } else if (seen.human === "present") {
          human = "attached";
          state = "human_input";
        }
      }
      const job = await getJobById(ctx.store.db, session.jobId);
      rows.push({
        name: session.name,
        runtime: session.runtime,
        state,
        human,
        orphan,
        stage: job?.stageId ?? null,
        job_status: job?.status ?? null,
        pid: session.pid,
        age: formatDuration(now - session.startedAt),
        log: session.logPath,
      });
    }
    for (const name of await unrecordedSessions(ctx)) {
      rows.push({
        name,
        runtime: "tmux",
        state: "live",
        human: null,
        orphan: "no-db",
        stage: null,
        job_status: null,
        pid: null,
        age: "-",
        log: null,
      });
    }
    if (input.format === "json") {
      input.out.json({ sessions: rows });
      return;
    }
    input.out.table(rows, [
      { key: "name", header: "session" },
      { key: "runtime", header: "runtime" },
      { key: "state", header: "state" },
      { key: "human", header: "human" },
      { key: "orphan", header: "orphan" },
      { key: "stage", header: "stage" },
      { key: "job_status", header: "job" },
      { key: "age", header: "age" },
    ]);
  });
}

export function sessionPeekCommand(name: string, lines: number) {
  return async (input: CommandInput): Promise<void> => {
    await withApp(input, async (app) => {
      const session = await find(app.ctx, name);
      const runtime = runtimeOf(app.ctx, session) ?? app.ctx.runtimes.process;
      const text = runtime === undefined ? "" : await runtime.peek(sessionHandle(session), lines);
      input.out.raw(text.endsWith("\n") || text === "" ? text : `${text}\n`);
    });
  };
}

export function sessionSteerCommand(name: string, message: string) {
  return async (input: CommandInput): Promise<void> => {
    const delivered = await withApp(input, async (app) => {
      const session = await find(app.ctx, name);
      if (!LIVE_STATES.has(session.state)) {
        input.out.error(
          `baton: session ${name} is ${session.state}; only a running session can be steered`,
        );
        return false;
      }
      const result = await steerSession(app.ctx, session, message, "steered by a person");
      if (!result.delivered) {
        input.out.error(`baton: not delivered: ${result.reason}`);
        return false;
      }
      input.out.line(`Delivered to ${name}.`);
      return true;
    });
    if (!delivered) {
      throw new ExitError(EXIT.failed);
    }
  };
}

/**
 * `baton session stream <task>`: the live output of the task's current session, every byte
 * once and in order as it is written to the session's log, until the session ends.
 */
export function sessionStreamCommand(number: number) {
  return async (input: CommandInput): Promise<void> => {
    await withApp(input, async (app) => {
      const project = await app.project();
      const { pipeline } = await getPipelineOfTask(app.ctx, project.project, number);
      const sessions = await listSessions(app.ctx.store.db, { pipelineIds: [pipeline.id] });
      const current = sessions.filter((s) => LIVE_STATES.has(s.state)).at(-1);
      if (current === undefined) {
        throw new ConflictError(
          `task #${number} has no running session; \`baton session list\` shows the ended ones`,
        );
      }
      const runtime = runtimeOf(app.ctx, current);
      const handle = sessionHandle(current);
      // Ended when the runtime says so, or when Baton finished the job (aborted, timed out).
      const ended = async (): Promise<boolean> => {
        const job = await getJobById(app.ctx.store.db, current.jobId);
        if (runtime === undefined || job === undefined || isTerminalJob(job.status)) {
          return true;
        }
        const seen = await runtime.observe(handle, { quick: true, outputTime: false });
        return seen.exit !== null || !seen.alive;
      };
      // From the start of the log: what the session printed so far, then live as it is written.
      // A character split across two reads is printed whole, with the second.
      const decoder = new StringDecoder("utf8");
      for await (const chunk of followLog(current.logPath, {
        signal: input.signal,
        until: ended,
      })) {
        input.out.raw(decoder.write(chunk));
      }
      input.out.raw(decoder.end());
    });
  };
}

/** `baton session attach <name>`: this terminal joins the session's tmux terminal. */
export function sessionAttachCommand(name: string) {
  return async (input: CommandInput): Promise<void> => {
    const code = await withApp(input, async (app) => {
      const session = await find(app.ctx, name);
      const runtime = runtimeOf(app.ctx, session);
      if (runtime?.attachCommand === undefined) {
        throw new UsageError(
          `session ${name} runs as a plain process, which has no terminal to attach to; follow it with \`baton session stream\``,
        );
      }
      if (!process.stdin.isTTY) {
        throw new UsageError("baton session attach needs a terminal");
      }
      const [program, ...args] = runtime.attachCommand(sessionHandle(session));
      const env = { ...process.env };
      // Attaching from inside another tmux would be refused as nesting.
      delete env.TMUX;
      const child = spawn(program ?? "tmux", args, { stdio: "inherit", env });
      return new Promise<number>((resolve) => child.on("close", (c) => resolve(c ?? 1)));
    });
    if (code !== 0) {
      throw new ExitError(EXIT.failed);
    }
  };
}

const SIGNALS: Record<string, "idle" | "active"> = {
  idle: "idle",
  stop: "idle",
  notification: "idle",
  active: "active",
  prompt: "active",
  start: "active",
};

/**
 * `baton session event [name] --type T`: an agent's own signal (Claude Code hooks, Codex
 * notify): `idle` when its turn ended and it waits, `active` when it works again.
 */
export function sessionEventCommand(name: string | undefined, options: { type: string }) {
  return async (input: CommandInput): Promise<void> => {
    const signal = SIGNALS[options.type];
    if (signal === undefined) {
      throw new UsageError(`--type ${options.type} is not a signal; use idle or active`);
    }
    const target = name ?? input.env.raw.BATON_SESSION;
    if (target === undefined || target === "") {
      throw new UsageError("name the session, or run this inside one (BATON_SESSION is not set)");
    }
    await withApp(input, async (app) => {
      const session = await find(app.ctx, target);
      const now = app.ctx.clock();
      await app.ctx.store.transaction(async (trx) => {
        await updateSession(
          trx,
          session.id,
          signal === "idle" ? { agent_idle_at: now } : { agent_active_at: now },
        );
        await app.ctx.store.lockEvents(trx);
        await appendEvents(
          trx,
          [
            {
              kind: EVENTS.sessionSignal,
              pipelineId: session.pipelineId,
              jobId: session.jobId,
              data: { session: session.name, signal },
            },
          ],
          now,
        );
      });
      notifyEngines(app.ctx.paths.wake, session.pipelineId);
    });
  };
}

/**
 * `baton session gc`: removes what Baton left behind and nobody needs: tmux sessions on Baton's
 * own server that no record knows, and worktrees of pipelines that finished more than
 * `--older-than` ago (their branches stay). Never touches anything Baton did not create.
 */
export function sessionGcCommand(options: { olderThan: string; dryRun?: boolean }) {
  return async (input: CommandInput): Promise<void> => {
    const age = parseDuration(options.olderThan);
    if (age === undefined) {
      throw new UsageError(
        `--older-than ${options.olderThan} is not a duration; use e.g. 7d, 12h or 0s`,
      );
    }
    await withApp(input, async (app) => {
      const { ctx } = app;
      const removed: { kind: string; what: string }[] = [];
      for (const name of await unrecordedSessions(ctx)) {
        if (options.dryRun !== true) {
          await ctx.runtimes.tmux?.killByName?.(name);
        }
        removed.push({ kind: "tmux session (no record)", what: name });
      }
      const cutoff = ctx.clock() - age;
      const finished = await listPipelines(ctx.store.db, {
        statuses: ["completed", "failed", "cancelled"],
      });
      for (const pipeline of finished) {
        if (
          pipeline.worktreePath === null ||
          (pipeline.finishedAt ?? Number.POSITIVE_INFINITY) > cutoff
        ) {
          continue;
        }
        const project = await getProjectById(ctx.store.db, pipeline.projectId);
        if (project !== undefined && options.dryRun !== true) {
          await removeWorktree({ projectRoot: project.rootPath, path: pipeline.worktreePath });
          await clearPipelineWorktree(ctx.store.db, pipeline.id, ctx.clock());
        }
        removed.push({
          kind: `worktree of #${pipeline.taskNumber} (${pipeline.status})`,
          what: pipeline.worktreePath,
        });
      }
      if (input.format === "json") {
        input.out.json({ dry_run: options.dryRun === true, removed });
        return;
      }
      if (removed.length === 0) {
        input.out.line("Nothing to clean up.");
        return;
      }
      for (const r of removed) {
        input.out.line(
          `${options.dryRun === true ? "would remove" : "removed"} ${r.kind}: ${r.what}`,
        );
      }
    });
  };
}
