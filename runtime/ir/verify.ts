/**
 * The IR verifier: checks the invariants every pass must keep, so tests can
 * run it between passes. It re-derives each node's type from its operands with
 * the same rules the builder uses, so a pass that rebuilds nodes with
 * `makeNode` is held to the builder's standard.
 *
 * Invariants:
 * 1. Every op is in the op table, with its number of operands.
 * 2. Every node's shape and dtype are what `inferType` gives for its operands
 *    and attributes (which also validates the attributes).
 * 3. Operands have smaller ids than their users, and ids are unique: the graph
 *    is acyclic and sorting by id is a topological order.
 * 4. Nodes, their operand lists, shapes and attributes are frozen.
 * 5. No two leaves share a name (an input and a param neither).
 * 6. Two different random nodes never share a stream under the same seed and
 *    step nodes (they would draw the same numbers).
 * 7. A graph's output names are non-empty and distinct.
 */
import { formatType, inferType, isError } from "./infer.js";
import { topoSort, type Graph, type Node } from "./node.js";
import { isOp, OPS } from "./ops.js";
import { sameShape } from "./shape.js";

/** Checks the nodes the roots depend on; returns one message per problem (empty when valid). */
export function verify(roots: readonly Node[]): string[] {
  const problems: string[] = [];
  const report = (node: Node, message: string): void => {
    problems.push(`%${node.id} (${String(node.op)}): ${message}`);
  };
  const nodes = topoSort(roots);
  const byId = new Map<number, Node>();
  const leafNames = new Map<string, Node>();
  const streams = new Map<string, Node>();

  for (const node of nodes) {
    if (!Number.isSafeInteger(node.id) || node.id < 0) report(node, `id ${node.id} is not a non-negative integer`);
    const twin = byId.get(node.id);
    if (twin !== undefined) report(node, `shares its id with another node (${String(twin.op)})`);
    byId.set(node.id, node);
    if (!Object.isFrozen(node) || !Object.isFrozen(node.inputs) || !Object.isFrozen(node.shape) || !Object.isFrozen(node.attrs)) {
      report(node, "is not frozen (nodes are immutable)");
    }
    for (const [i, operand] of node.inputs.entries()) {
      if (!(operand.id < node.id)) report(node, `operand ${i} (%${operand.id}) does not come before it`);
    }
    if (!isOp(node.op)) {
      report(node, "is not an op of the op table");
      continue;
    }
    const t = inferType(node.op, node.inputs, node.attrs);
    if (isError(t)) {
      report(node, t.error);
    } else if (!sameShape(t.shape, node.shape) || t.dtype !== node.dtype) {
      report(node, `has type ${formatType(node)}, but its operands and attributes give ${formatType(t)}`);
    }
    if (OPS[node.op].group === "leaf" && (node.op === "input" || node.op === "param")) {
      const name = node.attrs.name;
      const other = leafNames.get(name);
      if (other !== undefined) report(node, `reuses the name "${name}" of %${other.id} (${other.op})`);
      else leafNames.set(name, node);
    }
    if (node.op === "uniform" || node.op === "normal") {
      const key = `${node.attrs.stream}:${node.inputs.map((i) => i.id).join(",")}`;
      const other = streams.get(key);
      if (other !== undefined) report(node, `draws from stream ${node.attrs.stream} like %${other.id}; give each draw its own stream`);
      else streams.set(key, node);
    }
  }
  return problems;
}

/** Checks a graph: its nodes, and its output names. */
export function verifyGraph(graph: Graph): string[] {
  const problems = verify(graph.outputs.map((o) => o.node));
  const names = new Set<string>();
  for (const { name } of graph.outputs) {
    if (name === "") problems.push("an output has an empty name");
    else if (names.has(name)) problems.push(`two outputs are named "${name}"`);
    names.add(name);
  }
  return problems;
}

/** Throws (an internal error: a pass broke an invariant) unless the graph verifies. */
export function assertValid(graph: Graph, after = "building"): void {
  const problems = verifyGraph(graph);
  if (problems.length > 0) {
    throw new Error(`internal: invalid IR after ${after}:\n${problems.map((p) => `  ${p}`).join("\n")}`);
  }
}
