/**
 * Who holds a lease: `host:pid:start:tag`, where `start` is the process start time read from
 * /proc, so a reused pid never passes for a live holder. A holder on this host whose process is
 * gone is dead at once; one on another host is dead only when its lease expires.
 */
import { readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";

/** The process start time (clock ticks since boot) from /proc, or `null` where unavailable. */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 22 counted from the state, after the parenthesised command (which may hold spaces).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19] ?? null;
  } catch {
    // No /proc (not Linux) or the process is gone.
    return null;
  }
}

/** A holder id for one engine: `host:pid:start:tag`, the tag telling engines of one process apart. */
export function newHolder(): string {
  return `${hostname()}:${process.pid}:${processStartTime(process.pid) ?? "0"}:${randomBytes(3).toString("hex")}`;
}

/** True when `holder` is a process on this host that no longer runs. */
export function isDeadLocalHolder(holder: string): boolean {
  const [host, pidText, start] = holder.split(":");
  if (host !== hostname() || pidText === undefined) {
    return false;
  }
  const pid = Number(pidText);
  try {
    process.kill(pid, 0);
  } catch (thrown) {
    // EPERM means it exists but is not ours; anything else (ESRCH) means it is gone.
    return (thrown as NodeJS.ErrnoException).code !== "EPERM";
  }
  const now = processStartTime(pid);
  return now !== null && start !== "0" && now !== start;
}
