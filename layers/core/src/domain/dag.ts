import { ValidationError } from './errors.ts';

/** A job of a submitted DAG, as far as planning cares. */
export interface DagNode {
  key: string;
  dependsOn: readonly string[];
}

export interface PlannedNode {
  key: string;
  /** Position in the deterministic topological order (0-based). */
  topoIndex: number;
  /** Longest chain of ancestors (0 for roots). */
  depth: number;
  parents: string[];
  onCriticalPath: boolean;
}

export interface DagPlan {
  /** Nodes in topological order; ties (nodes ready at the same time) are broken by job key. */
  nodes: PlannedNode[];
  /** Parent → child pairs in topological order of the child, then parent key. */
  edges: [parent: string, child: string][];
  /** The longest dependency chain, root first; ties broken by job key. */
  criticalPath: string[];
}

export interface DagLimits {
  maxJobs: number;
  maxEdges: number;
}

/**
 * Validates and plans a DAG (DESIGN §6, §10): unique keys, known dependencies, no cycles, within limits.
 * Pure and deterministic: the same submission always yields the same order and critical path, so a
 * redelivered plan message reproduces the same plan.
 */
export function planDag(jobs: readonly DagNode[], limits: DagLimits): DagPlan {
  if (jobs.length > limits.maxJobs) {
    throw new ValidationError(`a run may hold at most ${limits.maxJobs} jobs (got ${jobs.length})`);
  }
  const byKey = new Map<string, DagNode>();
  const duplicates = new Set<string>();
  for (const job of jobs) {
    if (byKey.has(job.key)) duplicates.add(job.key);
    byKey.set(job.key, job);
  }
  if (duplicates.size > 0) {
    throw new ValidationError(
      'job keys must be unique within a run',
      [...duplicates].sort().map((key) => ({ path: 'jobs', message: `duplicate key '${key}'` })),
    );
  }
  const unknown: { path: string; message: string }[] = [];
  let edgeCount = 0;
  jobs.forEach((job, index) => {
    const seen = new Set<string>();
    for (const parent of job.dependsOn) {
      if (!byKey.has(parent))
        unknown.push({ path: `jobs.${index}.dependsOn`, message: `unknown job key '${parent}'` });
      if (parent === job.key)
        unknown.push({ path: `jobs.${index}.dependsOn`, message: `'${parent}' depends on itself` });
      if (seen.has(parent))
        unknown.push({ path: `jobs.${index}.dependsOn`, message: `'${parent}' listed twice` });
      seen.add(parent);
      edgeCount++;
    }
  });
  if (unknown.length > 0) throw new ValidationError('invalid dependencies', unknown.slice(0, 20));
  if (edgeCount > limits.maxEdges) {
    throw new ValidationError(`a run may hold at most ${limits.maxEdges} dependencies (got ${edgeCount})`);
  }

  const children = new Map<string, string[]>();
  const pending = new Map<string, number>();
  for (const job of jobs) {
    pending.set(job.key, job.dependsOn.length);
    for (const parent of job.dependsOn) children.set(parent, [...(children.get(parent) ?? []), job.key]);
  }
  // Kahn's algorithm with a sorted ready set: among nodes ready at once, the smallest key goes first.
  const ready = new MinKeyHeap([...pending].filter(([, n]) => n === 0).map(([key]) => key));
  const order: string[] = [];
  while (ready.size > 0) {
    const key = ready.pop();
    order.push(key);
    for (const child of children.get(key) ?? []) {
      const left = (pending.get(child) ?? 0) - 1;
      pending.set(child, left);
      if (left === 0) ready.push(child);
    }
  }
  if (order.length < jobs.length) {
    const cycle = findCycle(byKey, new Set(order));
    throw new ValidationError(`the dependencies form a cycle: ${cycle.join(' → ')}`, [
      { path: 'jobs', message: `cycle ${cycle.join(' → ')}` },
    ]);
  }

  const index = new Map(order.map((key, i) => [key, i]));
  const depth = new Map<string, number>();
  // best[key] = predecessor on the longest chain ending at key (ties: smaller key).
  const best = new Map<string, string | null>();
  for (const key of order) {
    const node = byKey.get(key)!;
    let d = 0;
    let via: string | null = null;
    for (const parent of [...node.dependsOn].sort()) {
      const candidate = (depth.get(parent) ?? 0) + 1;
      if (candidate > d) {
        d = candidate;
        via = parent;
      }
    }
    depth.set(key, d);
    best.set(key, via);
  }
  let tail: string | undefined;
  for (const key of [...order].sort()) {
    if (tail === undefined || (depth.get(key) ?? 0) > (depth.get(tail) ?? 0)) tail = key;
  }
  const criticalPath: string[] = [];
  for (let key: string | null | undefined = tail; key; key = best.get(key)) criticalPath.unshift(key);
  const critical = new Set(criticalPath);

  const nodes = order.map((key) => ({
    key,
    topoIndex: index.get(key)!,
    depth: depth.get(key)!,
    parents: [...byKey.get(key)!.dependsOn].sort(),
    onCriticalPath: critical.has(key),
  }));
  const edges = nodes.flatMap((node) => node.parents.map((parent) => [parent, node.key] as [string, string]));
  return { nodes, edges, criticalPath };
}

/** A cycle among the nodes left over by Kahn's algorithm, in dependency direction, from its smallest key. */
function findCycle(byKey: Map<string, DagNode>, done: Set<string>): string[] {
  const state = new Map<string, 'visiting' | 'visited'>();
  const stack: string[] = [];
  const visit = (key: string): string[] | null => {
    state.set(key, 'visiting');
    stack.push(key);
    for (const parent of [...(byKey.get(key)?.dependsOn ?? [])].sort()) {
      if (done.has(parent)) continue;
      if (state.get(parent) === 'visiting') {
        const cycle = stack.slice(stack.indexOf(parent));
        // Report in dependency direction (parent before child), closing the loop.
        const forward = [...cycle].reverse();
        const start = forward.indexOf([...forward].sort()[0]!);
        const rotated = [...forward.slice(start), ...forward.slice(0, start)];
        return [...rotated, rotated[0]!];
      }
      if (!state.has(parent)) {
        const found = visit(parent);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(key, 'visited');
    return null;
  };
  for (const key of [...byKey.keys()].filter((k) => !done.has(k)).sort()) {
    if (!state.has(key)) {
      const found = visit(key);
      if (found) return found;
    }
  }
  return [];
}

/** Binary min-heap of strings (job keys), so ready-set ties cost O(log n) instead of a sort per step. */
class MinKeyHeap {
  private readonly items: string[] = [];
  constructor(initial: string[]) {
    for (const item of initial) this.push(item);
  }
  get size() {
    return this.items.length;
  }
  push(item: string) {
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]! <= a[i]!) break;
      [a[p], a[i]] = [a[i]!, a[p]!];
      i = p;
    }
  }
  pop(): string {
    const a = this.items;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l]! < a[m]!) m = l;
        if (r < a.length && a[r]! < a[m]!) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i]!, a[m]!];
        i = m;
      }
    }
    return top;
  }
}
