/**
 * Summarises a V8 CPU profile of a benchmark: self time by area (SQLite, spawn, GC, each
 * `src/` layer…) and the functions with the most self time. Not a benchmark itself.
 *
 * Profile a benchmark, then summarise:
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof node_modules/vite-node/vite-node.mjs bench/dag.bench.ts
 *   npx vite-node bench/profile-summary.ts /tmp/prof/CPU.*.cpuprofile
 *
 * Times are sampled, and the profiler slows everything (about 1.5x); read shares, not totals.
 * Line numbers of `src/` functions are those of vite-node's transformed code, near the source's.
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function isProfile(value: unknown): value is Profile {
  return (
    typeof value === "object" &&
    value !== null &&
    Array.isArray((value as Profile).nodes) &&
    Array.isArray((value as Profile).samples) &&
    Array.isArray((value as Profile).timeDeltas)
  );
}

const LAYER = /\/(src\/[a-z]+|bench|test)\//;

function summarise(profile: Profile, top: number): void {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    for (const child of node.children ?? []) {
      parent.set(child, node.id);
    }
  }
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });

  /** The area of a node: a named hot spot, else the nearest `src/` layer up the stack. */
  const area = (id: number): string => {
    const { functionName: fn, url } = nodes.get(id)?.callFrame ?? { functionName: "", url: "" };
    if (fn === "(garbage collector)" || fn === "(idle)" || fn === "(program)") {
      return fn;
    }
    if (fn === "executeQuery" && url.includes("sqlite-driver")) {
      return "SQLite: executing statements (native)";
    }
    if (fn === "prepare" && url.includes("better-sqlite3")) {
      return "SQLite: preparing statements (native)";
    }
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const frameUrl = nodes.get(cur)?.callFrame.url ?? "";
      if (frameUrl.includes("child_process")) {
        return "child_process (spawn: fork + exec)";
      }
      if (frameUrl.includes("kysely")) {
        return "kysely (building and compiling queries)";
      }
      const layer = LAYER.exec(frameUrl);
      if (layer !== null) {
        return cur === id ? `${layer[1]} (JS)` : `${layer[1]} (node/native calls)`;
      }
    }
    return `other (${fn || "anonymous"})`;
  };
  const where = (id: number): string => {
    const frame = nodes.get(id)?.callFrame;
    const url = (frame?.url ?? "").replace(/^.*?\/(src|bench|test|node_modules)\//, "$1/");
    return `${frame?.functionName || "(anonymous)"} ${url}:${(frame?.lineNumber ?? 0) + 1}`;
  };

  const byArea = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    totalUs += us;
    byArea.set(area(id), (byArea.get(area(id)) ?? 0) + us);
    byFunction.set(where(id), (byFunction.get(where(id)) ?? 0) + us);
  }
  const print = (title: string, tally: Map<string, number>): void => {
    console.log(`\n${title}`);
    for (const [name, us] of [...tally].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      const share = ((100 * us) / totalUs).toFixed(1);
      console.log(`  ${(us / 1000).toFixed(0).padStart(7)} ms ${share.padStart(5)}%  ${name}`);
    }
  };
  console.log(`sampled ${(totalUs / 1000).toFixed(0)} ms`);
  print("self time by area", byArea);
  print("self time by function", byFunction);
}

const files = process.argv.slice(2).filter((a) => a.endsWith(".cpuprofile"));
if (files.length === 0) {
  console.error("usage: npx vite-node bench/profile-summary.ts <file.cpuprofile>...");
  process.exitCode = 2;
}
for (const file of files) {
  const parsed: unknown = JSON.parse(readFileSync(file, "utf8"));
  if (!isProfile(parsed)) {
    throw new Error(`${file} is not a V8 CPU profile (.cpuprofile)`);
  }
  console.log(`\n${file}`);
  summarise(parsed, 25);
}
