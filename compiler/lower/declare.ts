/**
 * Every tensor a model has, named as spec/checkpoints.md says, without
 * lowering anything: the walk over each part's layer tree that lowering also
 * follows (names.ts), plus the tokens of `mask_token` masks. A checkpoint, the
 * initializer and the parameter counts read this list.
 */
import type { CheckedModel, LayerNode } from "../check/program.js";
import type { ParamInfo } from "./init.js";
import { builtinParams } from "./layers.js";
import { maskTokenInfo } from "./masks.js";
import { bodyLayers, isSequentialBody } from "./names.js";

/** The tensors of a layer tree owned by `owner` at `path`, appended to `out`. */
export function declareLayer(node: LayerNode, owner: string, path: readonly string[], out: ParamInfo[]): void {
  switch (node.kind) {
    case "sequence":
      node.layers.forEach((l, i) => declareLayer(l, owner, [...path, String(i)], out));
      return;
    case "block":
      for (const { node: apply, segments } of bodyLayers(node)) declareLayer(apply.layer, owner, [...path, ...segments], out);
      return;
    case "part":
      // Another part's weights are that part's.
      return;
    case "builtin":
      if (node.name === "repeat") node.children.forEach((c, i) => declareLayer(c, owner, [...path, String(i)], out));
      else out.push(...builtinParams(node, owner, path));
      return;
  }
}

/**
 * The tensors of a part, each with its layer number for `layer_decay`
 * (spec/optimizers.md): the stages of the part's top-level pipe that own
 * tensors count 1, 2, ...; a `repeat` stage counts each copy, and a stage
 * calling a block with a sequential body counts that body's stages alike.
 */
export function declarePart(layer: LayerNode, owner: string, out: ParamInfo[]): void {
  let count = 0;
  const oneLayer = (node: LayerNode, path: readonly string[]): void => {
    const start = out.length;
    declareLayer(node, owner, path, out);
    if (out.length === start) return;
    count++;
    for (let i = start; i < out.length; i++) out[i] = { ...out[i]!, layer: count };
  };
  const stages = (node: LayerNode, path: readonly string[]): void => {
    const list: [LayerNode, readonly string[]][] =
      node.kind === "sequence" ? node.layers.map((l, i) => [l, [...path, String(i)]]) : [[node, path]];
    for (const [stage, at] of list) {
      if (stage.kind === "builtin" && stage.name === "repeat") stage.children.forEach((c, i) => oneLayer(c, [...at, String(i)]));
      else if (stage.kind === "block" && isSequentialBody(stage)) for (const l of bodyLayers(stage)) stages(l.node.layer, [...at, ...l.segments]);
      else oneLayer(stage, at);
    }
  };
  stages(layer, []);
}

/**
 * Every tensor of a model, parts in declaration order, then mask tokens. A
 * replaced head (`replace W with ...`) contributes its new layer's tensors.
 */
export function modelParams(model: CheckedModel, replaced: ReadonlyMap<string, LayerNode> = new Map()): ParamInfo[] {
  const out: ParamInfo[] = [];
  for (const part of model.parts) {
    const layer = replaced.get(part.name) ?? part.layer;
    if (layer) declarePart(layer, part.name, out);
  }
  for (const n of model.graph.nodes) {
    if (n.op === "mask" && n.strategy === "random_patches" && n.args["encoder_sees"] === "mask_token") {
      out.push(maskTokenInfo(n.name, n.fields.input.shape[1]!));
    }
  }
  const seen = new Set<string>();
  return out.filter((p) => !seen.has(p.name) && seen.add(p.name));
}

/** The number of learned numbers (weights, not state) among `params`. */
export function learnedCount(params: readonly ParamInfo[]): number {
  return params.filter((p) => p.kind === "weight").reduce((sum, p) => sum + p.shape.reduce((a, d) => a * d, 1), 0);
}
