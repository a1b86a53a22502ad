/**
 * Building data-flow graphs while checking: nodes are appended in dependency
 * order and never change once added.
 */
import type { BoundArgs, FunctionDef } from "../builtins/spec.js";
import type { Graph, GraphNode, NodeId } from "./program.js";

/** Distributes `Omit` over the node union, so each node kind keeps its own fields. */
type WithoutId<T> = T extends GraphNode ? Omit<T, "id"> : never;

/** Appends nodes and hands out their ids. */
export class GraphBuilder {
  private readonly list: GraphNode[] = [];
  /** Built-in calls by node, so later checks can ask their rules (e.g. an objective's positions). */
  readonly calls = new Map<NodeId, { readonly def: FunctionDef; readonly args: BoundArgs }>();

  /** Adds a node and returns its id. */
  add(node: WithoutId<GraphNode>): NodeId {
    const id = this.list.length;
    this.list.push({ ...node, id } as GraphNode);
    return id;
  }

  node(id: NodeId): GraphNode {
    const n = this.list[id];
    if (!n) throw new Error(`internal: no graph node ${id}`);
    return n;
  }

  get size(): number {
    return this.list.length;
  }

  /** The finished graph (a snapshot). */
  build(): Graph {
    return { nodes: this.list.slice() };
  }
}

/** The nodes a node reads. */
export function nodeInputs(node: GraphNode): NodeId[] {
  switch (node.op) {
    case "input":
      return [];
    case "apply":
      return [node.input, ...argNodes(node.layer.kind === "block" || node.layer.kind === "builtin" ? node.layer.args : {})];
    case "call":
      return argNodes(node.args);
    case "mask":
    case "views":
    case "negate":
      return [node.input];
    case "select":
    case "inner":
      return [node.source];
    case "binary":
      return [node.left, node.right].filter((x): x is NodeId => typeof x === "number");
  }
}

function argNodes(args: Readonly<Record<string, unknown>>): NodeId[] {
  const out: NodeId[] = [];
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (typeof v === "object" && v !== null && "node" in v && typeof v.node === "number") out.push(v.node);
  };
  Object.values(args).forEach(visit);
  return out;
}

/** Every node `id` depends on, itself included. */
export function ancestors(graph: { node(id: NodeId): GraphNode }, id: NodeId): Set<NodeId> {
  const seen = new Set<NodeId>();
  const stack = [id];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    stack.push(...nodeInputs(graph.node(n)));
  }
  return seen;
}
