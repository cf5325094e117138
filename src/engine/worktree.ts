import { existsSync } from "node:fs";
import { branchName } from "../core/branch-name.js";
import { setPipelineWorktree } from "../store/pipelines.repository.js";
import { ensureWorktree } from "../workspace/worktree.js";
import type { EngineContext } from "./context.js";
import type { LoadedPipeline } from "./snapshot.js";

/**
 * The pipeline's worktree, created with its branch (`baton/<n>-<slug>`) on first use and
 * recorded on the pipeline. Returns its absolute path.
 */
export async function ensurePipelineWorktree(
  ctx: EngineContext,
  lp: LoadedPipeline,
): Promise<string> {
  const known = lp.pipeline.worktreePath;
  if (known !== null && existsSync(known)) {
    return known;
  }
  // git takes locks on the repository, so one worktree creation at a time per project; the
  // chain also makes parallel first jobs of one pipeline share its worktree.
  const previous = ctx.worktreesInFlight.get(lp.project.id) ?? Promise.resolve("");
  const work = previous
    .catch(() => "")
    .then(async () => {
      const fresh = lp.pipeline.worktreePath;
      if (fresh !== null && existsSync(fresh)) {
        return fresh;
      }
      const branch = lp.pipeline.branch ?? branchName(lp.task.number, lp.task.title);
      const worktree = await ensureWorktree({
        projectRoot: lp.project.rootPath,
        worktreesRoot: ctx.paths.worktrees,
        projectName: lp.project.name,
        branch,
      });
      await setPipelineWorktree(ctx.store.db, lp.pipeline.id, {
        branch: worktree.branch,
        path: worktree.path,
        baseCommit: lp.pipeline.baseCommit ?? worktree.baseCommit,
        now: ctx.clock(),
      });
      lp.pipeline = { ...lp.pipeline, branch: worktree.branch, worktreePath: worktree.path };
      return worktree.path;
    });
  ctx.worktreesInFlight.set(lp.project.id, work);
  try {
    return await work;
  } finally {
    if (ctx.worktreesInFlight.get(lp.project.id) === work) {
      ctx.worktreesInFlight.delete(lp.project.id);
    }
  }
}
