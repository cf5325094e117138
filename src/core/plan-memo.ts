/**
 * What planning a pipeline worked out on one pass, kept for the next so that it redoes only
 * what changed. A pass of a large pipeline changes a job or two; the rest of its stages are
 * settled and stay as they were.
 *
 * It rests on one fact about its input: a job snapshot that is the very same object as on the
 * last pass is unchanged (the engine's loader hands out the same object for a finished job,
 * and finished jobs never change). Each pass compares the pipeline's jobs with the last pass's
 * by identity; a stage is worked out again when one of its head jobs changed or was added, or
 * when a stage it needs resolved differently. Anything else that changed (a member or spawned
 * job, jobs gone or out of order, another definition) drops the memo and plans from scratch.
 */
import type { JobSnap } from "./job.js";
import type { RouteResult } from "./pipeline-def.js";
import type { CreateCandidate, StageResolution } from "./pipeline-resolver.js";
import type { StageGraph } from "./stage-graph.js";

/** The jobs of a pipeline, looked up as stages resolve. */
export interface JobIndex {
  /** Head jobs by stage id, in `seq` order. */
  heads: Map<string, JobSnap[]>;
  /** Member and spawned jobs by parent job id, in `seq` order. */
  children: Map<string, JobSnap[]>;
}

/**
 * A stage as a pass resolved it, kept while what it came from stays the same: the resolutions
 * of its needs (and, for a job to create, the pipeline's route, which picks its agent).
 * - `settled`: it succeeded, was skipped or cancelled, with nothing left to do;
 * - `ready`: its needs are met and its first job (or a rerun) waits to be created.
 */
export type KeptStage =
  | {
      kind: "settled";
      needs: readonly StageResolution[];
      resolution: StageResolution;
      /** Ids of its current generation's jobs that were still open (normally none). */
      open: readonly string[];
    }
  | {
      kind: "ready";
      needs: readonly StageResolution[];
      route: RouteResult | null;
      create: CreateCandidate;
    };

export function indexJobs(jobs: readonly JobSnap[]): JobIndex {
  const index: JobIndex = { heads: new Map(), children: new Map() };
  for (const job of jobs) {
    if (job.role === "head") {
      append(index.heads, job.stageId, job);
    } else if (job.parentJobId !== null) {
      append(index.children, job.parentJobId, job);
    }
  }
  return index;
}

function append(map: Map<string, JobSnap[]>, key: string, job: JobSnap): void {
  const list = map.get(key);
  if (list === undefined) {
    map.set(key, [job]);
  } else {
    list.push(job);
  }
}

/** Kept by the caller for one pipeline between passes; see `PipelineState.memo`. */
export class PlanMemo {
  #graph: StageGraph | null = null;
  #pipelineId: string | null = null;
  #jobs: readonly JobSnap[] = [];
  #index: JobIndex = { heads: new Map(), children: new Map() };
  #kept: (KeptStage | undefined)[] = [];

  /**
   * Catches up with this pass's jobs. Returns the job index and, by stage position, which
   * stages' head jobs changed; `null` when everything must be worked out again.
   */
  update(
    pipelineId: string,
    graph: StageGraph,
    jobs: readonly JobSnap[],
  ): { index: JobIndex; changed: Uint8Array | null } {
    const changed =
      this.#graph === graph && this.#pipelineId === pipelineId ? this.#follow(graph, jobs) : null;
    if (changed === null) {
      this.#graph = graph;
      this.#pipelineId = pipelineId;
      this.#index = indexJobs(jobs);
      this.#kept = [];
    }
    this.#jobs = jobs;
    return { index: this.#index, changed };
  }

  /** The stage at `position` as an earlier pass kept it, if it did. */
  keptAt(position: number): KeptStage | undefined {
    return this.#kept[position];
  }

  /** Records how the stage at `position` resolved this pass (`undefined`: nothing to keep). */
  record(position: number, kept: KeptStage | undefined): void {
    this.#kept[position] = kept;
  }

  /**
   * Applies the changes since the last pass to the index, copying each list it changes (a
   * list handed out earlier is never altered). `null` when a change is not a head job
   * replaced or added in place.
   */
  #follow(graph: StageGraph, jobs: readonly JobSnap[]): Uint8Array | null {
    const before = this.#jobs;
    if (jobs.length < before.length) {
      return null;
    }
    const changed = new Uint8Array(graph.order.length);
    const heads = this.#index.heads;
    for (let i = 0; i < jobs.length; i += 1) {
      const job = jobs[i] as JobSnap;
      const old = before[i];
      if (job === old) {
        continue;
      }
      const position = graph.position.get(job.stageId);
      if (
        job.role !== "head" ||
        position === undefined ||
        (old !== undefined && (old.id !== job.id || old.role !== "head"))
      ) {
        return null;
      }
      changed[position] = 1;
      const list = heads.get(job.stageId) ?? [];
      const at = old === undefined ? -1 : list.indexOf(old);
      if (old !== undefined && at === -1) {
        return null;
      }
      heads.set(
        job.stageId,
        at === -1 ? [...list, job] : list.map((other, k) => (k === at ? job : other)),
      );
    }
    return changed;
  }
}
