/**
 * IR nodes and graphs.
 *
 * A node is an immutable (frozen) record: an op, its operand nodes, its
 * attributes, and its static type. Nodes point at their operands, so a set of
 * output nodes *is* a graph; the `id`s of one builder increase in creation
 * order, so every operand has a smaller id than its user and sorting by id is a
 * topological order.
 *
 * Nodes are made by `IRBuilder` (which infers and checks types and shares equal
 * nodes). `makeNode` is the unchecked constructor underneath it, exported for
 * passes that rebuild nodes and for tests that need malformed IR to feed the
 * verifier.
 */
import type { DType, Op, OpAttrs, Shape } from "./ops.js";

/** A node of op `O`. */
export interface NodeOf<O extends Op> {
  /** Unique within its builder; operands always have smaller ids. */
  readonly id: number;
  readonly op: O;
  readonly inputs: readonly Node[];
  readonly attrs: OpAttrs[O];
  readonly shape: Shape;
  readonly dtype: DType;
}

/** Any node; switching on `node.op` narrows `node.attrs`. */
export type Node = { [O in Op]: NodeOf<O> }[Op];

/** A named result of a graph. */
export interface Output {
  readonly name: string;
  readonly node: Node;
}

/**
 * A graph: named output nodes (a forward pass's prediction and loss, a training
 * step's loss and updated parameters, …). Its nodes are everything the outputs
 * depend on.
 */
export interface Graph {
  readonly outputs: readonly Output[];
}

/** Deep-freezes plain attribute data (arrays and objects). */
function freezeDeep<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) freezeDeep(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * Makes a frozen node without checking anything. Prefer `IRBuilder`, which
 * infers the type and rejects misuse with a clear message.
 */
export function makeNode<O extends Op>(
  id: number,
  op: O,
  inputs: readonly Node[],
  attrs: OpAttrs[O],
  shape: Shape,
  dtype: DType,
): NodeOf<O> {
  return Object.freeze({
    id,
    op,
    inputs: Object.freeze(inputs.slice()),
    attrs: freezeDeep(attrs),
    shape: Object.freeze(shape.slice()),
    dtype,
  });
}

/** Makes a graph from named outputs, in the given order. */
export function makeGraph(outputs: Readonly<Record<string, Node>>): Graph {
  return Object.freeze({
    outputs: Object.freeze(Object.entries(outputs).map(([name, node]) => Object.freeze({ name, node }))),
  });
}

/**
 * Every node the roots depend on (roots included), operands before users,
 * each once. Order: by id, which is a topological order for one builder's nodes.
 */
export function topoSort(roots: readonly Node[]): Node[] {
  const seen = new Set<Node>();
  const stack = [...roots];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    for (const i of n.inputs) if (!seen.has(i)) stack.push(i);
  }
  return [...seen].sort((a, b) => a.id - b.id);
}

/** The nodes of a graph in topological order. */
export function graphNodes(graph: Graph): Node[] {
  return topoSort(graph.outputs.map((o) => o.node));
}

/** For each node, the nodes among `nodes` that use it (in order, with repeats for repeated operands). */
export function usersOf(nodes: readonly Node[]): Map<Node, Node[]> {
  const users = new Map<Node, Node[]>(nodes.map((n) => [n, []]));
  for (const n of nodes) for (const i of n.inputs) users.get(i)?.push(n);
  return users;
}
