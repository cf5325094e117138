/**
 * Routing end to end, one test per router mode, through the built CLI: which agent and model
 * each task's jobs run, as the agent processes themselves see it (`BATON_AGENT`, `BATON_MODEL`
 * and the `{model}` placeholder, written to a file by the command agent), as `baton status`
 * shows it, and as the store keeps it (the pipeline's route, each job's agent and model); the
 * route is also the `pipeline.routed` event `baton analytics issue-detail` lists.
 *
 * - labels: `agent:<name>` picks the agent of stages that take the default agent;
 *   `complexity:<tier>` picks the model through `model_map`, also for a stage that names its
 *   own agent; no labels leaves each agent its own model.
 * - round_robin: tasks take the router's agents in turn; a task with an `agent:` label takes
 *   no turn.
 * - llm: a router agent reads the routing prompt and answers JSON; its answer decides agent and
 *   tier. An answer that is not JSON, asked `max_route_attempts` times, falls back to
 *   `fallback_executor` with a warning on the route.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { assertBuilt, type CliProject } from "../helpers/cli.js";
import { checkInOutput, project, PROMPT } from "../cli/kit.js";

beforeAll(assertBuilt);

/**
 * The command agent: writes what Baton told it (agent, model, the `{model}` argument, its
 * stage) to `.agent/route-<stage>.txt` in the worktree.
 */
const WORK_SH = `#!/bin/sh
set -u
mkdir -p .agent
printf 'agent=%s\\nmodel=%s\\nargv_model=%s\\n' "$BATON_AGENT" "$BATON_MODEL" "$2" > ".agent/route-$BATON_STAGE.txt"
`;

/** Two command agents running the same script, each with a model of its own. */
const AGENTS = `agents:
  alpha:
    command: ["sh", "agents/work.sh", "{prompt_file}", "{model}"]
    model: alpha-default
  beta:
    command: ["sh", "agents/work.sh", "{prompt_file}", "{model}"]
    model: beta-default
model_map:
  simple: { alpha: alpha-mini, beta: beta-mini }
  complex: { alpha: alpha-max, beta: beta-max }
`;

function config(router: string, stages: string): string {
  return `version: 1
defaults:
  agent: alpha
  runtime: process
  timeout: 30s
  stall_timeout: 30s
  grace: 1s
limits:
  max_running_pipelines: 6
${AGENTS}${router}pipelines:
  default:
    stages:
${stages}`;
}

const BUILD_STAGE = `      - id: build
        prompt: prompts/p.md
`;

/** `build` takes the routed agent; `review` names its agent, so only its model is routed. */
const BUILD_AND_REVIEW = `${BUILD_STAGE}      - id: review
        needs: [build]
        agent: alpha
        prompt: prompts/p.md
`;

function routedProject(router: string, stages: string): Promise<CliProject> {
  return project({
    config: config(router, stages),
    files: { "agents/work.sh": WORK_SH, "prompts/p.md": PROMPT },
  });
}

/** Every pipeline of the project, from one `baton status --format=json`. */
const statusView = z.object({
  pipelines: z.array(
    z.object({
      task: z.number().int(),
      status: z.string(),
      worktree: z.string().nullable(),
      stages: z.array(z.object({ id: z.string(), agent: z.string().nullable() })),
    }),
  ),
});
type TaskView = z.infer<typeof statusView>["pipelines"][number];

async function allTasks(p: CliProject): Promise<Map<number, TaskView>> {
  const view = statusView.parse(await p.json(["status", "--format=json"]));
  return new Map(view.pipelines.map((v) => [v.task, v]));
}

/** What the agent of `stage` saw: `[BATON_AGENT, BATON_MODEL, {model} argument]`. */
function seen(view: TaskView | undefined, stage: string): [string, string, string] {
  const text = readFileSync(join(view?.worktree ?? "?", `.agent/route-${stage}.txt`), "utf8");
  const value = (key: string): string => new RegExp(`^${key}=(.*)$`, "m").exec(text)?.[1] ?? "?";
  return [value("agent"), value("model"), value("argv_model")];
}

/** The agent `baton status` shows for a stage. */
function shownAgent(view: TaskView | undefined, stage: string): string | null {
  return view?.stages.find((s) => s.id === stage)?.agent ?? null;
}

/** `baton run` with labels, expected to complete. */
async function runTask(p: CliProject, title: string, labels: string[]): Promise<void> {
  const args = ["run", title, ...labels.flatMap((l) => ["--label", l])];
  const result = await p.run(args);
  expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
}

const routeShape = z.object({
  agent: z.string(),
  model: z.string().nullable(),
  complexity: z.string().nullable(),
  reason: z.string(),
  warning: z.string().nullable(),
});
type Route = z.infer<typeof routeShape>;

const issueDetail = z.object({
  pipelines: z.array(
    z.object({
      events: z.array(z.object({ kind: z.string(), data: z.record(z.string(), z.unknown()) })),
    }),
  ),
});

/** The `pipeline.routed` events of task `n`, as `baton analytics issue-detail` shows them. */
async function routedEvents(p: CliProject, n: number): Promise<Route[]> {
  const detail = issueDetail.parse(
    await p.json(["analytics", "issue-detail", String(n), "--format=json"]),
  );
  return (detail.pipelines[0]?.events ?? [])
    .filter((e) => e.kind === "pipeline.routed")
    .map((e) => routeShape.parse(e.data));
}

interface Stored {
  /** Each task's route as its pipeline keeps it (`null`: not routed). */
  routes: Map<number, Route | null>;
  /** `[task, stage, agent, model]` of every job. */
  jobs: [number, string, string | null, string | null][];
}

/** The routes and jobs as the project's store keeps them. */
function stored(p: CliProject): Stored {
  const db = new Database(join(p.home, "baton.db"), { readonly: true, fileMustExist: true });
  try {
    const pipelines = z
      .array(z.object({ task: z.number(), route: z.string().nullable() }))
      .parse(db.prepare("select task_number as task, route from pipelines").all());
    const jobs = z
      .array(
        z.object({
          task: z.number(),
          stage_id: z.string(),
          agent: z.string().nullable(),
          model: z.string().nullable(),
        }),
      )
      .parse(
        db
          .prepare(
            `select p.task_number as task, j.stage_id, j.agent, j.model
               from jobs j join pipelines p on p.id = j.pipeline_id
              order by p.task_number, j.seq`,
          )
          .all(),
      );
    return {
      routes: new Map(
        pipelines.map((r) => [
          r.task,
          r.route === null ? null : routeShape.parse(JSON.parse(r.route)),
        ]),
      ),
      jobs: jobs.map((r) => [r.task, r.stage_id, r.agent, r.model]),
    };
  } finally {
    db.close();
  }
}

describe("routing by labels", () => {
  it("agent: picks the agent, complexity: picks the model through model_map, and both reach the agent", async () => {
    const p = await routedProject("", BUILD_AND_REVIEW);
    await runTask(p, "Labelled both ways", ["agent:beta", "complexity:complex"]);
    await runTask(p, "Only a tier", ["complexity:simple"]);
    await runTask(p, "No labels", []);
    await runTask(p, "Unknown agent", ["agent:gamma"]);
    const tasks = await allTasks(p);
    expect([...tasks.values()].map((t) => t.status)).toEqual(Array(4).fill("completed"));

    // agent:beta and complexity:complex: build runs beta's complex model; review names alpha,
    // so it keeps its agent, and the tier still picks alpha's model.
    expect(seen(tasks.get(1), "build")).toEqual(["beta", "beta-max", "beta-max"]);
    expect(seen(tasks.get(1), "review")).toEqual(["alpha", "alpha-max", "alpha-max"]);
    expect(shownAgent(tasks.get(1), "build")).toBe("beta");
    expect(await routedEvents(p, 1)).toEqual([
      {
        agent: "beta",
        model: "beta-max",
        complexity: "complex",
        reason: "label agent:beta",
        warning: null,
      },
    ]);
    // A tier alone: the default agent, at that tier's model.
    expect(seen(tasks.get(2), "build")).toEqual(["alpha", "alpha-mini", "alpha-mini"]);
    expect(seen(tasks.get(2), "review")).toEqual(["alpha", "alpha-mini", "alpha-mini"]);
    // No labels: no route, and each agent runs its own model.
    expect(seen(tasks.get(3), "build")).toEqual(["alpha", "alpha-default", "alpha-default"]);
    // An agent: label naming no agent is ignored, with a warning on the route.
    expect(seen(tasks.get(4), "build")).toEqual(["alpha", "alpha-default", "alpha-default"]);

    const { routes, jobs } = stored(p);
    expect(routes.get(2)).toMatchObject({ agent: "alpha", model: "alpha-mini", warning: null });
    expect(routes.get(3)).toBeNull();
    expect(routes.get(4)?.warning).toBe(
      "label agent:gamma names no agent this pipeline can run; ignored",
    );
    expect(jobs).toEqual([
      [1, "build", "beta", "beta-max"],
      [1, "review", "alpha", "alpha-max"],
      [2, "build", "alpha", "alpha-mini"],
      [2, "review", "alpha", "alpha-mini"],
      [3, "build", "alpha", null],
      [3, "review", "alpha", null],
      [4, "build", "alpha", null],
      [4, "review", "alpha", null],
    ]);
  });
});

describe("round-robin routing", () => {
  it("gives consecutive tasks the router's agents in turn; an agent: label takes no turn", async () => {
    const p = await routedProject(
      "router:\n  mode: round_robin\n  agents: [alpha, beta]\n",
      BUILD_STAGE,
    );
    for (let n = 1; n <= 5; n += 1) {
      const label = n === 3 ? ["--label", "agent:beta"] : [];
      const added = await p.run(["task", "add", `Task ${n}`, ...label]);
      expect(added.code, added.stderr).toBe(0);
    }
    // Check-ins drive them all at once (five pipelines may run).
    const completed = new Set<number>();
    for (let tick = 0; tick < 40 && completed.size < 5; tick += 1) {
      const result = await p.run(["check-in", "--format=json"]);
      expect(result.code, result.stderr).toBe(0);
      for (const action of checkInOutput.parse(JSON.parse(result.stdout)).actions) {
        if (action.action === "completed") {
          completed.add(action.issue);
        }
      }
    }
    expect([...completed].sort()).toEqual([1, 2, 3, 4, 5]);

    const tasks = await allTasks(p);
    const agents = [1, 2, 3, 4, 5].map((n) => {
      const [agent, model] = seen(tasks.get(n), "build");
      expect(model).toBe(`${agent}-default`);
      expect(shownAgent(tasks.get(n), "build")).toBe(agent);
      return agent;
    });
    expect(agents).toEqual(["alpha", "beta", "beta", "alpha", "beta"]);
    const { routes } = stored(p);
    expect([1, 2, 3, 4, 5].map((n) => routes.get(n)?.reason)).toEqual([
      "round robin (1 of 2)",
      "round robin (2 of 2)",
      "label agent:beta",
      "round robin (1 of 2)",
      "round robin (2 of 2)",
    ]);
  });
});

/**
 * The llm router as a command agent, the project's own script run as `sh agents/router.sh
 * <prompt_file>` from the checkout. It keeps what it was asked under `BATON_HOME` (which Baton
 * gives it): one line per call in `router-calls`, and the prompt of task n in
 * `router-prompt-<n>.md`.
 */
function routerScript(answer: string): string {
  return [
    'echo "$BATON_TASK" >> "$BATON_HOME/router-calls"',
    'cp "$1" "$BATON_HOME/router-prompt-$BATON_TASK.md"',
    answer,
    "",
  ].join("\n");
}

const ROUTER_AGENT = `  router:
    command: ["sh", "agents/router.sh", "{prompt_file}"]
`;

function llmProject(answer: string, routerOptions: string): Promise<CliProject> {
  const text = config(
    `router:\n  mode: llm\n  agent: router\n  agents: [alpha, beta]\n${routerOptions}`,
    BUILD_AND_REVIEW,
  ).replace("model_map:", `${ROUTER_AGENT}model_map:`);
  return project({
    config: text,
    files: {
      "agents/work.sh": WORK_SH,
      "agents/router.sh": routerScript(answer),
      "prompts/p.md": PROMPT,
    },
  });
}

function routerCalls(p: CliProject): string[] {
  return readFileSync(join(p.home, "router-calls"), "utf8").trim().split("\n");
}

describe("llm routing", () => {
  it("asks the router agent, and runs the agent and tier its JSON answer names", async () => {
    // Refactors go to beta as complex work; anything else to alpha as simple work.
    const answer = [
      'if grep -q Refactor "$1"; then',
      '  echo \'Refactors are hard. {"agent": "beta", "complexity": "complex", "reason": "a refactor"}\'',
      "else",
      '  echo \'{"agent": "alpha", "complexity": "simple", "reason": "small change"}\'',
      "fi",
    ].join("\n");
    const p = await llmProject(answer, "");
    await runTask(p, "Refactor the parser", []);
    await runTask(p, "Fix a typo", ["team:docs"]);

    const tasks = await allTasks(p);
    expect(seen(tasks.get(1), "build")).toEqual(["beta", "beta-max", "beta-max"]);
    expect(seen(tasks.get(1), "review")).toEqual(["alpha", "alpha-max", "alpha-max"]);
    expect(seen(tasks.get(2), "build")).toEqual(["alpha", "alpha-mini", "alpha-mini"]);
    const { routes, jobs } = stored(p);
    expect(routes.get(1)).toEqual({
      agent: "beta",
      model: "beta-max",
      complexity: "complex",
      reason: "llm router: a refactor",
      warning: null,
    });
    expect(routes.get(2)).toMatchObject({ agent: "alpha", complexity: "simple" });
    expect(jobs).toEqual([
      [1, "build", "beta", "beta-max"],
      [1, "review", "alpha", "alpha-max"],
      [2, "build", "alpha", "alpha-mini"],
      [2, "review", "alpha", "alpha-mini"],
    ]);

    // One call per task, and the prompt shows the task, its labels and the agents to pick from.
    expect(routerCalls(p)).toEqual(["1", "2"]);
    const prompt = readFileSync(join(p.home, "router-prompt-2.md"), "utf8");
    expect(prompt).toContain("Task #2: Fix a typo");
    expect(prompt).toContain("Labels: team:docs");
    expect(prompt).toContain("- alpha (command, alpha-default)\n- beta (command, beta-default)");
    expect(prompt).toContain("Complexity: simple, medium, complex.");
  });

  it("falls back to fallback_executor after max_route_attempts unusable answers, with a warning", async () => {
    const p = await llmProject(
      "echo 'I would give it to beta, probably.'",
      "  max_route_attempts: 3\n  fallback_executor: beta\n",
    );

    const result = await p.run(["run", "Route me"]);
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    const warning =
      "routing failed after 3 attempt(s): no JSON object " +
      '{"agent", "complexity", "reason"} in the answer: I would give it to beta, probably.';
    // `baton run` says where the task went and why.
    expect(result.stdout).toContain(
      `routed to beta: router failed; fallback executor beta; warning: ${warning}`,
    );

    expect(routerCalls(p)).toEqual(["1", "1", "1"]);
    const tasks = await allTasks(p);
    expect(tasks.get(1)?.status).toBe("completed");
    expect(seen(tasks.get(1), "build")).toEqual(["beta", "beta-default", "beta-default"]);
    const route = {
      agent: "beta",
      model: null,
      complexity: null,
      reason: "router failed; fallback executor beta",
      warning,
    };
    expect(stored(p).routes.get(1)).toEqual(route);
    expect(await routedEvents(p, 1)).toEqual([route]);
    // Each unusable answer is in the operator log too.
    const log = readFileSync(join(p.home, "logs", "baton.log"), "utf8");
    expect(log.match(/the router's answer was unusable/g)).toHaveLength(3);
  });
});
