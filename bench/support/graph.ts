/**
 * The benchmark graphs and the references that run them without Baton: a bare Node work queue
 * and a Makefile for `make -j`.
 */
import { spawn } from "node:child_process";
import { performance } from "node:perf_hooks";

export interface Node {
  id: string;
  needs: string[];
}

/**
 * `levels` × `width` stages; each stage of level k > 0 needs `fanIn` stages of level k - 1,
 * chosen deterministically and spread over the level (i, i + width/fanIn, …, mod width), so
 * every stage has distinct needs and is needed by `fanIn` stages of the next level.
 */
export function makeLayeredDag(levels: number, width: number, fanIn: number): Node[] {
  const nodes: Node[] = [];
  const stride = Math.floor(width / fanIn);
  for (let level = 0; level < levels; level += 1) {
    for (let i = 0; i < width; i += 1) {
      const needs: string[] = [];
      if (level > 0) {
        for (let k = 0; k < fanIn; k += 1) {
          needs.push(dagId(level - 1, (i + k * stride) % width));
        }
      }
      nodes.push({ id: dagId(level, i), needs });
    }
  }
  return nodes;
}

function dagId(level: number, index: number): string {
  return `s${level}_${index}`;
}

/** `length` stages, each needing the one before. */
export function makeChain(length: number): Node[] {
  return Array.from({ length }, (_, i) => ({
    id: chainId(i),
    needs: i === 0 ? [] : [chainId(i - 1)],
  }));
}

export function chainId(index: number): string {
  return `c${String(index).padStart(3, "0")}`;
}

/**
 * A `baton.yaml` with one pipeline, `default`, of command stages: each runs `command(node)`
 * with the process runtime, commits nothing and has no gates.
 */
export function makeBatonYaml(
  nodes: readonly Node[],
  limits: { maxRunningJobs: number; maxRunningPipelines: number },
  command: (node: Node) => string,
): string {
  const lines = [
    "version: 1",
    "defaults:",
    "  runtime: process",
    "  commit: false",
    "  timeout: 10m",
    "  stall_timeout: 10m",
    "limits:",
    `  max_running_jobs: ${limits.maxRunningJobs}`,
    `  max_running_pipelines: ${limits.maxRunningPipelines}`,
    "pipelines:",
    "  default:",
    "    stages:",
  ];
  for (const node of nodes) {
    const needs = node.needs.length === 0 ? "" : `, needs: [${node.needs.join(", ")}]`;
    lines.push(`      - { id: ${node.id}, run: ${JSON.stringify(command(node))}${needs} }`);
  }
  return `${lines.join("\n")}\n`;
}

/** A Makefile of the same graph: one phony target per node whose recipe is `recipe`. */
export function makeMakefile(nodes: readonly Node[], recipe: string): string {
  const ids = nodes.map((n) => n.id);
  const lines = [`.PHONY: all ${ids.join(" ")}`, `all: ${ids.join(" ")}`, ""];
  for (const node of nodes) {
    lines.push(`${node.id}:${node.needs.map((n) => ` ${n}`).join("")}`, `\t@${recipe}`, "");
  }
  return lines.join("\n");
}

export interface BareLoopResult {
  wallMs: number;
  /** CPU time (user + system) of this process during the loop; the commands' not included. */
  cpuMs: number;
  failures: number;
}

/**
 * The bare reference: a topological work queue that spawns `argv(node)` for every node, at
 * most `concurrency` at a time, starting a node once all its needs have exited. Each command
 * runs with `env` and no stdio; `onExit` (if any) is called first thing on each exit event.
 * Resolves when every node has run.
 */
export function runBareLoop(
  nodes: readonly Node[],
  concurrency: number,
  argv: (node: Node) => string[],
  env: NodeJS.ProcessEnv,
  onExit?: (node: Node) => void,
): Promise<BareLoopResult> {
  const waiting = new Map(nodes.map((n) => [n.id, n.needs.length]));
  const dependents = new Map<string, string[]>(nodes.map((n) => [n.id, []]));
  for (const node of nodes) {
    for (const need of node.needs) {
      dependents.get(need)?.push(node.id);
    }
  }
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const ready = nodes.filter((n) => n.needs.length === 0).map((n) => n.id);
  let head = 0;
  let running = 0;
  let done = 0;
  let failures = 0;
  const cpuStarted = process.cpuUsage();
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const launch = (): void => {
      while (running < concurrency && head < ready.length) {
        const node = byId.get(ready[head] ?? "");
        head += 1;
        if (node === undefined) {
          continue;
        }
        const [program, ...args] = argv(node);
        running += 1;
        const child = spawn(program ?? "/bin/false", args, { stdio: "ignore", env });
        child.once("error", reject);
        child.once("exit", (code) => {
          onExit?.(node);
          running -= 1;
          done += 1;
          if (code !== 0) {
            failures += 1;
          }
          for (const next of dependents.get(node.id) ?? []) {
            const left = (waiting.get(next) ?? 0) - 1;
            waiting.set(next, left);
            if (left === 0) {
              ready.push(next);
            }
          }
          if (done === nodes.length) {
            const wallMs = performance.now() - started;
            const cpu = process.cpuUsage(cpuStarted);
            resolve({ wallMs, cpuMs: (cpu.user + cpu.system) / 1000, failures });
          } else {
            launch();
          }
        });
      }
    };
    launch();
  });
}
