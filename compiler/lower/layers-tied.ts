/**
 * Tied weights (spec/paths.md): `tied(f.2)` reads the weight of the layer
 * at that path — the same `param` leaf, so its gradient is the sum of what
 * both uses send — and applies its transpose. A dense weight is stored
 * `[units, in]` and the layer computes `x·Wᵀ`, so the tied layer computes
 * `x·W`, `[..., units] → [..., in]`; an embedding table `E [vocab, dim]`
 * looks rows up, so the tied layer computes `x·Eᵀ`, `[..., dim] → [..., vocab]`.
 * It owns no tensor.
 */
import type { Node } from "../../runtime/ir/node.js";
import { layerAtPath } from "../check/layer-paths.js";
import type { BuiltinLayerNode } from "../check/program.js";
import { LowerError, type LayerCtx, type Val } from "./context.js";
import type { ParamInfo } from "./init.js";
import { linear } from "./ops.js";
import { teacherTensor } from "./teacher.js";

/** The tied layer's weight: the `param` of the layer it names (inside a teacher, the teacher's copy). */
function tiedWeight(ctx: LayerCtx, node: BuiltinLayerNode, params: (node: BuiltinLayerNode, owner: string, path: readonly string[]) => ParamInfo[]): ParamInfo {
  const part = String(node.args["part"]);
  const path = (node.args["path"] as readonly string[]).map(String);
  const found = layerAtPath(ctx.model.part(part).layer, path);
  if ("at" in found || found.node.kind !== "builtin") throw new LowerError(`internal: tied(${String(node.args["of"])}) names no dense or embedding layer`);
  const weight = params(found.node, part, path).find((p) => p.name.endsWith(".weight") || p.name === `${part}.weight`);
  if (!weight) throw new LowerError(`internal: tied(${String(node.args["of"])}) finds no weight`);
  return ctx.teacher ? teacherTensor(weight, ctx.teacher) : weight;
}

/** `tied(of)` applied to `x`; `params` is `builtinParams` (layers.ts imports this module). */
export function lowerTied(ctx: LayerCtx, node: BuiltinLayerNode, x: Val, params: (node: BuiltinLayerNode, owner: string, path: readonly string[]) => ParamInfo[]): Node {
  const b = ctx.s.b;
  const w = ctx.s.param(tiedWeight(ctx, node, params));
  // An embedding table [vocab, dim] maps dim → vocab as it is; a dense weight [units, in] maps units → in transposed.
  return linear(b, x.x, node.args["layer"] === "embedding" ? w : b.transpose(w), null);
}
