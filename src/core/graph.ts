/**
 * The stage graph of a pipeline definition: order, cycles and ancestry. Pure functions over
 * `{ id, needs }` so config rules and the scheduler share them.
 */

interface Node {
  id: string;
  needs: readonly { stage: string }[];
}

/**
 * Stages in an order where every stage comes after the stages it needs (Kahn's algorithm, stages
 * without needs in written order first). Needs naming unknown stages are ignored. Returns `null`
 * when the graph has a cycle. O(stages + needs).
 */
export function topologicalOrder<N extends Node>(nodes: readonly N[]): N[] | null {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const indegree = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const node of nodes) {
    let count = 0;
    for (const need of node.needs) {
      if (byId.has(need.stage)) {
        count += 1;
        const list = dependents.get(need.stage) ?? [];
        list.push(node.id);
        dependents.set(need.stage, list);
      }
    }
    indegree.set(node.id, count);
  }
  const ready = nodes.filter((n) => indegree.get(n.id) === 0).map((n) => n.id);
  const order: N[] = [];
  for (let head = 0; head < ready.length; head += 1) {
    const id = ready[head] as string;
    order.push(byId.get(id) as N);
    for (const next of dependents.get(id) ?? []) {
      const left = (indegree.get(next) ?? 0) - 1;
      indegree.set(next, left);
      if (left === 0) {
        ready.push(next);
      }
    }
  }
  return order.length === nodes.length ? order : null;
}

/** One cycle, as the list of stage ids around it (first repeated at the end), or `null`. */
export function findCycle(nodes: readonly Node[]): string[] | null {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const visit = (id: string): string[] | null => {
    state.set(id, "visiting");
    stack.push(id);
    for (const need of byId.get(id)?.needs ?? []) {
      if (!byId.has(need.stage)) {
        continue;
      }
      const seen = state.get(need.stage);
      if (seen === "visiting") {
        return [...stack.slice(stack.indexOf(need.stage)), need.stage];
      }
      if (seen === undefined) {
        const found = visit(need.stage);
        if (found !== null) {
          return found;
        }
      }
    }
    stack.pop();
    state.set(id, "done");
    return null;
  };
  for (const node of nodes) {
    if (!state.has(node.id)) {
      const found = visit(node.id);
      if (found !== null) {
        return found;
      }
    }
  }
  return null;
}

/** Every stage `id` needs, directly or through other stages. */
export function ancestors(nodes: readonly Node[], id: string): Set<string> {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const seen = new Set<string>();
  const pending = [...(byId.get(id)?.needs ?? []).map((n) => n.stage)];
  while (pending.length > 0) {
    const next = pending.pop() as string;
    if (seen.has(next) || !byId.has(next)) {
      continue;
    }
    seen.add(next);
    pending.push(...(byId.get(next)?.needs ?? []).map((n) => n.stage));
  }
  return seen;
}
