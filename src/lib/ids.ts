import { randomBytes } from "node:crypto";

let lastMs = 0;
let counter = 0;

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
  return `${prefix}_${time}${randomBytes(4).toString("hex")}`;
}

/** A secret for leases and job tokens: 24 random bytes, base64url. */
export function makeSecret(): string {
  return randomBytes(24).toString("base64url");
}
