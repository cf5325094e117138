import type { BackoffDef } from "./pipeline-def.js";

/**
 * Delay before retry number `retry` (1 for the first retry): `baseMs * factor^(retry-1)`,
 * capped at `maxMs`. With jitter on, the delay is spread over [delay/2, delay] by `jitter`, a
 * number in [0, 1) the caller supplies, so this stays a pure function.
 */
export function retryDelayMs(retry: number, backoff: BackoffDef, jitter: number): number {
  const exponent = Math.max(0, retry - 1);
  const raw = Math.min(backoff.maxMs, backoff.baseMs * backoff.factor ** exponent);
  if (!backoff.jitter) {
    return Math.round(raw);
  }
  const clamped = Math.min(Math.max(jitter, 0), 0.999_999);
  return Math.round(raw / 2 + (raw / 2) * clamped);
}

/**
 * A stable number in [0, 1) from a string (FNV-1a), used as the jitter of a job's retry so that
 * the same job always gets the same delay and different jobs spread out.
 */
export function stableFraction(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i += 1) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash / 0x1_0000_0000;
}
