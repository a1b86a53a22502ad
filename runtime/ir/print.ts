/**
 * The IR's text form, one line per node in topological order:
 *
 *     %0 = input "x" : f32[2, 3]
 *     %1 = param "w" : f32[3, 4]
 *     %2 = matmul %0, %1 : f32[2, 4]
 *     %3 = sum %2 axes=[0, 1] : f32[1, 1]
 *     return loss = %3
 *
 * and a Graphviz (DOT) drawing of the same nodes. Leaf attributes that the
 * type already shows (shape, dtype) are not repeated.
 */
import { formatType } from "./infer.js";
import { graphNodes, topoSort, type Graph, type Node } from "./node.js";

/** Options of the printers. */
export interface PrintOptions {
  /** Number nodes %0, %1, … in print order instead of showing their builder ids. */
  readonly renumber?: boolean;
  /** Literals with more values than this print only their first ones (default 8). */
  readonly maxLiteral?: number;
}

/** Prints the nodes the roots depend on, one per line. */
export function printNodes(roots: readonly Node[], options: PrintOptions = {}): string {
  const nodes = topoSort(roots);
  const name = namer(nodes, options);
  return nodes.map((n) => printNode(n, name, options)).join("\n");
}

/** Prints a graph: its nodes, then a `return` line naming the outputs. */
export function printGraph(graph: Graph, options: PrintOptions = {}): string {
  const nodes = graphNodes(graph);
  const name = namer(nodes, options);
  const lines = nodes.map((n) => printNode(n, name, options));
  lines.push(`return ${graph.outputs.map((o) => `${o.name} = ${name(o.node)}`).join(", ")}`);
  return lines.join("\n");
}

/** One node's line, e.g. `%7 = matmul %3, %5 : f32[32, 64]`. */
export function printNode(node: Node, name: (n: Node) => string = (n) => `%${n.id}`, options: PrintOptions = {}): string {
  const parts: string[] = [node.op];
  const operands = node.inputs.map(name).join(", ");
  if (operands) parts.push(operands);
  const attrs = printAttrs(node, options.maxLiteral ?? 8);
  if (attrs) parts.push(attrs);
  return `${name(node)} = ${parts.join(" ")} : ${formatType(node)}`;
}

/** The attributes of a node as the text form shows them. */
export function printAttrs(node: Node, maxLiteral = 8): string {
  switch (node.op) {
    case "input":
    case "param":
      return JSON.stringify(node.attrs.name);
    case "const":
      return formatNumber(node.attrs.value);
    case "literal": {
      const data = node.attrs.data;
      const shown = data.slice(0, maxLiteral).map(formatNumber).join(", ");
      return data.length > maxLiteral ? `[${shown}, … (${data.length} values)]` : `[${shown}]`;
    }
    case "iota":
      return `axis=${node.attrs.axis}`;
    case "uniform":
    case "normal":
      return `stream=${node.attrs.stream}`;
    default:
      return Object.entries(node.attrs as Record<string, unknown>)
        .map(([k, v]) => `${k}=${formatValue(v)}`)
        .join(" ");
  }
}

/**
 * A Graphviz drawing: one box per node labelled with its op, attributes and
 * type; edges from operands to users; outputs as ellipses.
 */
export function printDot(graph: Graph, options: PrintOptions = {}): string {
  const nodes = graphNodes(graph);
  const name = namer(nodes, options);
  const id = (n: Node): string => `n${name(n).slice(1)}`;
  const lines = ["digraph ir {", "  rankdir=TB;", '  node [shape=box, fontname="monospace", fontsize=10];'];
  for (const n of nodes) {
    const attrs = printAttrs(n, 4);
    const label = dotString(`${name(n)} ${n.op}${attrs ? ` ${attrs}` : ""}`, formatType(n));
    const style = n.op === "param" ? ", style=filled, fillcolor=lightyellow" : n.op === "input" ? ", style=filled, fillcolor=lightblue" : "";
    lines.push(`  ${id(n)} [label=${label}${style}];`);
    n.inputs.forEach((i, k) => lines.push(`  ${id(i)} -> ${id(n)}${n.inputs.length > 1 ? ` [label="${k}"]` : ""};`));
  }
  graph.outputs.forEach((o, k) => {
    lines.push(`  out${k} [label=${dotString(o.name)}, shape=ellipse];`, `  ${id(o.node)} -> out${k};`);
  });
  lines.push("}");
  return lines.join("\n");
}

function namer(nodes: readonly Node[], options: PrintOptions): (n: Node) => string {
  if (!options.renumber) return (n) => `%${n.id}`;
  const index = new Map(nodes.map((n, i) => [n, i]));
  return (n) => `%${index.get(n) ?? `?${n.id}`}`;
}

function formatNumber(v: number): string {
  return Object.is(v, -0) ? "-0" : String(v);
}

function formatValue(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(formatValue).join(", ")}]`;
  if (typeof v === "number") return formatNumber(v);
  return String(v);
}

/** A DOT string of one or more lines, with backslashes and quotes escaped. */
function dotString(...lines: string[]): string {
  return `"${lines.map((s) => s.replace(/[\\"]/g, (c) => `\\${c}`)).join("\\n")}"`;
}
