/**
 * Fails a test that leaves child processes of the test process running. Sessions are started
 * in their own process groups, so a forgotten one would otherwise outlive the suite.
 */
import { readdirSync, readFileSync } from "node:fs";
import { afterEach } from "vitest";

interface Child {
  pid: number;
  command: string;
}

function liveChildren(): Child[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    // Not Linux: no /proc to read, so nothing to check.
    return [];
  }
  const children: Child[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) {
      continue;
    }
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // Fields after the parenthesised command: state, ppid, ...
      const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (rest[0] === "Z" || Number(rest[1]) !== process.pid) {
        continue;
      }
      const command = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").join(" ").trim();
      children.push({ pid: Number(entry), command });
    } catch {
      // The process ended while we looked.
    }
  }
  return children;
}

afterEach(async () => {
  let left = liveChildren();
  for (let waited = 0; left.length > 0 && waited < 3000; waited += 50) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    left = liveChildren();
  }
  if (left.length > 0) {
    for (const child of left) {
      try {
        process.kill(child.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    throw new Error(
      `test left ${left.length} child process(es) running: ${left.map((c) => `${c.pid} ${c.command}`).join("; ")}`,
    );
  }
});
