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
import { child, layerName, LowerError, record, type LayerCtx, type Val } from "./context.js";
import type { ParamInfo } from "./init.js";
import { attentionRules } from "./layers-attention.js";
import { convRules } from "./layers-conv.js";
import { denseRules } from "./layers-dense.js";
import { normRules } from "./layers-norm.js";
import { maskLayerRules } from "./masks.js";
import { mathRules } from "./math.js";
import { movementRules } from "./movement.js";
import type { LayerRule, LocalParam, Params } from "./rule.js";
import { run, type Task } from "./task.js";
import { teacherMomentum, teacherTensor } from "./teacher.js";
import { lowerTied } from "./layers-tied.js";

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
  // Inside a teacher, the layers of the parts it follows read the teacher's copies.
  const teacher = ctx.teacher;
  const own = builtinParams(node, ctx.owner, ctx.path);
  const infos = teacher ? own.map((p) => teacherTensor(p, teacher)) : own;
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
  return run(layerTask(ctx, node, x));
}

/** `lowerLayer` as a task: nested pipes, copies, blocks and parts are sub-tasks, not nested calls (task.ts). */
export function* layerTask(ctx: LayerCtx, node: LayerNode, x: Val): Task<Val> {
  const v = (yield layerOutput(ctx, node, x)) as Val;
  // Every layer's output is readable by its path in the application (spec/paths.md).
  record(ctx, v);
  return v;
}

function* layerOutput(ctx: LayerCtx, node: LayerNode, x: Val): Task<Val> {
  switch (node.kind) {
    case "sequence": {
      let v = x;
      for (let i = 0; i < node.layers.length; i++) v = (yield layerTask(child(ctx, i), node.layers[i]!, v)) as Val;
      return v;
    }
    case "block":
      return (yield ctx.model.block(ctx, node, x)) as Val;
    case "part": {
      // Another part's layers run as that part: its weights, its mode (inside a teacher: the teacher's copies, the teacher's mode).
      const { layer, mode } = ctx.model.part(node.name);
      const { record: _, ...outer } = ctx;
      return (yield layerTask({ ...outer, owner: node.name, path: [], mode: ctx.teacher ? ctx.mode : mode, tag: `${ctx.tag}@${ctx.owner ?? ""}` }, layer, x)) as Val;
    }
    case "builtin": {
      if (node.name === "ema") {
        // A teacher runs what it names on its own copies (teacher.ts).
        const teacher = { name: ctx.owner ?? "", momentum: teacherMomentum(node) };
        return (yield layerTask({ ...ctx, teacher }, node.children[0]!, x)) as Val;
      }
      if (node.name === "tied") return { x: lowerTied(ctx, node, x, builtinParams), pos: x.pos };
      if (node.name === "repeat") {
        let v = x;
        for (let i = 0; i < node.children.length; i++) v = (yield layerTask(child(ctx, i), node.children[i]!, v)) as Val;
        return v;
      }
      const rule = LAYER_RULES[node.name];
      if (!rule) throw new LowerError(`layer '${node.name}' cannot be lowered yet`);
      // A layer frozen inside its part runs in the frozen layer's mode.
      const mode = ctx.model.layerMode(ctx);
      const at = mode === ctx.mode ? ctx : { ...ctx, mode };
      const out = rule.lower(at, node, x, paramsOf(at, node));
      return { x: out, pos: node.output.positions !== undefined ? x.pos : null };
    }
  }
}
