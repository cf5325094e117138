/**
 * Shared pieces of the end-to-end tests that run the built `baton` CLI with the real Claude
 * Code CLI as the agent, offline against the scripted Anthropic server: the agent's block of
 * `baton.yaml`, a meter that notes the usage of every reply the server sends (with the Claude
 * Code session that asked for it), and read-only views of the project's SQLite store.
 */
import { join } from "node:path";
import Database from "better-sqlite3";
import { z } from "zod";
import type {
  AnthropicServer,
  MessagesRequest,
  Reply,
  ReplyUsage,
  ScriptStep,
} from "../helpers/anthropic-server.js";
import type { CliProject } from "../helpers/cli.js";
import { claudeBinDir } from "../agents/claude-kit.js";

/**
 * The YAML of one `claude`-adapter agent, indented for the `agents:` map: offline against
 * `server`, with a private HOME, the installed `claude` first on PATH, no retries of its own
 * (so a refused request ends the turn at once), `env` on top, and `extra` lines (such as
 * `fallback: x`).
 */
export function claudeAgentYaml(
  name: string,
  options: {
    server: AnthropicServer;
    home: string;
    model?: string;
    env?: Record<string, string>;
    extra?: string[];
  },
): string {
  const env: Record<string, string> = {
    PATH: `${claudeBinDir()}:/usr/local/bin:/usr/bin:/bin`,
    HOME: options.home,
    ANTHROPIC_BASE_URL: options.server.url,
    ANTHROPIC_API_KEY: "sk-test",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    CLAUDE_CODE_MAX_RETRIES: "0",
    ...options.env,
  };
  return [
    `  ${name}:`,
    "    adapter: claude",
    ...(options.model === undefined ? [] : [`    model: ${options.model}`]),
    "    env:",
    ...Object.entries(env).map(([key, value]) => `      ${key}: ${JSON.stringify(value)}`),
    ...(options.extra ?? []).map((line) => `    ${line}`),
  ].join("\n");
}

/** The worktree a prompt names in its "Work in <dir>. " sentence. */
export function worktreeIn(text: string): string {
  const match = /Work in (\S+)\. /.exec(text);
  if (match?.[1] === undefined) {
    throw new Error(`the prompt names no worktree:\n${text}`);
  }
  return match[1];
}

/** One reply the server sent: the Claude Code session that asked, its model, its usage. */
export interface MeteredReply {
  sessionId: string;
  model: string;
  usage: ReplyUsage;
}

/**
 * Notes every successful reply of the server's script with the session id Claude Code sends
 * (`x-claude-code-session-id`), so usage can be summed per session. Attach the server before
 * the first request arrives.
 */
export class Meter {
  readonly replies: MeteredReply[] = [];
  #server: AnthropicServer | null = null;

  attach(server: AnthropicServer): void {
    this.#server = server;
  }

  /** A script step that computes its reply from the request and notes it. */
  step(reply: (request: MessagesRequest) => Reply): ScriptStep {
    return (request) => {
      const answer = reply(request);
      if (answer.kind === "message") {
        // The server records a request before it asks the script: the last one is this one.
        const header = this.#server?.requests.at(-1)?.headers["x-claude-code-session-id"];
        this.replies.push({
          sessionId: typeof header === "string" ? header : "",
          model: request.model,
          usage: answer.usage,
        });
      }
      return answer;
    };
  }

  /** Summed usage of the replies sent to one Claude Code session. */
  usageOf(sessionId: string): ReplyUsage {
    return sumUsage(this.replies.filter((r) => r.sessionId === sessionId).map((r) => r.usage));
  }
}

export function sumUsage(usages: readonly ReplyUsage[]): ReplyUsage {
  return usages.reduce(
    (sum, u) => ({
      inputTokens: sum.inputTokens + u.inputTokens,
      outputTokens: sum.outputTokens + u.outputTokens,
      cacheReadTokens: sum.cacheReadTokens + u.cacheReadTokens,
      cacheWriteTokens: sum.cacheWriteTokens + u.cacheWriteTokens,
    }),
    { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
  );
}

const jobRow = z.object({
  id: z.string(),
  task: z.number(),
  seq: z.number(),
  stage_id: z.string(),
  trigger: z.string(),
  attempt: z.number(),
  fix_round: z.number(),
  agent: z.string().nullable(),
  model: z.string().nullable(),
  status: z.string(),
  error_class: z.string().nullable(),
  error: z.string().nullable(),
  tokens_in: z.number(),
  tokens_out: z.number(),
  cache_read_tokens: z.number(),
  cache_write_tokens: z.number(),
  cost_usd: z.number(),
  reset_at: z.number().nullable(),
  finished_at: z.number().nullable(),
  agent_session_id: z.string().nullable(),
  log_path: z.string().nullable(),
  session_name: z.string().nullable(),
});
export type JobRecord = z.infer<typeof jobRow>;

const pauseRow = z.object({
  agent: z.string(),
  until: z.number(),
  reason: z.string(),
  job_id: z.string().nullable(),
});

const eventRow = z.object({
  kind: z.string(),
  job_id: z.string().nullable(),
  data: z.string(),
});

function readStore<T>(p: CliProject, read: (db: Database.Database) => T): T {
  const db = new Database(join(p.home, "baton.db"), { readonly: true, fileMustExist: true });
  try {
    db.pragma("busy_timeout = 5000");
    return read(db);
  } finally {
    db.close();
  }
}

/**
 * Every job of the project's task `task`, in creation order, with its session's agent session id
 * and log.
 */
export function jobsOf(p: CliProject, task = 1): JobRecord[] {
  return readStore(p, (db) =>
    z.array(jobRow).parse(
      db
        .prepare(
          `select j.id, pl.task_number as task, j.seq, j.stage_id, j.trigger, j.attempt, j.fix_round, j.agent, j.model,
             j.status, j.error_class, j.error, j.tokens_in, j.tokens_out, j.cache_read_tokens,
             j.cache_write_tokens, j.cost_usd, j.reset_at, j.finished_at,
             s.agent_session_id, s.log_path, s.name as session_name
           from jobs j join pipelines pl on pl.id = j.pipeline_id
             left join sessions s on s.id = j.session_id
           where pl.task_number = ?
           order by j.seq`,
        )
        .all(task),
    ),
  );
}

/** Rows of `agent_pauses`. */
export function pausesOf(p: CliProject): z.infer<typeof pauseRow>[] {
  return readStore(p, (db) =>
    z
      .array(pauseRow)
      .parse(db.prepare("select agent, until, reason, job_id from agent_pauses").all()),
  );
}

/** Events of `kind`, oldest first, their data parsed. */
export function eventsOf(
  p: CliProject,
  kind: string,
): { jobId: string | null; data: Record<string, unknown> }[] {
  return readStore(p, (db) =>
    z
      .array(eventRow)
      .parse(
        db.prepare("select kind, job_id, data from events where kind = ? order by id").all(kind),
      )
      .map((e) => ({
        jobId: e.job_id,
        data: z.record(z.string(), z.unknown()).parse(JSON.parse(e.data)),
      })),
  );
}
