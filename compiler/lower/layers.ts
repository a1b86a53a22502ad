/**
 * Lowering of a resolved layer tree (compiler/check/program.ts `LayerNode`): pipes
 * fold their stages, `repeat` its copies, blocks and part references are
 * handed to the model, and each built-in goes to its rule. One table joins the
 * rules of every `layers-*.ts` file; a test fails when a built-in layer of the
 * checker's catalogue has none.
 */
import type { Node } from "../../runtime/ir/node.js";
import type { BuiltinLayerNode, LayerNode } from "../check/program.js";
import { activationRules } from "./activations.js";
import { bottleneckRules } from "./bottlenecks.js";
import { child, layerName, LowerError, type LayerCtx, type Val } from "./context.js";
import type { ParamInfo } from "./init.js";
import { attentionRules } from "./layers-attention.js";
import { convRules } from "./layers-conv.js";
import { denseRules } from "./layers-dense.js";
import { normRules } from "./layers-norm.js";
import { maskLayerRules } from "./masks.js";
import { mathRules } from "./math.js";
import { movementRules } from "./movement.js";
import type { LayerRule, LocalParam, Params } from "./rule.js";

/** Every built-in layer and bottleneck that lowers, by name (`repeat` is structural, below). */
export const LAYER_RULES: Readonly<Record<string, LayerRule>> = {
  ...denseRules,
  ...convRules,
  ...normRules,
  ...attentionRules,
  ...activationRules,
  ...mathRules,
  ...movementRules,
  ...bottleneckRules,
  ...maskLayerRules,
};

/** The tensors a built-in layer owns, as full descriptions under `owner` and `path`. */
export function builtinParams(node: BuiltinLayerNode, owner: string | null, path: readonly string[]): ParamInfo[] {
  const rule = LAYER_RULES[node.name];
  const locals: readonly LocalParam[] = rule?.params?.(node) ?? [];
  if (locals.length > 0 && owner === null) throw new LowerError(`internal: layer '${node.name}' has parameters but no part owns it`);
  const prefix = layerName({ owner, path });
  return locals.map((l) => ({
    name: `${prefix}.${l.local}`,
    shape: l.shape,
    dtype: l.dtype ?? "f32",
    init: l.init,
    owner: owner!,
    kind: l.kind ?? "weight",
    decay: l.decay ?? false,
    layer: 0,
  }));
}

function paramsOf(ctx: LayerCtx, node: BuiltinLayerNode): Params {
  const locals = LAYER_RULES[node.name]?.params?.(node) ?? [];
  const infos = builtinParams(node, ctx.owner, ctx.path);
  const byLocal = new Map(locals.map((l, i) => [l.local, infos[i]!]));
  const info = (local: string): ParamInfo => {
    const found = byLocal.get(local);
    if (!found) throw new Error(`internal: layer '${node.name}' has no tensor '${local}'`);
    return found;
  };
  return {
    info,
    get: (local) => ctx.s.param(info(local)),
    state: (local) => ctx.s.state(info(local)),
    update: (local, value: Node) => ctx.s.update(info(local).name, value),
  };
}

/**
 * Lowers a layer tree applied to `x`. Row-wise layers keep the positions of
 * visible patches (the checker's output type says when).
 */
export function lowerLayer(ctx: LayerCtx, node: LayerNode, x: Val): Val {
  switch (node.kind) {
    case "sequence":
      return node.layers.reduce((v, layer, i) => lowerLayer(child(ctx, i), layer, v), x);
    case "block":
      return ctx.model.block(ctx, node, x);
    case "part": {
      // Another part's layers run as that part: its weights, its mode.
      const { layer, mode } = ctx.model.part(node.name);
      return lowerLayer({ ...ctx, owner: node.name, path: [], mode, tag: `${ctx.tag}@${ctx.owner ?? ""}` }, layer, x);
    }
    case "builtin": {
      if (node.name === "repeat") return node.children.reduce((v, c, i) => lowerLayer(child(ctx, i), c, v), x);
      const rule = LAYER_RULES[node.name];
      if (!rule) throw new LowerError(`layer '${node.name}' cannot be lowered yet`);
      const out = rule.lower(ctx, node, x, paramsOf(ctx, node));
      return { x: out, pos: node.output.positions !== undefined ? x.pos : null };
    }
  }
}
