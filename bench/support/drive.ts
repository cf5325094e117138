/**
 * Driving a pipeline with the real engine, as `baton run` does: an `Engine` in drive mode with
 * its default tick, reacting to session exits, until the pipeline is finished. Between passes
 * only the pipeline's status is read (`baton run` also refreshes its progress view there, which
 * is not measured here). Engine errors are collected, not dropped, so a benchmark can refuse a
 * run that went wrong.
 */
import { performance } from "node:perf_hooks";
import type { Pipeline } from "../../src/core/records.js";
import type { EngineContext } from "../../src/engine/context.js";
import { Engine } from "../../src/engine/engine.js";
import type { Logger, LogMeta } from "../../src/lib/logger.js";
import { getPipelineById } from "../../src/store/pipelines.repository.js";

const FINISHED = new Set(["completed", "failed", "blocked", "cancelled"]);

/** A logger that keeps warnings and errors (to print when a run fails) and drops the rest. */
export function makeCollectingLogger(): Logger & { problems: string[] } {
  const problems: string[] = [];
  const keep =
    (level: string) =>
    (message: string, meta?: LogMeta): void => {
      problems.push(`${level}: ${message}${meta === undefined ? "" : ` ${JSON.stringify(meta)}`}`);
    };
  const logger: Logger & { problems: string[] } = {
    problems,
    debug: () => undefined,
    info: () => undefined,
    warn: keep("warn"),
    error: keep("error"),
    scope: () => logger,
  };
  return logger;
}

export interface DriveResult {
  pipeline: Pipeline;
  /** Wall time, less the time spent in `probe`. */
  wallMs: number;
  /** Engine passes (snapshot → decide → apply) it took. */
  passes: number;
  /** Time spent in `probe`, already taken out of `wallMs`. */
  probeMs: number;
  /** CPU time (user + system) of this process while driving, probes included. */
  cpuMs: number;
}

/**
 * Drives `pipeline` to its end and times it, from the engine's first pass to the pass that saw
 * it finished. Throws when it does not finish within `timeoutMs`. `probe`, if given, runs
 * between passes (the engine awaits it, as it awaits `until`) with the number of passes so far;
 * its time is measured and taken out of the wall time.
 */
export async function driveToEnd(
  ctx: EngineContext,
  pipeline: Pipeline,
  timeoutMs: number,
  probe?: (passes: number) => Promise<void>,
): Promise<DriveResult> {
  const engine = new Engine(ctx, { mode: "drive" });
  const signal = AbortSignal.timeout(timeoutMs);
  let passes = 0;
  let probeMs = 0;
  let last: Pipeline = pipeline;
  const cpuStarted = process.cpuUsage();
  const started = performance.now();
  let wallMs: number;
  let cpu: NodeJS.CpuUsage | undefined;
  try {
    await engine.drive({
      pipelineIds: [pipeline.id],
      signal,
      onPass: () => {
        passes += 1;
      },
      until: async () => {
        if (probe !== undefined) {
          const probeStarted = performance.now();
          await probe(passes);
          probeMs += performance.now() - probeStarted;
        }
        // Only the status: the whole row carries the pipeline's definition, which for a
        // 1,000-stage pipeline is a few hundred KB, and this runs after every pass.
        const row = await ctx.store.db
          .selectFrom("pipelines")
          .select("status")
          .where("id", "=", pipeline.id)
          .executeTakeFirst();
        return row !== undefined && FINISHED.has(row.status);
      },
    });
    wallMs = performance.now() - started - probeMs;
  } finally {
    cpu = process.cpuUsage(cpuStarted);
    await engine.close();
  }
  last = (await getPipelineById(ctx.store.db, pipeline.id)) ?? last;
  if (!FINISHED.has(last.status)) {
    throw new Error(
      `pipeline ${pipeline.id} did not finish within ${timeoutMs} ms (status ${last.status})`,
    );
  }
  const cpuMs = cpu === undefined ? Number.NaN : (cpu.user + cpu.system) / 1000;
  return { pipeline: last, wallMs, passes, probeMs, cpuMs };
}
