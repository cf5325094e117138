/**
 * `baton session steer` on a live Claude Code session (stream-json on the session's FIFO, under
 * both runtimes): the message reaches the model, which acts on it, and Baton finishes the job
 * with that work.
 *
 * - Between turns (an orchestrator driving with `baton check-in`): the agent finished its first
 *   turn and waits; the steering message starts a new user turn of the same conversation.
 * - Mid-turn (`baton run` driving): the agent is running a command; Claude Code adds the message
 *   to the running turn, and the model's next request carries it.
 */
import { join } from "node:path";
import { beforeAll, describe, expect, it, onTestFinished } from "vitest";
import {
  lastUserText,
  messageText,
  say,
  startAnthropicServer,
  toolResults,
  useTool,
  type AnthropicServer,
} from "../helpers/anthropic-server.js";
import { assertBuilt, waitFor, type CliProject } from "../helpers/cli.js";
import { makeClaudeHome } from "../agents/claude-kit.js";
import {
  checkInOutput,
  pipelineStatus,
  project,
  RUNTIMES,
  sessionList,
  stageOf,
  worktreeFile,
} from "../cli/kit.js";
import { claudeAgentYaml, eventsOf, jobsOf, worktreeIn } from "./claude-e2e-kit.js";

beforeAll(assertBuilt);

const PROMPT = `Task #{{task.number}}: {{task.title}}

Work in {{worktree}}. Wait for instructions about NOTES.md.
`;
const STEER = "Write NOTES.md saying: indent with tabs.";
const NOTES = "indent with tabs\n";

/** A project whose one stage passes only when NOTES.md says what the steering message asked. */
async function steeredProject(
  server: AnthropicServer,
  runtime: (typeof RUNTIMES)[number],
): Promise<CliProject> {
  const home = await makeClaudeHome();
  onTestFinished(() => home.cleanup());
  return project({
    config: `version: 1
defaults:
  agent: claude
  runtime: ${runtime}
  timeout: 2m
  stall_timeout: 2m
  grace: 2s
agents:
${claudeAgentYaml("claude", { server, home: home.path })}
pipelines:
  default:
    stages:
      - id: implement
        prompt: prompts/implement.md
        gates:
          - { name: notes, run: "grep -qx 'indent with tabs' NOTES.md", timeout: 30s }
        fix: { max_rounds: 0 }
        on_fail: fail
`,
    files: { "prompts/implement.md": PROMPT },
  });
}

/** The one live session of the project, once it runs. */
async function liveSession(p: CliProject): Promise<string> {
  let last: unknown = null;
  try {
    return await waitFor(
      "the agent's session",
      async () => {
        const { sessions } = sessionList.parse(await p.json(["session", "list", "--json"]));
        last = sessions;
        return sessions.find((s) => s.job_status === "running" && s.pid !== null)?.name;
      },
      20_000,
    );
  } catch (thrown) {
    throw new Error(`${String(thrown)}; sessions: ${JSON.stringify(last)}`);
  }
}

/** Lines of the session's log that are Claude Code `result` lines. */
async function resultLines(p: CliProject, name: string): Promise<number> {
  const peek = await p.run(["session", "peek", name, "--lines", "200"]);
  return peek.stdout.split("\n").filter((line) => line.startsWith('{"type":"result"')).length;
}

describe.each(RUNTIMES)("steering a running Claude Code session, in a %s session", (runtime) => {
  it("between turns: the message is the session's next user turn, and the job ends with its work", async () => {
    let worktree = "";
    const server = await startAnthropicServer({
      script: [
        (request) => {
          worktree = worktreeIn(lastUserText(request));
          return say("Ready. Tell me what NOTES.md should say.");
        },
        (request) =>
          lastUserText(request) === STEER
            ? useTool(
                "Write",
                { file_path: join(worktree, "NOTES.md"), content: NOTES },
                { text: "Writing NOTES.md." },
              )
            : say("I got no instructions."),
        say("NOTES.md is written."),
      ],
    });
    onTestFinished(() => server.close());
    const p = await steeredProject(server, runtime);

    expect((await p.run(["task", "add", "Write the notes"])).code).toBe(0);
    const first = checkInOutput.parse(await p.json(["check-in", "--format=json"]));
    expect(first.actions).toEqual([expect.objectContaining({ issue: 1, action: "advanced" })]);
    const name = await liveSession(p);
    // The first turn ends and Claude Code waits for its next message; no engine is watching.
    await waitFor("the first turn's end", async () =>
      (await resultLines(p, name)) >= 1 ? true : undefined,
    );

    const steer = await p.run(["session", "steer", name, STEER]);
    expect(steer.stderr).toBe("");
    expect(steer.code).toBe(0);
    await waitFor(
      "the steered turn's end",
      async () => ((await resultLines(p, name)) >= 2 ? true : undefined),
      20_000,
    );

    // A new user turn of the same conversation: the first turn's reply, then the message.
    const main = server.mainRequests();
    expect(main).toHaveLength(3);
    const steered = main[1]!;
    expect(steered.messages.at(-1)?.role).toBe("user");
    expect(lastUserText(steered)).toBe(STEER);
    const said = steered.messages.filter((m) => m.role === "assistant").map(messageText);
    expect(said).toEqual(["Ready. Tell me what NOTES.md should say."]);
    expect(toolResults(main[2]!)).toEqual([expect.objectContaining({ isError: false })]);

    // The next check-in sees the turn end, finishes the job, runs the gate and completes.
    const second = checkInOutput.parse(await p.json(["check-in", "--format=json"]));
    expect(second.actions.map((a) => a.action)).toContain("completed");
    const view = await pipelineStatus(p, 1);
    expect(view.status).toBe("completed");
    expect(stageOf(view, "implement")).toMatchObject({
      status: "succeeded",
      attempts: 1,
      fix_rounds: 0,
    });
    expect(worktreeFile(view, "NOTES.md")).toBe(NOTES);
    const [job, ...others] = jobsOf(p);
    expect(others).toEqual([]);
    expect(job?.tokens_in).toBe(server.usage().inputTokens);
    expect(job?.tokens_out).toBe(server.usage().outputTokens);
    expect(eventsOf(p, "session.steered")).toEqual([
      {
        jobId: job?.id,
        data: expect.objectContaining({
          session: name,
          delivered: true,
          message: STEER,
        }) as unknown,
      },
    ]);
    expect(server.exhausted).toBe(0);
  });

  it("as the turn ends: a message that arrives with the final reply is answered before the job ends", async () => {
    let worktree = "";
    const server = await startAnthropicServer({
      script: [
        (request) => {
          worktree = worktreeIn(lastUserText(request));
          // A slow final reply: the message arrives while the model is still writing it.
          return { ...say("Nothing to do yet."), delayMs: 4000 };
        },
        (request) =>
          request.messages.some((m) => messageText(m).includes(STEER))
            ? useTool("Write", { file_path: join(worktree, "NOTES.md"), content: NOTES })
            : say("I got no instructions."),
        say("NOTES.md is written."),
      ],
    });
    onTestFinished(() => server.close());
    const p = await steeredProject(server, runtime);

    const running = p.run(["run", "Write the notes"], { timeoutMs: 30_000 });
    const name = await liveSession(p);
    await waitFor("the model's first request", () =>
      server.mainRequests().length >= 1 ? true : undefined,
    );
    const steer = await p.run(["session", "steer", name, STEER]);
    expect(steer.code, steer.stderr).toBe(0);

    const run = await running;
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const main = server.mainRequests();
    expect(main).toHaveLength(3);
    expect(main[1]!.messages.some((m) => messageText(m).includes(STEER))).toBe(true);
    const view = await pipelineStatus(p, 1);
    expect(view.status).toBe("completed");
    expect(worktreeFile(view, "NOTES.md")).toBe(NOTES);
    expect(jobsOf(p)).toHaveLength(1);
  });

  it("mid-turn: the message joins the running turn and steers what the model does next", async () => {
    let worktree = "";
    let sawSteer = false;
    const server = await startAnthropicServer({
      script: [
        (request) => {
          worktree = worktreeIn(lastUserText(request));
          return useTool("Bash", { command: "sleep 6", description: "Wait for instructions" });
        },
        (request) => {
          // Wherever Claude Code put it in the conversation, the message must be there.
          sawSteer = request.messages.some((m) => messageText(m).includes(STEER));
          return sawSteer
            ? useTool("Write", { file_path: join(worktree, "NOTES.md"), content: NOTES })
            : say("I got no instructions.");
        },
        say("NOTES.md is written."),
      ],
    });
    onTestFinished(() => server.close());
    const p = await steeredProject(server, runtime);

    const running = p.run(["run", "Write the notes"], { timeoutMs: 25_000 });
    const name = await liveSession(p).catch(async (thrown: unknown) => {
      const run = await running;
      throw new Error(`${String(thrown)}\nbaton run: ${JSON.stringify(run)}`);
    });
    await waitFor("the agent's command", () =>
      server.mainRequests().length >= 1 ? true : undefined,
    );
    const steer = await p.run(["session", "steer", name, STEER]);
    expect(steer.stderr).toBe("");
    expect(steer.code).toBe(0);

    const run = await running;
    expect(run.stderr).toBe("");
    expect(run.code, run.stdout).toBe(0);
    expect(sawSteer).toBe(true);
    const main = server.mainRequests();
    expect(main).toHaveLength(3);
    // It arrived while `sleep` ran: the request after the command's result carries it.
    expect(toolResults(main[1]!)).toEqual([expect.objectContaining({ isError: false })]);
    expect(main[0]!.messages.some((m) => messageText(m).includes(STEER))).toBe(false);
    const view = await pipelineStatus(p, 1);
    expect(view.status).toBe("completed");
    expect(worktreeFile(view, "NOTES.md")).toBe(NOTES);
    expect(jobsOf(p)).toHaveLength(1);
    expect(server.exhausted).toBe(0);
  });
});
