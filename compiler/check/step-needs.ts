/**
 * What a pipeline step reads of its model: the losses it selects, the inputs
 * those losses read and the parts they train.
 */
import { ancestors } from "./graph.js";
import type { CheckedModel, LayerNode, StepSettings } from "./program.js";

/** The losses a training step minimizes: the named ones, or every loss. */
export function selectedLosses(model: CheckedModel, settings: StepSettings | null) {
  const names = settings?.objectives ?? [];
  return names.length > 0 ? model.losses.filter((l) => names.includes(l.name)) : model.losses;
}

function reached(model: CheckedModel, roots: readonly number[]) {
  const graph = { node: (id: number) => model.graph.nodes[id]! };
  const ids = new Set<number>();
  for (const root of roots) for (const id of ancestors(graph, root)) ids.add(id);
  return [...ids].sort((a, b) => a - b).map((id) => model.graph.nodes[id]!);
}

/** Names of the model inputs the values at `roots` read. */
export function inputsOf(model: CheckedModel, roots: readonly number[]): string[] {
  return reached(model, roots).flatMap((n) => (n.op === "input" ? [n.name] : []));
}

/** Names of the parts the values at `roots` train: applied, used inside other parts, or used as tables. */
export function partsOf(model: CheckedModel, roots: readonly number[]): string[] {
  const names: string[] = [];
  const visitLayer = (layer: LayerNode): void => {
    if (layer.kind === "part") names.push(layer.name);
    else if (layer.kind === "sequence") layer.layers.forEach(visitLayer);
    else if (layer.kind === "builtin") layer.children.forEach(visitLayer);
    else layer.graph.nodes.forEach((n) => n.op === "apply" && visitLayer(n.layer));
  };
  for (const n of reached(model, roots)) {
    if (n.op === "apply") {
      if (n.part) names.push(n.part);
      visitLayer(n.layer);
    }
    if (n.op === "call") {
      for (const v of Object.values(n.args)) if (typeof v === "object" && v !== null && "part" in v) names.push(v.part);
    }
  }
  return [...new Set(names)];
}
