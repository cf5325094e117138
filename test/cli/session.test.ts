import { existsSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import {
  assertBuilt,
  isAlive,
  processesWithEnv,
  waitFor,
  type CliProject,
} from "../helpers/cli.js";
import { git } from "../helpers/git-repo.js";
import { agentProject, pipelineStatus, sessionList } from "./kit.js";

beforeAll(assertBuilt);

/** An agent that prints ten numbered lines, then works (sleeps) for a long time. */
const LONG_AGENT = 'for i in 1 2 3 4 5 6 7 8 9 10; do echo "line $i"; done\nsleep 120';

async function startLongSession(): Promise<{
  p: CliProject;
  name: string;
  pid: number;
}> {
  const p = await agentProject("      - id: build\n        prompt: prompts/p.md\n", LONG_AGENT, {
    timeout: "5m",
  });
  expect((await p.run(["task", "add", "Take your time"])).code).toBe(0);
  const checkIn = await p.run(["check-in", "--json"]);
  expect(checkIn.code).toBe(0);
  const { sessions } = sessionList.parse(await p.json(["session", "list", "--json"]));
  expect(sessions).toHaveLength(1);
  const [session] = sessions;
  if (session?.pid == null) {
    throw new Error(`no running session: ${JSON.stringify(sessions)}`);
  }
  return { p, name: session.name, pid: session.pid };
}

describe("baton session list, peek and steer", () => {
  it("lists the running session, prints its last lines, and cannot steer a prompt-file agent", async () => {
    const { p, name, pid } = await startLongSession();
    const { sessions } = sessionList.parse(await p.json(["session", "list", "--json"]));
    expect(sessions[0]).toMatchObject({
      name,
      runtime: "process",
      stage: "build",
      job_status: "running",
      orphan: null,
    });
    expect(["started", "active"]).toContain(sessions[0]?.state);
    expect(isAlive(pid)).toBe(true);
    const table = await p.run(["session", "list"]);
    expect(table.stdout).toContain(name);

    const peek = await waitFor("the agent's ten lines", async () => {
      const result = await p.run(["session", "peek", name, "--lines", "5"]);
      return result.stdout.includes("line 10") ? result : undefined;
    });
    expect(peek.code).toBe(0);
    expect(peek.stdout).toBe("line 6\nline 7\nline 8\nline 9\nline 10\n");

    const steer = await p.run(["session", "steer", name, "please wrap up"]);
    expect(steer.code).toBe(1);
    expect(steer.stderr).toContain("not delivered");
    expect(steer.stderr).toContain("cannot be steered");
    expect(isAlive(pid)).toBe(true);

    const unknown = await p.run(["session", "peek", "no-such-session"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("no session named no-such-session");

    expect((await p.run(["pipeline", "abort", "1"])).code).toBe(0);
    expect(isAlive(pid)).toBe(false);
  });
});

describe("baton pipeline abort --remove-worktree", () => {
  it("kills the session's processes, removes the worktree, keeps the branch; a second abort is refused", async () => {
    const { p, pid } = await startLongSession();
    const running = await pipelineStatus(p, 1);
    const worktree = running.worktree ?? "";
    const branch = running.branch ?? "";
    expect(existsSync(worktree)).toBe(true);
    // The session's wrapper, the agent's shell and its sleep all carry the project's BATON_HOME.
    const before = await waitFor("the agent's sleep", () => {
      const found = processesWithEnv(`BATON_HOME=${p.home}`);
      return found.some((x) => x.command.startsWith("sleep")) ? found : undefined;
    });
    expect(before.map((x) => x.pid)).toContain(pid);

    const abort = await p.run(["pipeline", "abort", "1", "--remove-worktree"]);
    expect(abort.stderr).toBe("");
    expect(abort.code).toBe(0);
    expect(abort.stdout).toContain(`Aborted the pipeline of task #1 and removed ${worktree}`);
    expect(abort.stdout).toContain(`branch ${branch} kept`);

    expect(isAlive(pid)).toBe(false);
    expect(processesWithEnv(`BATON_HOME=${p.home}`)).toEqual([]);
    expect(existsSync(worktree)).toBe(false);
    expect(await git(p.root, ["worktree", "list"])).not.toContain(worktree);
    expect(await git(p.root, ["branch", "--list", branch])).toContain(branch);

    const view = await pipelineStatus(p, 1);
    expect(view.status).toBe("cancelled");
    expect(view.stages[0]?.status).toBe("cancelled");

    for (const args of [
      ["pipeline", "abort", "1"],
      ["pipeline", "abort", "1", "--remove-worktree"],
    ]) {
      const again = await p.run(args);
      expect(again.code, args.join(" ")).toBe(2);
      expect(again.stderr, args.join(" ")).toContain("already cancelled");
      expect(again.stdout, args.join(" ")).toBe("");
    }
  });
});

describe("baton pipeline abort on a finished pipeline", () => {
  it("is refused, but --remove-worktree still removes the worktree (the branch stays)", async () => {
    const p = await agentProject("      - id: build\n        prompt: prompts/p.md\n", "");
    expect((await p.run(["run", "Done already"])).code).toBe(0);
    const done = await pipelineStatus(p, 1);
    const worktree = done.worktree ?? "";
    expect(existsSync(worktree)).toBe(true);

    const abort = await p.run(["pipeline", "abort", "1"]);
    expect(abort.code).toBe(2);
    expect(abort.stderr).toContain("the pipeline of task #1 is already completed");

    const remove = await p.run(["pipeline", "abort", "1", "--remove-worktree"]);
    expect(remove.stderr).toBe("");
    expect(remove.code).toBe(0);
    expect(remove.stdout).toContain("already completed; removed its worktree");
    expect(existsSync(worktree)).toBe(false);
    expect(await git(p.root, ["branch", "--list", done.branch ?? "?"])).toContain(done.branch);
    expect((await pipelineStatus(p, 1)).status).toBe("completed");
  });
});
