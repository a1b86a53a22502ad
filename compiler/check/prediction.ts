/**
 * The prediction path: what a model computes in `adapt` and `test`.
 *
 * Decision (spec): a model predicts with its `output` when it declares one;
 * otherwise with its (first) head applied along the path encoder → bottleneck
 * → head, starting from what the encoder sees in the losses, with masks and
 * views switched off (a visible-patch mask gives all patches, views give the
 * unaugmented value). A head no loss applies gets its shapes from this path.
 */
import type { ModelDecl } from "../../language/ast.js";
import { applyPart } from "./apply.js";
import type { Evaluator, Typed } from "./evaluator.js";
import { ancestors } from "./graph.js";
import type { GraphNode, LayerNode, NodeId, Prediction } from "./program.js";
import type { TensorType } from "./types.js";
import type { PartState } from "./values.js";

/** Computes the prediction path, applying the parts on it that were not applied yet. */
export function computePrediction(
  ev: Evaluator,
  decl: ModelDecl,
  parts: ReadonlyMap<string, PartState>,
  output: NodeId | null,
  inputNodes: ReadonlyMap<string, NodeId>,
  names: ReadonlyMap<NodeId, string>,
  hadErrors: boolean,
): Prediction | null {
  const graph = ev.graph!;
  const nodes: GraphNode[] = [];
  for (let i = 0; i < graph.size; i++) nodes.push(graph.node(i));
  const rootInput = (id: NodeId): GraphNode | undefined =>
    [...ancestors(graph, id)].sort((a, b) => a - b).map((n) => graph.node(n)).find((n) => n.op === "input");

  if (output !== null) {
    const root = rootInput(output);
    const used = [...ancestors(graph, output)].sort((a, b) => a - b).flatMap((id) => {
      const n = graph.node(id);
      return n.op === "apply" && n.part ? [n.part] : [];
    });
    return {
      input: root?.op === "input" ? root.name : "",
      source: "output",
      inputType: root?.type ?? graph.node(output).type,
      parts: [...new Set(used)],
      output,
      type: graph.node(output).type,
    };
  }

  const byRole = (role: string) => [...parts.values()].find((p) => p.decl.role === role);
  const head = byRole("head");
  if (!head) return null;
  const applications = (p: PartState) => nodes.filter((n): n is Extract<GraphNode, { op: "apply" }> => n.op === "apply" && n.part === p.decl.name.text);

  const encoder = [...parts.values()].find((p) => p.decl.role === "encoder" && applications(p).length > 0);
  let start: Typed & { input: string; source: string };
  const path: string[] = [];
  let type: TensorType | null;
  let origin: string;
  const site = (p: PartState) => ({ source: p.location.source, span: p.decl.name.span });
  const label = (p: PartState) => `the ${p.decl.role} '${p.decl.name.text}'`;

  if (encoder) {
    const app = applications(encoder)[0]!;
    const root = rootInput(app.input);
    const input = root?.op === "input" ? root.name : "";
    start = { type: inferenceType(graph, graph.node(app.input)), origin: input ? `input '${input}'` : "the model input", input, source: writeValue(graph, app.input, names) };
    type = applyPart(ev, encoder, start, site(encoder))?.output ?? null;
    origin = label(encoder);
    path.push(encoder.decl.name.text);
    const bottleneck = byRole("bottleneck");
    if (type && bottleneck && applications(bottleneck).some((b) => b.input === app.id)) {
      type = applyPart(ev, bottleneck, { type, origin }, site(bottleneck))?.output ?? null;
      origin = label(bottleneck);
      path.push(bottleneck.decl.name.text);
    }
  } else {
    const firstUse = applications(head)[0];
    // An encoder or head that is not applied because of an error already reported leaves the path unknown.
    if (hadErrors && (!firstUse || [...parts.values()].some((p) => p.decl.role === "encoder"))) return null;
    const firstInput = decl.members.find((m) => m.kind === "Input");
    const id = firstUse ? firstUse.input : firstInput ? inputNodes.get(firstInput.name.text) : undefined;
    if (id === undefined) return null;
    const root = rootInput(id);
    const input = root?.op === "input" ? root.name : "";
    start = { type: inferenceType(graph, graph.node(id)), origin: input ? `input '${input}'` : "the model input", input, source: writeValue(graph, id, names) };
    type = start.type;
    origin = start.origin;
  }
  if (!type) return null;
  const h = applyPart(ev, head, { type, origin }, site(head));
  if (!h) return null;
  path.push(head.decl.name.text);
  return { input: start.input, source: start.source, inputType: start.type, parts: path, output: null, type: h.output };
}

/**
 * How the model writes a value, with masks and views off: `image`, a let's
 * name, `image -> patchify`, `m.input (masks off)`, `a (views off)`.
 * `names` holds the lets and views.
 */
function writeValue(graph: { node(id: NodeId): GraphNode }, id: NodeId, names: ReadonlyMap<NodeId, string>): string {
  const n = graph.node(id);
  const named = names.get(id);
  if (named !== undefined) return n.op === "select" ? `${named} (views off)` : named;
  switch (n.op) {
    case "input":
      return n.name;
    case "select": {
      const source = graph.node(n.source);
      return source.op === "mask" ? `${source.name}.${n.field} (masks off)` : n.field;
    }
    case "apply":
      return `${writeValue(graph, n.input, names)} -> ${n.part ?? layerName(n.layer)}`;
    default:
      return n.location.source.slice(n.location.span);
  }
}

/** A layer's name as written: `dense`, `mlp`, `flatten -> dense`. */
function layerName(layer: LayerNode): string {
  return layer.kind === "sequence" ? layer.layers.map(layerName).join(" -> ") : layer.name;
}

/** What a value is with masking off: all patches for a patch mask, the source for views. */
function inferenceType(graph: { node(id: NodeId): GraphNode }, n: GraphNode) {
  if (n.op !== "select") return n.type;
  const source = graph.node(n.source);
  if (source.op === "mask" && n.field === "input") return source.inference;
  if (source.op === "views") return graph.node(source.input).type;
  return n.type;
}
