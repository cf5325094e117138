/**
 * Cleanup for the benchmarks, in the shape of graphile/worker's `withReleasers`: each acquired
 * resource registers a release function; they run in LIFO order, exactly once, whether the work
 * succeeded or not, and the first error (the work's, else a release's) is the one thrown; later ones are printed.
 */
import { coerceError } from "../../src/lib/coerce-error.js";

export type Release = () => Promise<void> | void;

/** Runs `work`, then every release it registered with `defer`, last first. */
export async function withReleasers(
  work: (defer: (release: Release) => void) => Promise<void>,
): Promise<void> {
  const releases: Release[] = [];
  let failure: Error | null = null;
  try {
    await work((release) => releases.push(release));
  } catch (error) {
    failure = coerceError(error);
  }
  for (const release of releases.reverse()) {
    try {
      await release();
    } catch (error) {
      if (failure === null) {
        failure = coerceError(error);
      } else {
        // The first error is thrown; a later one is still worth seeing.
        console.error("cleanup failed too:", error);
      }
    }
  }
  if (failure !== null) {
    throw failure;
  }
}
