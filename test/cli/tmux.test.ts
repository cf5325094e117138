/**
 * Sessions in tmux, through the CLI, each test on a private tmux server (BATON_TMUX_SOCKET):
 * adoption after the engine is SIGKILLed, steering a multi-line message into an interactive
 * program, peek and stream showing exactly what it printed, orphans both ways, and a gc that
 * never touches a tmux session Baton did not start.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import {
  assertBuilt,
  BATON_ROOT,
  makeCliProject,
  waitFor,
  type CliProject,
} from "../helpers/cli.js";
import { sessionList } from "./kit.js";

beforeAll(assertBuilt);

/** A line-reading program: prints `got: <line>` for each line it reads from its terminal. */
const ECHO_PROGRAM = `process.stdout.write("ready\\n");
require("node:readline").createInterface({ input: process.stdin }).on("line", (l) => process.stdout.write("got: " + l + "\\n"));
setInterval(() => {}, 1000);`;

function config(agentArgv: string[], extra = ""): string {
  return `version: 1
defaults:
  agent: prog
  runtime: tmux
  timeout: 5m
agents:
  prog:
    command: ${JSON.stringify(agentArgv)}
pipelines:
  default:
    stages:
      - { id: work, prompt: p.md${extra} }
`;
}

/** What the echo program answered, in order: the text after each `got: `. */
function replies(output: string): string[] {
  return [...output.matchAll(/got: ([a-z]+ line)/g)].map((m) => m[1] ?? "");
}

const sockets: string[] = [];

function tmux(socket: string, args: string[]): { code: number | null; stdout: string } {
  const result = spawnSync("tmux", ["-L", socket, "-f", "/dev/null", ...args], {
    encoding: "utf8",
  });
  return { code: result.status, stdout: result.stdout };
}

function newSocket(prefix: string): string {
  const socket = `${prefix}-${randomBytes(4).toString("hex")}`;
  sockets.push(socket);
  return socket;
}

async function tmuxProject(
  agentArgv: string[],
  files: Record<string, string> = {},
): Promise<{ p: CliProject; socket: string; env: Record<string, string> }> {
  const socket = newSocket("test");
  const p = await makeCliProject({
    config: config(agentArgv),
    files: { "p.md": "Go.\n", ...files },
  });
  return { p, socket, env: { BATON_TMUX_SOCKET: socket } };
}

const projects: CliProject[] = [];

afterEach(async () => {
  // The servers first: a project's cleanup fails on processes of its sessions still running.
  for (const socket of sockets.splice(0)) {
    // Sessions' wrappers outlive a closed terminal on purpose (they record the exit): end the
    // panes' process groups first.
    for (const pid of tmux(socket, ["list-panes", "-a", "-F", "#{pane_pid}"]).stdout.split("\n")) {
      if (/^\d+$/.test(pid)) {
        try {
          process.kill(-Number(pid), "SIGKILL");
        } catch {
          // Already gone.
        }
      }
    }
    tmux(socket, ["kill-server"]);
    rmSync(join("/tmp", `tmux-${process.getuid?.() ?? 0}`, socket), { force: true });
  }
  for (const p of projects.splice(0)) {
    await p.cleanup();
  }
});

async function sessionOf(
  p: CliProject,
  env: Record<string, string>,
): Promise<{ name: string; pid: number | null; runtime: string }> {
  const { sessions } = sessionList.parse(await p.json(["session", "list", "--json"], { env }));
  const [session] = sessions;
  if (session === undefined) {
    throw new Error("no session");
  }
  return session;
}

describe("tmux sessions through the CLI", () => {
  it("adopts a tmux session after the engine is SIGKILLed, and finishes the pipeline", async () => {
    const { p, env } = await tmuxProject([
      "sh",
      "-c",
      "echo start >> ../runs; while [ ! -e ../release ]; do sleep 0.05; done; echo done",
      "agent",
      "{prompt_file}",
    ]);
    projects.push(p);
    const run = spawn(process.execPath, [join(BATON_ROOT, "bin", "baton.js"), "run", "survive"], {
      cwd: p.root,
      env: {
        ...process.env,
        HOME: join(p.base, "user"),
        BATON_HOME: p.home,
        NO_COLOR: "1",
        TMPDIR: p.tmp,
        ...env,
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let runErr = "";
    run.stderr.setEncoding("utf8").on("data", (chunk: string) => (runErr += chunk));
    const session = await waitFor(
      "the tmux session",
      async () => {
        if (run.exitCode !== null) {
          throw new Error(`baton run exited ${run.exitCode} early: ${runErr}`);
        }
        const { sessions } = sessionList.parse(
          await p.json(["session", "list", "--json"], { env }),
        );
        return sessions[0]?.runtime === "tmux" && sessions[0].state !== "starting"
          ? sessions[0]
          : undefined;
      },
      45_000,
    );
    run.kill("SIGKILL");
    await new Promise((resolve) => run.once("close", resolve));
    const live = tmux(env.BATON_TMUX_SOCKET ?? "", ["list-sessions", "-F", "#{session_name}"]);
    expect(live.stdout.split("\n")).toContain(session.name);

    const tick = await p.json(["check-in", "--json"], { env });
    expect(tick).toMatchObject({ actions: [{ action: "skip" }] });
    const worktree = join(p.home, "worktrees");
    const { readdirSync, writeFileSync } = await import("node:fs");
    for (const project of readdirSync(worktree)) {
      writeFileSync(join(worktree, project, "baton", "release"), "");
    }
    // Each check-in drives the pipeline; the status says when it is done (the action that
    // completed it may come from a check-in that also finalized the job).
    const seen: string[] = [];
    await waitFor(
      "the pipeline to complete",
      async () => {
        const result = (await p.json(["check-in", "--json"], { env })) as {
          actions: { action: string }[];
        };
        seen.push(result.actions.map((a) => a.action).join(","));
        const view = (await p.json(["pipeline", "status", "1", "--format", "json"], { env })) as {
          status: string;
        };
        return view.status === "completed" ? true : undefined;
      },
      45_000,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}; check-in actions: ${seen.join(" | ")}`);
    });
    const { readFileSync } = await import("node:fs");
    const runsFile = join(worktree, readdirSync(worktree)[0] ?? "", "baton", "runs");
    expect(readFileSync(runsFile, "utf8")).toBe("start\n");
  }, 90_000);

  it("steers a multi-line message into an interactive program, whole and submitted; peek and stream show what it printed", async () => {
    // The prompt goes by file, so the program's stdin is its terminal.
    const { p, env } = await tmuxProject(["node", "-e", ECHO_PROGRAM, "{prompt_file}"]);
    projects.push(p);
    expect((await p.run(["task", "add", "Talk to me"], { env })).code).toBe(0);
    await p.json(["check-in", "--json"], { env });
    const session = await sessionOf(p, env);
    await waitFor("the program to be ready", async () => {
      const peek = await p.run(["session", "peek", session.name, "--lines", "5"], { env });
      return peek.stdout.includes("ready") ? true : undefined;
    });
    const steer = await p.run(
      ["session", "steer", session.name, "first line\nsecond line\nthird line"],
      { env },
    );
    expect(steer.stderr).toBe("");
    expect(steer.code).toBe(0);
    const peek = await waitFor("the three lines", async () => {
      const result = await p.run(["session", "peek", session.name, "--lines", "20"], { env });
      return result.stdout.includes("got: third line") ? result.stdout : undefined;
    });
    // The terminal echoes what was typed, so a reply may share a row with the last echoed line.
    expect(replies(peek)).toEqual(["first line", "second line", "third line"]);

    // Two viewers follow the same output; each sees every line once, in order.
    const base = {
      ...process.env,
      HOME: join(p.base, "user"),
      BATON_HOME: p.home,
      NO_COLOR: "1",
      TMPDIR: p.tmp,
      ...env,
    };
    const viewers = [0, 1].map(() => {
      const child = spawn(
        process.execPath,
        [join(BATON_ROOT, "bin", "baton.js"), "session", "stream", "1"],
        { cwd: p.root, env: base },
      );
      let text = "";
      child.stdout.on("data", (d: Buffer) => (text += d.toString()));
      const closed = new Promise((resolve) => child.once("close", resolve));
      return { closed, text: () => text };
    });
    await waitFor("both viewers to show the history", () =>
      viewers.every((v) => v.text().includes("got: third line")) ? true : undefined,
    );
    expect((await p.run(["session", "steer", session.name, "fourth line"], { env })).code).toBe(0);
    await waitFor("both viewers to show the new line", () =>
      viewers.every((v) => v.text().includes("got: fourth line")) ? true : undefined,
    );
    expect((await p.run(["pipeline", "abort", "1"], { env })).code).toBe(0);
    for (const viewer of viewers) {
      await viewer.closed;
      // Each reply once, in order: the log holds every byte once, echoes included.
      expect(replies(viewer.text())).toEqual([
        "first line",
        "second line",
        "third line",
        "fourth line",
      ]);
    }
  });

  it("refuses to steer a headless agent that reads no messages, though its terminal would echo them", async () => {
    // A stand-in for `codex exec`: it runs until killed and reads nothing but its prompt.
    const bin = join(tmpdir(), `baton-fake-codex-${randomBytes(4).toString("hex")}`);
    mkdirSync(bin);
    writeFileSync(join(bin, "codex"), "#!/bin/sh\nexec sleep 60\n", { mode: 0o755 });
    onTestFinished(() => rmSync(bin, { recursive: true, force: true }));
    const socket = newSocket("test");
    const env = { BATON_TMUX_SOCKET: socket };
    const p = await makeCliProject({
      config: `version: 1
defaults:
  agent: quiet
  runtime: tmux
agents:
  quiet:
    adapter: codex
    env: { PATH: "${bin}:/usr/bin:/bin" }
pipelines:
  default:
    stages:
      - { id: work, prompt: p.md }
`,
      files: { "p.md": "Go.\n" },
    });
    projects.push(p);
    expect((await p.run(["task", "add", "Work quietly"], { env })).code).toBe(0);
    await p.json(["check-in", "--json"], { env });
    const session = await sessionOf(p, env);
    const steer = await p.run(["session", "steer", session.name, "are you there?"], { env });
    expect(steer.code).toBe(1);
    expect(steer.stderr).toContain(
      "not delivered: agent quiet (codex) runs headless and reads no messages while it works",
    );
    const peek = await p.run(["session", "peek", session.name, "--lines", "20"], { env });
    expect(peek.stdout).not.toContain("are you there?");
  });

  it("marks orphans both ways, and gc removes only what Baton started", async () => {
    const { p, socket, env } = await tmuxProject([
      "sh",
      "-c",
      "exec sleep 300",
      "agent",
      "{prompt_file}",
    ]);
    projects.push(p);
    expect((await p.run(["task", "add", "Orphans"], { env })).code).toBe(0);
    await p.json(["check-in", "--json"], { env });
    const recorded = await sessionOf(p, env);

    // A session Baton started but never recorded (an engine died in between): its directory exists.
    const { mkdirSync } = await import("node:fs");
    const stray = "baton-stray-1-work-9";
    mkdirSync(join(p.home, "sessions", stray), { recursive: true });
    expect(tmux(socket, ["new-session", "-d", "-s", stray, "sleep 300"]).code).toBe(0);
    // A person's own session on Baton's server, and one on their default server: never touched.
    expect(tmux(socket, ["new-session", "-d", "-s", "mine", "sleep 300"]).code).toBe(0);
    const userDefault = newSocket("test-default");
    expect(
      tmux(userDefault, ["new-session", "-d", "-s", "baton-lookalike-1-work-1", "sleep 300"]).code,
    ).toBe(0);
    // The recorded session disappears behind Baton's back.
    expect(tmux(socket, ["kill-session", "-t", `=${recorded.name}`]).code).toBe(0);

    const { sessions } = sessionList.parse(await p.json(["session", "list", "--json"], { env }));
    expect(sessions.map((s) => [s.name, s.orphan])).toEqual([
      [recorded.name, "no-tmux"],
      [stray, "no-db"],
    ]);

    const gc = (await p.json(["session", "gc", "--json"], { env })) as {
      removed: { what: string }[];
    };
    expect(gc.removed.map((r) => r.what)).toEqual([stray]);
    const left = tmux(socket, ["list-sessions", "-F", "#{session_name}"]).stdout.trim().split("\n");
    expect(left).toEqual(["mine"]);
    expect(tmux(userDefault, ["list-sessions", "-F", "#{session_name}"]).stdout.trim()).toBe(
      "baton-lookalike-1-work-1",
    );
    // Aborting ends the orphaned session's processes too, though its terminal is gone.
    expect((await p.run(["pipeline", "abort", "1"], { env })).code).toBe(0);
  });
});
