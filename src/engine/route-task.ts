/**
 * The llm router: an agent reads the task and answers which agent should do it and how hard it
 * is. Asked up to `max_route_attempts` times; an answer that is not the JSON asked for, names
 * an unknown agent or tier, or never comes, falls back to `fallback_executor` with a warning
 * recorded on the route. The task's labels still win over the answer.
 */
import { join } from "node:path";
import { EVENTS } from "../core/events.js";
import type { RouteResult } from "../core/pipeline-def.js";
import { COMPLEXITY_TIERS } from "../core/pipeline-def.js";
import { parseRouterAnswer, routeFromAnswer, type RouterAnswer } from "../core/routing.js";
import { renderTemplate } from "../core/template.js";
import { coerceError } from "../lib/coerce-error.js";
import { appendEvents } from "../store/events.repository.js";
import { setPipelineRoute } from "../store/pipelines.repository.js";
import type { EngineContext } from "./context.js";
import { runOneShot } from "./one-shot.js";
import type { LoadedPipeline } from "./snapshot.js";

/** Baton's routing prompt, used unless `router.prompt` names another. */
export const ROUTING_PROMPT = `You choose which coding agent should work on a task, and how hard the task is.
Do not change any files; only answer.

Task #{{task.number}}: {{task.title}}

{{task.body}}

Labels: {{task.labels}}

Agents to choose from:
{{router.agents}}

Complexity: {{router.tiers}}.

Answer with exactly one JSON object and nothing else:
{"agent": "<one of the agents above>", "complexity": "<one of the complexities>", "reason": "<one sentence>"}
`;

/**
 * Routes the pipeline's task and records the route (once: a route already recorded stays).
 * Never throws for the router's own failures; those end in the fallback.
 */
export async function routeTask(ctx: EngineContext, lp: LoadedPipeline): Promise<RouteResult> {
  const { snapshot } = lp.pipeline;
  const router = snapshot.router;
  const pool = router.agents.filter((name) => snapshot.agents[name] !== undefined);
  const routerAgent = snapshot.agents[router.agent ?? snapshot.defaults.agent];
  const prompt = renderTemplate(router.prompt?.template ?? ROUTING_PROMPT, {
    task: {
      number: lp.task.number,
      title: lp.task.title,
      body: lp.task.body,
      labels: lp.task.labels.length === 0 ? "(none)" : lp.task.labels.join(", "),
    },
    router: {
      agents: pool
        .map((name) => {
          const agent = snapshot.agents[name];
          return `- ${name} (${agent?.adapter ?? "?"}${agent?.model == null ? "" : `, ${agent.model}`})`;
        })
        .join("\n"),
      tiers: COMPLEXITY_TIERS.join(", "),
    },
  }).text;
  let answer: RouterAnswer | { problem: string } = {
    problem: `router agent ${router.agent ?? snapshot.defaults.agent} is not defined`,
  };
  const routeDir = join(ctx.paths.sessions, `route-${lp.pipeline.id}`);
  // A command router is the project's own program (`node tools/router.mjs`), run from the
  // checkout like its other commands; an agent CLI works in a directory of its own and is kept
  // out of the checkout.
  const ownProgram = routerAgent?.adapter === "command";
  for (
    let attempt = 1;
    routerAgent !== undefined && attempt <= router.maxRouteAttempts;
    attempt++
  ) {
    try {
      const result = await runOneShot({
        agent: routerAgent,
        model: router.model,
        prompt,
        name: `route-${attempt}`,
        dir: routeDir,
        cwd: ownProgram ? lp.project.rootPath : routeDir,
        baseEnv: ctx.env,
        jobEnv: {
          BATON_HOME: ctx.paths.home,
          BATON_TASK: String(lp.task.number),
          BATON_PIPELINE: lp.pipeline.id,
        },
        pathPrefix: [ctx.paths.bin],
        forbiddenDirs: ownProgram ? [] : [lp.project.rootPath],
        timeoutMs: router.timeoutMs,
      });
      answer = result.timedOut
        ? { problem: `the router did not answer within ${Math.round(router.timeoutMs / 1000)}s` }
        : parseRouterAnswer(result.text, pool);
    } catch (thrown) {
      answer = { problem: `the router could not run: ${coerceError(thrown).message}` };
    }
    if (!("problem" in answer)) {
      break;
    }
    ctx.logger.warn("the router's answer was unusable", {
      pipelineId: lp.pipeline.id,
      attempt,
      problem: answer.problem,
    });
  }
  const route = routeFromAnswer(snapshot, lp.task.labels, answer);
  const now = ctx.clock();
  await ctx.store.transaction(async (trx) => {
    if (await setPipelineRoute(trx, lp.pipeline.id, route, now)) {
      await ctx.store.lockEvents(trx);
      await appendEvents(
        trx,
        [
          {
            kind: EVENTS.pipelineRouted,
            projectId: lp.project.id,
            taskNumber: lp.task.number,
            pipelineId: lp.pipeline.id,
            data: { ...route },
          },
        ],
        now,
      );
    }
  });
  return route;
}
