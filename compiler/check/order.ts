/**
 * The order in which named definitions (a model's members, a block body's
 * lets) are evaluated, chosen so that evaluation never nests deeply.
 *
 * Definitions are evaluated lazily: using a name evaluates its definition on
 * the spot. That reads well and reports a cycle at the use that closes it,
 * but a chain of 1,000 lets each using the next nests 1,000 evaluations. So
 * before evaluating, the names each definition uses are collected, and:
 *
 * - when some chain of uses is longer than `MAX_LAZY_DEPTH`, every
 *   definition is evaluated bottom up (what it uses first), so each one finds
 *   its names already evaluated;
 * - a cycle of more than `MAX_LAZY_DEPTH` definitions is reported here, at the
 *   use that closes it as lazy evaluation would find it, and its definitions
 *   stand for the error value. Shorter cycles are left to lazy evaluation.
 *
 * Programs without long chains are evaluated exactly as written, in
 * declaration order. Everything here is iterative.
 */
import type { Expr, Span } from "../../language/ast.js";

/** The longest chain of definitions lazy evaluation may nest. */
export const MAX_LAZY_DEPTH = 32;

/** A use of a definition in another's expression. */
export interface Use {
  /** The definition used (an index into the definitions). */
  readonly target: number;
  /** Where the name is written. */
  readonly span: Span;
}

/** A cycle of definitions found here: reported at `closing`, a use of `start` in the last definition of the cycle. */
export interface LongCycle {
  /** The definitions on the cycle, in the order lazy evaluation visits them, `start` first. */
  readonly members: readonly number[];
  readonly closing: Use;
}

/** What to do before evaluating definitions in declaration order. */
export interface EvaluationPlan {
  /** Cycles too long for lazy evaluation: report each, and let all their members stand for the error value. */
  readonly cycles: readonly LongCycle[];
  /** Definitions to evaluate first, in this order (what each uses before it); empty when declaration order is fine. */
  readonly first: readonly number[];
}

/**
 * Plans the evaluation of `count` definitions, where `uses(i)` lists the
 * definitions the i-th one uses, in the order its expression uses them.
 */
export function planEvaluation(count: number, uses: (i: number) => readonly Use[]): EvaluationPlan {
  const edges = Array.from({ length: count }, (_, i) => uses(i));
  const { component, components } = stronglyConnected(edges);
  const cycles: LongCycle[] = [];
  const broken = new Set<number>();
  for (const members of components) {
    if (members.length <= MAX_LAZY_DEPTH) continue;
    const cycle = findCycle(edges, members, component);
    cycles.push(cycle);
    members.forEach((m) => broken.add(m));
  }
  // Heights over the components (a component's height: the longest chain of components below it).
  const height = new Array<number>(components.length).fill(0);
  let tallest = 0;
  // Tarjan's algorithm numbers components in reverse topological order: uses come first.
  components.forEach((members, c) => {
    let h = 0;
    for (const m of members) {
      for (const use of edges[m]!) {
        const d = component[use.target]!;
        if (d !== c) h = Math.max(h, height[d]! + 1);
      }
    }
    height[c] = h + members.length - 1;
    tallest = Math.max(tallest, height[c]!);
  });
  if (tallest <= MAX_LAZY_DEPTH) return { cycles, first: [] };
  const first: number[] = [];
  components.forEach((members) => {
    for (const m of [...members].sort((a, b) => a - b)) if (!broken.has(m)) first.push(m);
  });
  return { cycles, first };
}

/**
 * Tarjan's strongly connected components, iteratively. Components come out in
 * reverse topological order (a component after every component it uses).
 */
function stronglyConnected(edges: readonly (readonly Use[])[]): { component: number[]; components: number[][] } {
  const n = edges.length;
  const index = new Array<number>(n).fill(-1);
  const low = new Array<number>(n).fill(0);
  const onStack = new Array<boolean>(n).fill(false);
  const component = new Array<number>(n).fill(-1);
  const components: number[][] = [];
  const stack: number[] = [];
  let counter = 0;
  for (let root = 0; root < n; root++) {
    if (index[root] !== -1) continue;
    // Each frame: a node and the position of the next edge to follow.
    const frames: [number, number][] = [[root, 0]];
    index[root] = low[root] = counter++;
    stack.push(root);
    onStack[root] = true;
    while (frames.length > 0) {
      const frame = frames[frames.length - 1]!;
      const [v, next] = frame;
      const out = edges[v]!;
      if (next < out.length) {
        frame[1]++;
        const w = out[next]!.target;
        if (index[w] === -1) {
          index[w] = low[w] = counter++;
          stack.push(w);
          onStack[w] = true;
          frames.push([w, 0]);
        } else if (onStack[w]) low[v] = Math.min(low[v]!, index[w]!);
        continue;
      }
      frames.pop();
      const parent = frames[frames.length - 1];
      if (parent) low[parent[0]] = Math.min(low[parent[0]]!, low[v]!);
      if (low[v] === index[v]) {
        const members: number[] = [];
        let w: number;
        do {
          w = stack.pop()!;
          onStack[w] = false;
          component[w] = components.length;
          members.push(w);
        } while (w !== v);
        components.push(members);
      }
    }
  }
  return { component, components };
}

/**
 * The cycle lazy evaluation would find in a component: starting at its first
 * definition in declaration order, it follows uses in order, depth first,
 * until a use leads back to a definition being evaluated.
 */
function findCycle(edges: readonly (readonly Use[])[], members: readonly number[], component: readonly number[]): LongCycle {
  const start = Math.min(...members);
  const c = component[start]!;
  const path: number[] = [start];
  const onPath = new Set<number>([start]);
  const done = new Set<number>();
  const next: number[] = [0];
  for (;;) {
    const v = path[path.length - 1]!;
    const i = next[next.length - 1]!;
    const out = edges[v]!;
    if (i >= out.length) {
      // Within one component every definition leads back, so this only skips uses already explored.
      path.pop();
      next.pop();
      onPath.delete(v);
      done.add(v);
      continue;
    }
    next[next.length - 1] = i + 1;
    const use = out[i]!;
    if (component[use.target] !== c || done.has(use.target)) continue;
    if (onPath.has(use.target)) {
      const from = path.indexOf(use.target);
      return { members: path.slice(from), closing: use };
    }
    path.push(use.target);
    onPath.add(use.target);
    next.push(0);
  }
}

/** The note naming a cycle: `the cycle: a -> b -> a`, shortened in the middle when long. */
export function describeCycle(names: readonly string[]): string {
  const shown = names.length > 6 ? [...names.slice(0, 3), "…", ...names.slice(-2)] : names;
  return `the cycle: ${[...shown, names[0]].join(" -> ")} (${names.length.toLocaleString("en-US")} definitions)`;
}

/**
 * The names an expression uses, in the order evaluation looks them up. The
 * arguments of a call whose callee is not `known` are left out: evaluation
 * stops at the unknown callee and never looks them up.
 */
export function namesUsed(e: Expr, known: (name: string) => boolean): { name: string; span: Span }[] {
  const out: { name: string; span: Span }[] = [];
  // Expressions nest at most a few hundred levels (the parser's limit), but an explicit stack costs nothing.
  const todo: Expr[] = [e];
  while (todo.length > 0) {
    const x = todo.pop()!;
    const later: Expr[] = [];
    switch (x.kind) {
      case "Ident":
        out.push({ name: x.name, span: x.span });
        break;
      case "Call":
        if (x.callee.kind === "Ident") {
          out.push({ name: x.callee.name, span: x.callee.span });
          if (!known(x.callee.name)) break;
        } else later.push(x.callee);
        later.push(...x.args.map((a) => a.value));
        break;
      case "Member":
        later.push(x.target);
        break;
      case "Index":
        later.push(x.target, ...x.indices);
        break;
      case "List":
        later.push(...x.items);
        break;
      case "Map":
        later.push(...x.entries.map((entry) => entry.value));
        break;
      case "Binary":
        later.push(x.left, x.right);
        break;
      case "Unary":
        later.push(x.operand);
        break;
      case "Pipe":
        later.push(...x.stages);
        break;
      case "Number":
      case "String":
      case "Bool":
      case "ErrorExpr":
        break;
    }
    // Pushed in reverse, so they are visited left to right.
    for (let i = later.length - 1; i >= 0; i--) todo.push(later[i]!);
  }
  return out;
}
