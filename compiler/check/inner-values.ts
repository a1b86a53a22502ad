/**
 * Values inside a layer's application, read by path (spec/paths.md): after
 * `let h = f(text)`, `h.2` is the output of the layer at `f.2` in that
 * application, `h.2.h` the let `h` of the block there, and `h.2.1.weights`
 * the weights of the attention layer `f.2.1`. Each is an `inner` node of
 * the graph, which lowering reads from what the application recorded.
 */
import type { MemberExpr } from "../../language/ast.js";
import { messages } from "../../language/diagnostics/messages.js";
import type { Evaluator } from "./evaluator.js";
import type { GraphBuilder } from "./graph.js";
import { describeSegments, layerAtPath, subLayers, throughSequential } from "./layer-paths.js";
import type { ApplyNode, GraphNode, LayerNode, NodeId } from "./program.js";
import type { TensorType } from "./types.js";
import { ERROR, type TensorValue, type Value } from "./values.js";

/** `v.seg`: the value at one more segment of the path inside the application that computed `v`. */
export function innerValue(ev: Evaluator, v: TensorValue, e: MemberExpr): Value {
  const n = v.graph.node(v.node);
  const at = n.op === "apply" ? { source: n, base: [] as readonly string[] } : n.op === "inner" && n.value === null ? { source: v.graph.node(n.source) as ApplyNode, base: n.path } : null;
  if (!at) {
    ev.report(messages.noInnerValue, e.name.span, { value: v.origin, name: e.name.text }, {
      notes: ["values inside layers are read from a layer's application: f(x).2 is what the layer at f.2 made of x"],
    });
    return ERROR;
  }
  const name = e.name.text;
  const path = [...at.base, name];
  const root = at.source.layer;
  const found = layerAtPath(root, path);
  const add = (type: TensorType, value: string | null, p: readonly string[]): Value => {
    const id = v.graph.add({ op: "inner", source: at.source.id, path: p, value, type, location: ev.loc(e.span) });
    return ev.tensor(type, id, `'${ev.module.source.slice(e.span)}'`);
  };
  if (!("at" in found)) return add(withoutPositions(found.node.output), null, found.segments);
  // Not a layer: a value the layer at the path so far names, a block's let or attention's weights.
  const reached = layerAtPath(root, at.base);
  const layer = "at" in reached ? null : throughSequential(reached.node);
  const named = layer ? namedValue(layer, name, contextLength(root, at.base, v.graph)) : null;
  if (named && !("at" in reached)) return add(named, name, reached.segments);
  const where = ev.module.source.slice(e.target.span);
  ev.report(messages.noInnerValue, e.name.span, { value: `'${where}'`, name }, { notes: layer ? [describeInside(layer)] : [] });
  return ERROR;
}

/** What a layer has inside, for messages: `it has layers 0 to 3, and the values x, h`. */
function describeInside(layer: LayerNode): string {
  const layers = (subLayers(layer) ?? []).map((l) => l.segment);
  const values = valueNames(layer);
  const what = layer.kind === "builtin" ? layer.name : layer.kind === "block" ? `block '${layer.name}'` : layer.kind === "part" ? `the part '${layer.name}'` : "a pipe";
  if (layers.length === 0 && values.length === 0) return `it is ${what}, which ${describeSegments([])}`;
  const parts = [layers.length > 0 ? describeSegments(layers) : "", values.length > 0 ? `has the value${values.length > 1 ? "s" : ""} ${values.join(", ")}` : ""].filter(Boolean);
  return `it is ${what}, which ${parts.join(" and ")}`;
}

/** The values a layer names besides its sub-layers: a data-flow block's inputs and lets, attention's weights. */
function valueNames(layer: LayerNode): string[] {
  if (layer.kind === "block") return Object.keys(layer.values ?? {});
  return layer.kind === "builtin" && layer.name === "attention" ? ["weights"] : [];
}

/** The type of a value a layer names, or null. */
function namedValue(layer: LayerNode, name: string, keys: number | null): TensorType | null {
  if (layer.kind === "block") {
    const id = layer.values?.[name];
    return id === undefined ? null : withoutPositions(layer.graph.nodes[id]!.type);
  }
  if (layer.kind === "builtin" && layer.name === "attention" && name === "weights") {
    // One row of weights over the keys per head and query: [heads, L, M].
    const rows = layer.input.shape[0]!;
    return { dtype: "f32", shape: [layer.args["heads"] as number, rows, keys ?? rows], batched: layer.input.batched };
  }
  return null;
}

/** The number of keys of a cross-attention layer at `path` (its context's length), found in the graph it was applied in; null for self-attention. */
function contextLength(root: LayerNode, path: readonly string[], graph: GraphBuilder): number | null {
  let node = root;
  let nodes: { node(id: NodeId): GraphNode } = graph;
  for (const segment of path) {
    const inner = throughSequential(node);
    if (inner.kind === "block") nodes = { node: (id) => inner.graph.nodes[id]! };
    const next = (subLayers(inner) ?? []).find((l) => l.segment === segment);
    if (!next) return null;
    node = next.node;
  }
  const layer = throughSequential(node);
  const context = layer.kind === "builtin" ? layer.args["context"] : undefined;
  return typeof context === "object" && context !== null && "node" in context ? (nodes.node(context.node).type.shape[0] ?? null) : null;
}

function withoutPositions(t: TensorType): TensorType {
  if (t.positions === undefined) return t;
  const { positions: _, ...rest } = t;
  return rest;
}
