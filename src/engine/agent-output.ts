/**
 * What an agent's structured output says, read from its session's log as it is written: its
 * session id and model, each tool call, each turn's end, errors, and token usage and cost.
 * The engine records these as they arrive: usage on the job, the agent's session id and turn
 * ends on the session (a turn end makes the session idle), the rest as events.
 *
 * Two ways in: a check-in reads each live session's new output once per pass (`observe`); a
 * driving engine follows the sessions it holds (`follow`) and is woken by what matters.
 */
import { open } from "node:fs/promises";
import { StringDecoder } from "node:string_decoder";
import type { AgentEvent, FailureClass, OutputParser, Usage } from "../agents/adapter.js";
import { getAdapter } from "../agents/registry.js";
import { EVENTS } from "../core/events.js";
import type { AgentDef } from "../core/pipeline-def.js";
import { costOf, pricesFor } from "../core/pricing.js";
import type { Job, Session } from "../core/records.js";
import { coerceError } from "../lib/coerce-error.js";
import { followLog } from "../sessions/follow-log.js";
import { appendEvents, type NewEvent } from "../store/events.repository.js";
import { recordJobModel, recordJobUsage, type JobUsage } from "../store/jobs.repository.js";
import { getSessionById, updateSession } from "../store/sessions.repository.js";
import type { EngineContext } from "./context.js";

const READ_BYTES = 64 * 1024;
/** Events kept for classifying a failure; older ones are dropped. */
const KEPT_EVENTS = 500;
/** Usage is written at most this often while a turn runs (and always at a turn's end). */
const USAGE_WRITE_MS = 2000;
const TEXT_MAX = 500;

/** Everything the output said so far, summed up. */
export interface OutputSummary {
  sessionId: string | null;
  model: string | null;
  usage: Usage | null;
  /** The last turn's end: whether it went well, and what the agent said last. */
  lastResult: { ok: boolean; text: string; detail: string | null } | null;
  /** The last error the output reported. */
  lastError: { errorClass: FailureClass; message: string; resetAt: number | null } | null;
  /** Messages the agent took from its input, its first prompt included. */
  inputs: number;
  /** The most recent events, oldest first. */
  events: AgentEvent[];
}

/** Reads one log through one parser, from where it left off; keeps a partial last line. */
export class OutputReader {
  readonly path: string;
  readonly #parser: OutputParser;
  readonly #decoder = new StringDecoder("utf8");
  #partial = "";
  #offset = 0;
  readonly summary: OutputSummary = {
    sessionId: null,
    model: null,
    usage: null,
    lastResult: null,
    lastError: null,
    inputs: 0,
    events: [],
  };

  constructor(path: string, parser: OutputParser) {
    this.path = path;
    this.#parser = parser;
  }

  get offset(): number {
    return this.#offset;
  }

  /** Reads what was written since the last read; returns what it meant. */
  async read(): Promise<AgentEvent[]> {
    let file;
    try {
      file = await open(this.path, "r");
    } catch (thrown) {
      if ((thrown as NodeJS.ErrnoException).code === "ENOENT") {
        return [];
      }
      throw thrown;
    }
    const events: AgentEvent[] = [];
    try {
      const buffer = Buffer.allocUnsafe(READ_BYTES);
      for (;;) {
        const { bytesRead } = await file.read(buffer, 0, buffer.length, this.#offset);
        if (bytesRead === 0) {
          break;
        }
        events.push(...this.feed(buffer.subarray(0, bytesRead)));
      }
    } finally {
      await file.close();
    }
    return events;
  }

  /** Takes bytes that follow what was read before; returns what the complete lines meant. */
  feed(chunk: Buffer): AgentEvent[] {
    this.#offset += chunk.length;
    const text = this.#partial + this.#decoder.write(chunk);
    const lines = text.split("\n");
    this.#partial = lines.pop() ?? "";
    const events: AgentEvent[] = [];
    for (const line of lines) {
      for (const event of this.#parser.line(line.endsWith("\r") ? line.slice(0, -1) : line)) {
        events.push(event);
        this.#sum(event);
      }
    }
    return events;
  }

  #sum(event: AgentEvent): void {
    const summary = this.summary;
    summary.events.push(event);
    if (summary.events.length > KEPT_EVENTS) {
      summary.events.splice(0, summary.events.length - KEPT_EVENTS);
    }
    switch (event.kind) {
      case "session":
        summary.sessionId = event.sessionId;
        summary.model = event.model ?? summary.model;
        break;
      case "usage":
        summary.usage = event.usage;
        break;
      case "input":
        summary.inputs += 1;
        break;
      case "result":
        summary.lastResult = { ok: event.ok, text: event.text, detail: event.detail };
        break;
      case "error":
        summary.lastError = {
          errorClass: event.errorClass,
          message: event.message,
          resetAt: event.resetAt,
        };
        break;
      default:
        break;
    }
  }
}

/** The whole of a finished session's output, read at once; `null` for agents without a parser. */
export async function readAgentOutput(
  adapterName: string,
  logPath: string,
): Promise<OutputSummary | null> {
  const parser = getAdapter(adapterName).createParser();
  if (parser === null) {
    return null;
  }
  const reader = new OutputReader(logPath, parser);
  await reader.read();
  return reader.summary;
}

/** What the job's agent spent, priced by Baton when the agent reports no cost. */
export function jobUsage(usage: Usage, model: string | null, agent: AgentDef | null): JobUsage {
  const prices = usage.costUsd === null ? pricesFor(model, agent?.prices ?? null) : null;
  return {
    tokensIn: usage.inputTokens,
    tokensOut: usage.outputTokens,
    cacheReadTokens: usage.cacheReadTokens,
    cacheWriteTokens: usage.cacheWriteTokens,
    costUsd: usage.costUsd ?? (prices === null ? 0 : costOf(usage, prices)),
  };
}

/** A live agent session to read, with what its records need. */
export interface OutputTarget {
  job: Job;
  session: Pick<Session, "id" | "name" | "logPath">;
  agent: AgentDef;
  ref: { projectId: string; taskNumber: number };
}

/** What one read found that the scheduler cares about. */
export interface OutputUpdate {
  /** Set when a turn ended in what was read: the session is now idle. */
  idleAt: number | null;
  /** The job's usage as recorded, when it changed. */
  usage: JobUsage | null;
}

/** Adapters by name: whether they print structured output. */
const structured = new Map<string, boolean>();

interface Followed {
  reader: OutputReader;
  /** Reads of one session never overlap. */
  chain: Promise<unknown>;
  written: string;
  writtenAt: number;
  followed: boolean;
}

/** The engine's readers of live sessions' output, one per session, kept between passes. */
export class OutputMonitor {
  readonly #ctx: EngineContext;
  readonly #sessions = new Map<string, Followed>();

  constructor(ctx: EngineContext) {
    this.#ctx = ctx;
  }

  /** Whether the agent prints output Baton can read. */
  static readable(agent: AgentDef | undefined): agent is AgentDef {
    if (agent === undefined) {
      return false;
    }
    let known = structured.get(agent.adapter);
    if (known === undefined) {
      known = getAdapter(agent.adapter).createParser() !== null;
      structured.set(agent.adapter, known);
    }
    return known;
  }

  /**
   * Reads what the session printed since the last look and records it. Sessions this engine
   * follows are left to their follower.
   */
  async observe(target: OutputTarget): Promise<OutputUpdate> {
    const entry = this.#entry(target);
    if (entry.followed) {
      return { idleAt: null, usage: null };
    }
    return this.#serial(entry, async () => this.#record(target, entry, await entry.reader.read()));
  }

  /**
   * Follows the session's log until `signal` aborts, recording as it goes; calls `onUpdate`
   * when a turn ended or an error was reported.
   */
  async follow(target: OutputTarget, signal: AbortSignal, onUpdate: () => void): Promise<void> {
    const entry = this.#entry(target);
    entry.followed = true;
    try {
      for await (const chunk of followLog(target.session.logPath, {
        signal,
        fromOffset: entry.reader.offset,
      })) {
        const update = await this.#serial(entry, () =>
          this.#record(target, entry, entry.reader.feed(chunk)),
        );
        if (update.idleAt !== null || update.usage !== null) {
          onUpdate();
        }
      }
    } catch (thrown) {
      this.#ctx.logger.warn("following an agent's output failed", {
        session: target.session.name,
        error: coerceError(thrown).message,
      });
    } finally {
      entry.followed = false;
    }
  }

  /** Drops what is kept for sessions that are no longer live. */
  retain(liveSessionIds: ReadonlySet<string>): void {
    for (const [id, entry] of this.#sessions) {
      if (!liveSessionIds.has(id) && !entry.followed) {
        this.#sessions.delete(id);
      }
    }
  }

  #entry(target: OutputTarget): Followed {
    let entry = this.#sessions.get(target.session.id);
    if (entry === undefined) {
      const parser = getAdapter(target.agent.adapter).createParser();
      if (parser === null) {
        throw new Error(`agent ${target.agent.name} prints no structured output`);
      }
      entry = {
        reader: new OutputReader(target.session.logPath, parser),
        chain: Promise.resolve(),
        written: "",
        writtenAt: Number.NEGATIVE_INFINITY,
        followed: false,
      };
      this.#sessions.set(target.session.id, entry);
    }
    return entry;
  }

  /**
   * Messages delivered to the session's input that the agent has not taken yet, for agents
   * that echo what they take (Claude Code does, its first prompt included); 0 for the others.
   */
  async #unreadInputs(sessionId: string, summary: OutputSummary): Promise<number> {
    if (summary.inputs === 0) {
      return 0;
    }
    const current = await getSessionById(this.#ctx.store.db, sessionId);
    return current === undefined ? 0 : Math.max(0, current.inputsSent - (summary.inputs - 1));
  }

  #serial<T>(entry: Followed, work: () => Promise<T>): Promise<T> {
    const next = entry.chain.then(work, work);
    entry.chain = next.catch(() => undefined);
    return next;
  }

  async #record(
    target: OutputTarget,
    entry: Followed,
    events: readonly AgentEvent[],
  ): Promise<OutputUpdate> {
    const { job, session, ref } = target;
    const now = this.#ctx.clock();
    const summary = entry.reader.summary;
    const records: NewEvent[] = [];
    const base = { ...ref, pipelineId: job.pipelineId, jobId: job.id };
    let idleAt: number | null = null;
    for (const event of events) {
      switch (event.kind) {
        case "session":
          await updateSession(this.#ctx.store.db, session.id, {
            agent_session_id: event.sessionId,
          });
          if (event.model !== null) {
            await recordJobModel(this.#ctx.store.db, job.id, event.model);
          }
          records.push({
            kind: EVENTS.agentSession,
            ...base,
            data: { stage: job.stageId, sessionId: event.sessionId, model: event.model },
          });
          break;
        case "tool":
          records.push({
            kind: EVENTS.agentTool,
            ...base,
            data: { stage: job.stageId, name: event.name, summary: event.summary },
          });
          break;
        case "result":
          idleAt = now;
          records.push({
            kind: EVENTS.agentTurn,
            ...base,
            data: {
              stage: job.stageId,
              ok: event.ok,
              text: clip(event.text),
              detail: event.detail,
            },
          });
          break;
        case "error":
          records.push({
            kind: EVENTS.agentError,
            ...base,
            data: {
              stage: job.stageId,
              errorClass: event.errorClass,
              message: clip(event.message),
              resetAt: event.resetAt,
            },
          });
          break;
        default:
          break;
      }
    }
    let usage: JobUsage | null = null;
    if (summary.usage !== null) {
      const current = jobUsage(summary.usage, job.model ?? summary.model, target.agent);
      const text = JSON.stringify(current);
      if (text !== entry.written && (idleAt !== null || now - entry.writtenAt >= USAGE_WRITE_MS)) {
        await recordJobUsage(this.#ctx.store.db, job.id, current);
        entry.written = text;
        entry.writtenAt = now;
        usage = current;
      }
    }
    if (idleAt !== null && (await this.#unreadInputs(session.id, summary)) > 0) {
      // A steering message arrived as the turn ended: the agent takes it next, so it does
      // not wait yet. The turn that answers it ends the wait.
      idleAt = null;
    }
    if (idleAt !== null) {
      await updateSession(this.#ctx.store.db, session.id, { agent_idle_at: idleAt });
    }
    if (records.length > 0) {
      await this.#ctx.store.transaction(async (trx) => {
        await this.#ctx.store.lockEvents(trx);
        await appendEvents(trx, records, now);
      });
    }
    return { idleAt, usage };
  }
}

function clip(text: string): string {
  return text.length > TEXT_MAX ? `${text.slice(0, TEXT_MAX - 1)}…` : text;
}
