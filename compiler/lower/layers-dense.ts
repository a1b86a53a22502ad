/**
 * Dense layers and tables (spec/layers.md): `dense`, `classifier`,
 * `embedding`, `positional`. Dense weights are stored `[out, in]`
 * (spec/checkpoints.md) and applied as `x·Wᵀ + b`.
 */
import type { Node } from "../../runtime/ir/node.js";
import type { BuiltinLayerNode } from "../check/program.js";
import { constantInit, fanIn, normalInit } from "./init.js";
import { linear, lookupRows } from "./ops.js";
import { boolArg, lastDim, numArg, type LayerRule, type LocalParam } from "./rule.js";

/** `weight [out, in] ~ U(1/√in)` and `bias [out] = 0`: the tensors of a dense map. */
export function denseParams(inF: number, outF: number, bias: boolean, prefix = ""): LocalParam[] {
  const list: LocalParam[] = [{ local: `${prefix}weight`, shape: [outF, inF], init: fanIn(inF), decay: true }];
  if (bias) list.push({ local: `${prefix}bias`, shape: [outF], init: constantInit(0) });
  return list;
}

const dense: LayerRule = {
  params: (node) => denseParams(lastDim(node.input.shape), numArg(node, "units"), boolArg(node, "bias")),
  lower: (ctx, node, x, p) => linear(ctx.s.b, x.x, p.get("weight"), boolArg(node, "bias") ? p.get("bias") : null),
};

const classifier: LayerRule = {
  params: (node) => denseParams(lastDim(node.input.shape), numArg(node, "classes"), true),
  lower: (ctx, _node, x, p) => linear(ctx.s.b, x.x, p.get("weight"), p.get("bias")),
};

const embedding: LayerRule = {
  params: (node) => [{ local: "weight", shape: [numArg(node, "vocab"), numArg(node, "dim")], init: normalInit(1), decay: true }],
  lower: (ctx, _node, x, p) => lookupRows(ctx.s.b, p.get("weight"), x.x),
};

/** The table length of `positional`: its argument, else the full sequence length the checker saw. */
function tableLength(node: BuiltinLayerNode): number {
  return numArg(node, "length", node.input.positions ?? node.input.shape[0]!);
}

const positional: LayerRule = {
  params: (node) => [{ local: "weight", shape: [tableLength(node), node.input.shape[1]!], init: normalInit(0.02) }],
  lower(ctx, _node, x, p) {
    const b = ctx.s.b;
    const table = p.get("weight");
    const [batch, rows, d] = x.x.shape as [number, number, number];
    let add: Node;
    if (x.pos) {
      // Visible patches carry their original positions: row k gets table row pos[k].
      const full = b.broadcastTo(b.unsqueeze(table, 0), [batch, table.shape[0]!, d]);
      add = b.gather(full, b.broadcastTo(b.unsqueeze(x.pos, -1), [batch, rows, d]), 1);
    } else {
      add = b.sliceAxis(table, 0, 0, rows);
    }
    return b.add(x.x, add);
  },
};

/** Lowerings of the dense family, by layer name. */
export const denseRules: Readonly<Record<string, LayerRule>> = { dense, classifier, embedding, positional };
