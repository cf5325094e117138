import { randomBytes } from "node:crypto";

let lastMs = 0;
let counter = 0;

/**
 * Random bytes drawn from one larger read of the CSPRNG: the engine makes several ids and
 * secrets per job, and each `randomBytes` call costs more than the bytes it returns.
 */
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let used = 0;

function random(size: number): Buffer {
  if (used + size > pool.length) {
    pool = randomBytes(POOL_BYTES);
    used = 0;
  }
  const bytes = pool.subarray(used, used + size);
  used += size;
  return bytes;
}

/**
 * A readable, prefixed id whose text order follows creation order within one process:
 * `job_0mabc12d3e-7f2a9c`. The time part is base-36 milliseconds plus a per-millisecond
 * counter; the tail is random so ids from different processes never collide.
 */
export function makeId(prefix: string): string {
  const now = Date.now();
  if (now === lastMs) {
    counter += 1;
  } else {
    lastMs = now;
    counter = 0;
  }
  const time = now.toString(36).padStart(9, "0") + counter.toString(36).padStart(2, "0");
  return `${prefix}_${time}${random(4).toString("hex")}`;
}

/** A secret for leases and job tokens: 24 random bytes, base64url. */
export function makeSecret(): string {
  return random(24).toString("base64url");
}
