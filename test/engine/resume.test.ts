/**
 * An engine that died between spawning a session and recording it leaves a job `starting`
 * with a lease nobody holds and a session directory with the wrapper's pid file. The next
 * engine must adopt that session, not start the job a second time.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Engine } from "../../src/engine/engine.js";
import { insertJob, listJobs, nextJobSeq } from "../../src/store/jobs.repository.js";
import { setPipelineStatus } from "../../src/store/pipelines.repository.js";
import { listSessions } from "../../src/store/sessions.repository.js";
import { makeEngineEnv, type EngineEnv } from "../helpers/engine-env.js";
import { DIALECTS } from "../helpers/store.js";

const CONFIG = `version: 1
defaults:
  agent: worker
  runtime: process
agents:
  worker:
    command: ["sh", "-c", "echo run >> ../runs; sleep 0.3", "agent", "{prompt_file}"]
pipelines:
  default:
    stages:
      - { id: work, prompt: p.md }
`;

for (const dialect of DIALECTS) {
  describe(`resuming a job left starting on ${dialect}`, () => {
    let env: EngineEnv | undefined;
    afterEach(async () => {
      await env?.cleanup();
      env = undefined;
    });

    it("adopts the session the dead engine spawned instead of starting the job again", async () => {
      env = await makeEngineEnv({ dialect, config: CONFIG, files: { "p.md": "Go.\n" } });
      const { ctx, project } = env;
      const { pipeline, task } = await env.addTask("Half started");
      await setPipelineStatus(ctx.store.db, pipeline.id, {
        from: ["pending"],
        to: "running",
        reason: null,
        now: ctx.clock(),
      });
      // The dead engine's claim: the job is starting under a lease that expired long ago.
      const seq = await nextJobSeq(ctx.store.db, pipeline.id);
      const job = await insertJob(ctx.store.db, {
        id: "job_dead_engine",
        pipelineId: pipeline.id,
        seq,
        job: {
          stageId: "work",
          role: "head",
          kind: "agent",
          parentJobId: null,
          member: null,
          trigger: "initial",
          attempt: 1,
          fixRound: 0,
          agent: "worker",
          model: null,
          notBefore: null,
          routedFrom: null,
          context: {},
          deps: [],
        },
        parentJobId: null,
        status: "starting",
        tokenHash: "x",
        lease: { token: "dead", holder: "elsewhere:1:1:x", expiresAt: ctx.clock() - 60_000 },
        now: ctx.clock(),
      });
      // …and the session it spawned just before dying, in the job's own session directory.
      const worktree = join(
        env.home,
        "worktrees",
        project.name,
        "baton",
        `${task.number}-half-started`,
      );
      const { execFileSync } = await import("node:child_process");
      execFileSync(
        "git",
        ["worktree", "add", "-q", "-b", `baton/${task.number}-half-started`, worktree],
        { cwd: env.root },
      );
      const name = `baton-${project.name}-${task.number}-work-${job.seq}`;
      const runtime = ctx.runtimes.process;
      if (runtime === undefined) {
        throw new Error("no process runtime");
      }
      await runtime.start({
        name,
        dir: join(ctx.paths.sessions, name),
        argv: ["sh", "-c", "echo run >> ../runs; sleep 0.3"],
        cwd: worktree,
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
        stdin: { kind: "null" },
      });

      for (let tick = 0; tick < 60; tick += 1) {
        const engine = new Engine(ctx, { mode: "check-in" });
        await engine.checkIn();
        await engine.close();
        if ((await env.pipeline(pipeline.id)).status === "completed") {
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect((await env.pipeline(pipeline.id)).status).toBe("completed");
      const jobs = await listJobs(ctx.store.db, [pipeline.id]);
      expect(jobs.map((j) => [j.id, j.status])).toEqual([["job_dead_engine", "succeeded"]]);
      const sessions = await listSessions(ctx.store.db, { pipelineIds: [pipeline.id] });
      expect(sessions.map((s) => s.name)).toEqual([name]);
      // It ran once: the engine adopted the running session rather than spawning another.
      expect(readFileSync(join(worktree, "..", "runs"), "utf8")).toBe("run\n");
    });
  });
}
