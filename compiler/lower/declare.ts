/**
 * Every tensor a model has, named as spec/checkpoints.md says, without
 * lowering anything: the walk over each part's layer tree that lowering also
 * follows (names.ts), plus the tokens of `mask_token` masks. A checkpoint, the
 * initializer and the parameter counts read this list.
 */
import type { BuiltinLayerNode, CheckedModel, CheckedPart, LayerNode } from "../check/program.js";
import type { ParamInfo } from "./init.js";
import { builtinParams } from "./layers.js";
import { maskTokenInfo } from "./masks.js";
import { bodyLayers, isSequentialBody } from "./names.js";
import { followedParts, teacherMomentum, teacherNode, teacherTensor } from "./teacher.js";

/**
 * The tensors of a layer tree owned by `owner` at `path`, appended to `out`
 * in the order the tree is written. The walk keeps its own stack, so blocks
 * nested 1,500 deep (what the checker accepts) do not exhaust the call stack.
 */
export function declareLayer(node: LayerNode, owner: string, path: readonly string[], out: ParamInfo[]): void {
  const stack: [LayerNode, readonly string[]][] = [[node, path]];
  // Children are pushed last first, so that they come off the stack in order.
  const push = (children: readonly (readonly [LayerNode, readonly string[]])[]): void => {
    for (let i = children.length - 1; i >= 0; i--) stack.push([children[i]![0], children[i]![1]]);
  };
  while (stack.length > 0) {
    const [n, at] = stack.pop()!;
    switch (n.kind) {
      case "sequence":
        push(n.layers.map((l, i) => [l, [...at, String(i)]] as const));
        break;
      case "block":
        push(bodyLayers(n).map(({ node: apply, segments }) => [apply.layer, [...at, ...segments]] as const));
        break;
      case "part":
        // Another part's weights are that part's.
        break;
      case "builtin":
        if (n.name === "repeat") push(n.children.map((c, i) => [c, [...at, String(i)]] as const));
        else out.push(...builtinParams(n, owner, at));
        break;
    }
  }
}

/**
 * The tensors of a part, each with its layer number for `layer_decay`
 * (spec/optimizers.md): the stages of the part's top-level pipe that own
 * tensors count 1, 2, ...; a `repeat` stage counts each copy, and a stage
 * calling a block with a sequential body counts that body's stages alike
 * (with a stack of its own, however deep such blocks nest).
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
  // Each entry is a stage to count, or a node whose stages are to be counted.
  type Work = { readonly stages: LayerNode; readonly at: readonly string[] } | { readonly one: LayerNode; readonly at: readonly string[] };
  const stack: Work[] = [{ stages: layer, at: [] }];
  while (stack.length > 0) {
    const w = stack.pop()!;
    if ("one" in w) {
      oneLayer(w.one, w.at);
      continue;
    }
    const node = w.stages;
    const list: [LayerNode, readonly string[]][] =
      node.kind === "sequence" ? node.layers.map((l, i) => [l, [...w.at, String(i)]]) : [[node, w.at]];
    const work: Work[] = [];
    for (const [stage, at] of list) {
      if (stage.kind === "builtin" && stage.name === "repeat") stage.children.forEach((c, i) => work.push({ one: c, at: [...at, String(i)] }));
      else if (stage.kind === "block" && isSequentialBody(stage)) for (const l of bodyLayers(stage)) work.push({ stages: l.node.layer, at: [...at, ...l.segments] });
      else work.push({ one: stage, at });
    }
    for (let i = work.length - 1; i >= 0; i--) stack.push(work[i]!);
  }
}

/**
 * Every tensor of a model, parts in declaration order, then mask tokens. A
 * replaced head (`replace W with ...`) contributes its new layer's tensors.
 */
export function modelParams(model: CheckedModel, replaced: ReadonlyMap<string, LayerNode> = new Map()): ParamInfo[] {
  const out: ParamInfo[] = [];
  const parts = new Map(model.parts.map((p) => [p.name, { ...p, layer: replaced.get(p.name) ?? p.layer }]));
  for (const part of parts.values()) {
    const teacher = teacherNode(part.layer);
    if (teacher) declareTeacher(teacher, part.name, parts, out);
    else if (part.layer) declarePart(part.layer, part.name, out);
  }
  for (const n of model.graph.nodes) {
    if (n.op === "mask" && n.strategy === "random_patches" && n.args["encoder_sees"] === "mask_token") {
      out.push(maskTokenInfo(n.name, n.fields.input.shape[1]!));
    }
  }
  const seen = new Set<string>();
  return out.filter((p) => !seen.has(p.name) && seen.add(p.name));
}

/** A teacher's tensors (lower/teacher.ts): a copy of every tensor of the parts it follows, in their order. */
function declareTeacher(node: BuiltinLayerNode, name: string, parts: ReadonlyMap<string, CheckedPart>, out: ParamInfo[]): void {
  const teacher = { name, momentum: teacherMomentum(node) };
  for (const student of followedParts(node, parts)) {
    const own: ParamInfo[] = [];
    declarePart(parts.get(student)!.layer!, student, own);
    out.push(...own.map((p) => teacherTensor(p, teacher)));
  }
}

/** The number of learned numbers (weights, not state) among `params`. */
export function learnedCount(params: readonly ParamInfo[]): number {
  return params.filter((p) => p.kind === "weight").reduce((sum, p) => sum + p.shape.reduce((a, d) => a * d, 1), 0);
}
