/**
 * Jobs in tmux sessions on a private tmux server per test: a person attaching holds off
 * steering and the stall timer, and detaching lets them resume, with the time the person held
 * the session recorded.
 */
import { afterEach, describe, expect, it } from "vitest";
import { Engine } from "../../src/engine/engine.js";
import { listEvents } from "../../src/store/events.repository.js";
import { listJobs } from "../../src/store/jobs.repository.js";
import { listSessions } from "../../src/store/sessions.repository.js";
import { makeEngineEnv, type EngineEnv } from "../helpers/engine-env.js";
import { createTmuxKit, sleep, type TmuxKit } from "../sessions/tmux-kit.js";

const CONFIG = `version: 1
defaults:
  agent: quiet
  runtime: tmux
agents:
  quiet:
    command: ["sh", "-c", "echo started; exec sleep 600", "agent", "{prompt_file}"]
pipelines:
  default:
    stages:
      - { id: work, prompt: p.md, stall_timeout: 1s, timeout: 1m, grace: 1s }
`;

describe("a person in a tmux session", () => {
  let env: EngineEnv | undefined;
  let kit: TmuxKit | undefined;
  afterEach(async () => {
    await env?.cleanup();
    await kit?.cleanup();
    env = undefined;
    kit = undefined;
  });

  async function tick(engineEnv: EngineEnv): Promise<string[]> {
    const engine = new Engine(engineEnv.ctx, { mode: "check-in" });
    try {
      return (await engine.checkIn()).map((a) => `${a.action}: ${a.message}`);
    } finally {
      await engine.close();
    }
  }

  it("holds off steering and the stall timer while attached, and resumes them after", async () => {
    kit = await createTmuxKit();
    env = await makeEngineEnv({ dialect: "sqlite", config: CONFIG, files: { "p.md": "Go.\n" } });
    env.ctx.runtimes.tmux = kit.runtime;
    const { pipeline } = await env.addTask("Watched");
    await tick(env);
    const [session] = await listSessions(env.ctx.store.db, { pipelineIds: [pipeline.id] });
    if (session === undefined) {
      throw new Error("no session started");
    }
    expect(session.runtime).toBe("tmux");
    const client = await kit.attach(session.name);

    // Silent well past its stall timeout, but a person is there: nothing is sent, nothing killed.
    for (let i = 0; i < 4; i += 1) {
      await sleep(600);
      const actions = await tick(env);
      expect(actions).toEqual(["skip: a human is attached to the session"]);
    }
    const held = await listSessions(env.ctx.store.db, { pipelineIds: [pipeline.id] });
    expect(held[0]?.steeredAt).toBeNull();
    expect(held[0]?.humanSince).not.toBeNull();

    await client.detach();
    // The person left: the stall timer counts again from here, so first a wrap-up message...
    const seen: string[] = [];
    for (let i = 0; i < 40 && !seen.some((a) => a.startsWith("steer")); i += 1) {
      seen.push(...(await tick(env)));
      await sleep(200);
    }
    expect(seen.some((a) => a.startsWith("steer: past its stall timeout"))).toBe(true);
    // ...then, after the grace period, the kill.
    for (let i = 0; i < 40 && (await env.pipeline(pipeline.id)).status === "running"; i += 1) {
      await tick(env);
      await sleep(200);
    }
    const [job] = await listJobs(env.ctx.store.db, [pipeline.id]);
    expect(job).toMatchObject({ status: "failed", errorClass: "stall" });
    const events = await listEvents(env.ctx.store.db, {
      pipelineId: pipeline.id,
      kinds: ["session.human"],
    });
    expect(events.map((e) => e.data.attached)).toEqual([true, false]);
    // Counted from the first tick that saw the person: about the four ticks they stayed.
    expect(Number(events[1]?.data.heldMs)).toBeGreaterThanOrEqual(1500);
    const [after] = await listSessions(env.ctx.store.db, { pipelineIds: [pipeline.id] });
    expect(after?.humanMs).toBe(Number(events[1]?.data.heldMs));
  });
});
