/**
 * Calls: `dense(256)` configures a layer, `mlp(hidden: 256, out: 10)` a block,
 * `f(x)` applies a part, `mse(a, b)` computes an objective, `random_patches(x,
 * ...)` makes a mask, `label(classes: 10)` a data type, `digits.train(per_class:
 * 10)` selects data.
 */
import type { CallExpr, Span } from "../../language/ast.js";
import { messages } from "../../language/diagnostics/messages.js";
import { applyPart, reportFailure } from "./apply.js";
import { toArgs } from "./arg-values.js";
import { bindArgs, type BoundValues } from "./bind.js";
import { applyCalled, couldBeValue, firstArgument, takesValue } from "./call-syntax.js";
import { builtinByName } from "../builtins/index.js";
import { blockSpecs } from "./block-params.js";
import {
  categoryNoun,
  isFailure,
  type Bound,
  type BoundArgs,
  type Builtin,
  type FunctionDef,
  type LayerDef,
  type ParamSpec,
} from "../builtins/spec.js";
import type { Evaluator } from "./evaluator.js";
import { describeType } from "./types.js";
import { ERROR, describeValue, type BlockRef, type LayerValue, type SplitValue, type TensorValue, type Value } from "./values.js";

/** Evaluates a call expression. */
export function evaluateCall(ev: Evaluator, call: CallExpr): Value {
  const callee = hiddenCallee(ev, call) ?? ev.evaluate(call.callee);
  switch (callee.kind) {
    case "builtin":
      return callBuiltin(ev, callee.def, call);
    case "block": {
      const params = blockSpecs(ev.env, callee.block).params.map((p) => p.spec);
      const first = firstArgument(ev, params, call);
      if (first?.kind === "tensor") return applyCalled(ev, first, call, (rest) => configureBlock(ev, callee.block, rest));
      const layer = configureBlock(ev, callee.block, call, first);
      return layer ? { kind: "layer", layer } : ERROR;
    }
    case "layer":
      return applyCall(ev, callee.layer, call);
    case "split":
      return selectSplit(ev, callee, call);
    case "error":
      return ERROR;
    default: {
      // A member named like a built-in (`input tokens`) hides it in its model: say so.
      const hidden = call.callee.kind === "Ident" ? builtinByName(call.callee.name) : undefined;
      const notes = hidden ? [`the declared '${hidden.name}' hides the built-in ${categoryNoun[hidden.category]} '${hidden.name}' here`] : [];
      ev.report(messages.notCallable, call.callee.span, { actual: describeValue(callee) }, { notes });
      return ERROR;
    }
  }
}

/**
 * A member that reuses a reserved name (RC206, already reported) stays the
 * value it declares, but a call of that name means what the member hides:
 * `views noisy, other = ...` next to `bottleneck z = noisy(dim: 4, sigma: 0.1)` is one
 * mistake, not two.
 */
function hiddenCallee(ev: Evaluator, call: CallExpr): Value | null {
  if (call.callee.kind !== "Ident") return null;
  const binding = ev.scope.lookup(call.callee.name);
  if (!binding?.reservedName) return null;
  const v = binding.get(call.callee.span);
  if (v.kind === "layer" || v.kind === "error") return null;
  const hidden = ev.scope.parent?.lookup(call.callee.name);
  return hidden ? hidden.get(call.callee.span) : null;
}

/** `f(x)`: applying a layer or part to one value. */
function applyCall(ev: Evaluator, layer: LayerValue, call: CallExpr): Value {
  const arg = call.args[0];
  if (call.args.length !== 1 || arg!.name !== null) {
    const what = layer.kind === "part" ? `${layer.part.decl.role} '${layer.part.decl.name.text}'` : "a layer";
    ev.report(messages.applyArity, call.span, { construct: what, actual: call.args.length === 1 ? "a named argument" : call.args.length });
    return ERROR;
  }
  const x = ev.evaluateTensor(arg!.value);
  return (x && ev.apply(layer, x, call.span)) ?? ERROR;
}

/** Where each built-in kind may be used, for RC318. */
const places: Partial<Record<Builtin["category"], { allow: "mask" | "augment" | "bottleneck" | "objective"; where: string }>> = {
  mask: { allow: "mask", where: "as the value of a 'mask' member: 'mask m = random_patches(x, ...)'" },
  augment: { allow: "augment", where: "as the value of a 'views' member: 'views a, b = augment(x, ...)'" },
  bottleneck: { allow: "bottleneck", where: "as the value of a 'bottleneck' part" },
  objective: { allow: "objective", where: "in a model's losses and lets" },
};

/** A call of a built-in, by category. */
function callBuiltin(ev: Evaluator, def: Builtin, call: CallExpr): Value {
  const place = places[def.category];
  if (place && !ev.allow.has(place.allow)) {
    ev.report(messages.wrongPlace, call.callee.span, { category: categoryNoun[def.category], name: def.name, where: place.where });
    return ERROR;
  }
  if ((def.category === "layer" || def.category === "bottleneck") && def.follows && !ev.allow.has("teacher")) {
    ev.report(messages.wrongPlace, call.callee.span, { category: "layer", name: def.name, where: "as the whole value of a part: 'part t = ema(f, momentum: 0.99)'" });
    return ERROR;
  }
  switch (def.category) {
    case "layer":
    case "bottleneck": {
      const first = firstArgument(ev, def.params, call);
      if (first?.kind === "tensor") return applyCalled(ev, first, call, (rest) => configureBuiltin(ev, def, rest.args, rest.span));
      const layer = configureBuiltin(ev, def, call.args, call.span, first);
      return layer ? { kind: "layer", layer } : ERROR;
    }
    case "function":
    case "objective":
      return callFunction(ev, def, call);
    case "mask":
    case "augment":
      return callMaskOrAugment(ev, def, call);
    case "datatype": {
      const bound = bindBuiltinArgs(ev, def.name, def.params, call.args, call.span);
      return bound && dataTypeFits(ev, def, bound, call.span) ? { kind: "type", type: def.type(bound.args) } : ERROR;
    }
    case "dtype":
      ev.report(messages.notCallable, call.callee.span, { actual: describeValue({ kind: "builtin", def }) }, {
        notes: [`give it dimensions in brackets: ${def.name}[1, 28, 28]`],
      });
      return ERROR;
    case "optimizer":
    case "schedule":
    case "metric":
      ev.report(messages.wrongPlace, call.callee.span, { category: categoryNoun[def.category], name: def.name, where: "in a pipeline step's settings" });
      return ERROR;
  }
}

/** Whether a data type's arguments make a type (`check`), reporting why not. */
export function dataTypeFits(ev: Evaluator, def: Extract<Builtin, { category: "datatype" }>, bound: { args: BoundArgs; spans: ReadonlyMap<string, Span> }, span: Span): boolean {
  const failure = def.check?.(bound.args);
  if (failure) reportFailure(ev, failure, { layer: def.name }, ev.loc(span), bound.spans, null);
  return !failure;
}

/** Binds a built-in's arguments and fills defaults; null when a problem was reported. */
export function bindBuiltinArgs(
  ev: Evaluator,
  callee: string,
  params: readonly ParamSpec[],
  args: CallExpr["args"],
  span: Span,
  options: { layer?: boolean; first?: Value } = {},
): { args: BoundArgs; spans: ReadonlyMap<string, Span>; layers: LayerValue[] } | null {
  const bound = bindArgs(ev, callee, params, args, span, options);
  if (!bound.ok) return null;
  return toBound(params, bound);
}

/** Converts bound values to rule arguments, defaults filled in. */
export function toBound(params: readonly ParamSpec[], bound: BoundValues): { args: BoundArgs; spans: ReadonlyMap<string, Span>; layers: LayerValue[] } {
  const layers: LayerValue[] = [];
  const convert = (v: Value, asPart: boolean): Bound => {
    switch (v.kind) {
      case "number":
      case "bool":
      case "string":
        return v.value;
      case "symbol":
        return v.name;
      case "list":
        return v.items.map((item) => convert(item, asPart));
      case "tensor":
        return { kind: "tensor", type: v.type, node: v.node, origin: v.origin, graph: v.graph };
      case "mask":
        return { kind: "mask", name: v.name, strategy: v.strategy, node: v.node, args: v.args, positions: v.fields.inference.shape[0] ?? null };
      case "layer":
        if (v.layer.kind === "part" && asPart) {
          const part = v.layer.part;
          const layer = part.define();
          return { kind: "part", name: part.decl.name.text, builtin: layer?.kind === "builtin" ? layer.def.name : null, args: layer?.kind === "builtin" ? layer.args : {} };
        }
        layers.push(v.layer);
        return { kind: "layer", id: layers.length - 1 };
      case "path":
        return { kind: "path", part: v.part.decl.name.text, segments: v.segments };
      default:
        return null;
    }
  };
  const args: Record<string, Bound> = {};
  for (const p of params) {
    const v = bound.values.get(p.name);
    args[p.name] = v !== undefined ? convert(v, p.type.kind === "part") : p.default !== undefined ? p.default : null;
  }
  return { args, spans: bound.spans, layers };
}

/** `dense(256)`: a configured built-in layer or bottleneck. */
export function configureBuiltin(ev: Evaluator, def: LayerDef, args: CallExpr["args"], span: Span, first?: Value): LayerValue | null {
  const bound = bindBuiltinArgs(ev, def.name, def.params, args, span, { layer: true, ...(first !== undefined ? { first } : {}) });
  if (!bound) return null;
  return { kind: "builtin", def, args: bound.args, argSpans: bound.spans, layerArgs: bound.layers, location: ev.loc(span) };
}

/** A value function or objective: adds a call node. */
function callFunction(ev: Evaluator, def: FunctionDef, call: CallExpr): Value {
  const bound = bindBuiltinArgs(ev, def.name, def.params, call.args, call.span);
  if (!bound || !ev.graph) return ERROR;
  if (!sameGraph(ev, bound.args, call.span, def.name)) return ERROR;
  for (const arg of call.args) useTable(ev, arg.value);
  if (def.category === "objective" && !examplesOnly(ev, bound.args, bound.spans, def.name)) return ERROR;
  const result = def.result(bound.args);
  if (isFailure(result)) {
    reportFailure(ev, result, { layer: def.name }, ev.loc(call.span), bound.spans, null);
    return ERROR;
  }
  const id = ev.graph.add({ op: "call", category: def.category, name: def.name, args: toArgs(bound.args), type: result, location: ev.loc(call.span) });
  ev.graph.calls.set(id, { def, args: bound.args });
  return ev.tensor(result, id, `${def.name}(...)`);
}

/**
 * A part passed as a table (`skipgram(..., table: emb)`) is used through its
 * weights; an embedding part no loss applies is sized here, as if applied to one token id.
 */
function useTable(ev: Evaluator, e: CallExpr["args"][number]["value"]): void {
  if (e.kind !== "Ident") return;
  const v = ev.scope.lookup(e.name)?.get(e.span);
  if (v?.kind !== "layer" || v.layer.kind !== "part" || v.layer.part.first) return;
  const layer = v.layer.part.define();
  if (layer?.kind !== "builtin" || layer.def.name !== "embedding") return;
  applyPart(ev, v.layer.part, { type: { dtype: "i32", shape: [], batched: true, vocab: layer.args["vocab"] as number }, origin: "a token id" }, ev.loc(e.span));
}

/**
 * Objectives, masks and views work on the examples of a batch: a statistic of
 * the batch (a value reduced over `batch`) is none of theirs (RC452).
 */
function examplesOnly(ev: Evaluator, args: BoundArgs, spans: ReadonlyMap<string, Span>, construct: string): boolean {
  for (const [name, v] of Object.entries(args)) {
    if (typeof v !== "object" || v === null || !("kind" in v) || v.kind !== "tensor" || v.type.batched) continue;
    ev.report(messages.needsExamples, spans.get(name)!, { construct, origin: v.origin });
    return false;
  }
  return true;
}

/** Tensor arguments must live in the graph being built. */
function sameGraph(ev: Evaluator, args: BoundArgs, span: Span, construct: string): boolean {
  for (const v of Object.values(args)) {
    const list = Array.isArray(v) ? v : [v];
    for (const item of list) {
      if (typeof item === "object" && item !== null && "kind" in item && item.kind === "tensor" && item.graph !== ev.graph) {
        ev.report(messages.valueFromOtherScope, span, { construct, origin: item.origin, block: ev.sites[ev.sites.length - 1]?.block ?? "?" });
        return false;
      }
    }
  }
  return true;
}

/** `mask m = random_patches(...)` and `views a, b = augment(...)`. */
function callMaskOrAugment(ev: Evaluator, def: Extract<Builtin, { category: "mask" | "augment" }>, call: CallExpr): Value {
  // Messages name the mask the user declared, with its strategy: `mask 'm' (tokens)`.
  const label = def.category === "mask" ? (ev.memberName !== undefined ? `mask '${ev.memberName}' (${def.name})` : `mask '${def.name}'`) : def.name;
  const bound = bindBuiltinArgs(ev, label, def.params, call.args, call.span);
  if (!bound || !ev.graph) return ERROR;
  const x = bound.args["x"] as { kind: "tensor"; node: number; type: TensorValue["type"]; origin: string };
  if (!examplesOnly(ev, bound.args, bound.spans, label)) return ERROR;
  const location = ev.loc(call.span);
  if (def.category === "augment") {
    const failure = def.check(x.type, bound.args);
    if (failure) {
      reportFailure(ev, failure, { layer: def.name }, location, bound.spans, null);
      return ERROR;
    }
    const [first, second] = (ev.memberName ?? "").split(",");
    const names: [string, string] = [first || "first", second || "second"];
    const id = ev.graph.add({ op: "views", names, strategy: def.name, args: toArgs(bound.args), input: x.node, type: x.type, location });
    const graph = ev.graph;
    const views = (["first", "second"] as const).map((field) =>
      ev.tensor(x.type, graph.add({ op: "select", source: id, field, type: x.type, location }), `the ${field} view`),
    );
    return { kind: "list", items: views };
  }
  const fields = def.fields(x.type, bound.args, label);
  if (isFailure(fields)) {
    reportFailure(ev, fields, { layer: label, origin: x.origin, actual: describeType(x.type) }, location, bound.spans, null);
    return ERROR;
  }
  const id = ev.graph.add({
    op: "mask",
    name: ev.memberName ?? def.name,
    strategy: def.name,
    args: toArgs(bound.args),
    input: x.node,
    fields: { input: fields.input, target: fields.target, masked: fields.masked },
    inference: fields.inference,
    type: fields.input,
    location,
  });
  return { kind: "mask", name: ev.memberName ?? def.name, strategy: def.name, node: id, graph: ev.graph, fields, args: bound.args, selects: new Map() };
}

/** `relu`, `flatten`, a block with every parameter defaulted: usable as a layer without a call. */
export function asBareLayer(ev: Evaluator, v: Extract<Value, { kind: "builtin" | "block" }>, span: Span): LayerValue | null {
  if (v.kind === "builtin") {
    const def = v.def;
    if (def.category !== "layer" && def.category !== "bottleneck") {
      ev.report(messages.expectedLayer, span, { actual: describeValue(v) });
      return null;
    }
    const required = def.params.filter((p) => p.default === undefined && !p.optional);
    if (required.length > 0) {
      ev.report(messages.bareNeedsArguments, span, {
        callee: def.name,
        required: required.map((p) => p.name).join(", "),
        example: `${def.name}(${required.map((p) => `${p.name}: ...`).join(", ")})`,
      });
      return null;
    }
    if (def.category === "bottleneck" && !ev.allow.has("bottleneck")) {
      ev.report(messages.wrongPlace, span, { category: "bottleneck", name: def.name, where: places.bottleneck!.where });
      return null;
    }
    return configureBuiltin(ev, def, [], span);
  }
  const specs = blockSpecs(ev.env, v.block);
  const required = [...specs.params.filter((p) => !p.hasDefault), ...specs.inputs];
  if (required.length > 0) {
    ev.report(messages.bareNeedsArguments, span, {
      callee: `block '${v.block.decl.name.text}'`,
      required: required.map((p) => p.spec.name).join(", "),
      example: `${v.block.decl.name.text}(${required.map((p) => `${p.spec.name}: ...`).join(", ")})`,
    });
    return null;
  }
  return configureBlock(ev, v.block, { kind: "Call", callee: { kind: "Ident", name: v.block.decl.name.text, span }, args: [], span });
}

/** `mlp(hidden: 256, out: 10)`: binds a block's parameters and further inputs. */
export function configureBlock(ev: Evaluator, block: BlockRef, call: CallExpr, first?: Value): LayerValue | null {
  const specs = blockSpecs(ev.env, block);
  const all = [...specs.params.map((p) => p.spec), ...specs.inputs.map((p) => p.spec)];
  const callee = `block '${block.decl.name.text}'`;
  const bound = bindArgs(ev, callee, all, call.args, call.span, { layer: true, ...(first !== undefined ? { first } : {}) });
  if (!bound.ok) return null;
  const args = new Map<string, Value>();
  const inputs = new Map<string, TensorValue>();
  for (const p of specs.params) {
    const given = bound.values.get(p.spec.name);
    if (given) args.set(p.spec.name, given);
  }
  for (const p of specs.inputs) {
    const v = bound.values.get(p.spec.name);
    if (v?.kind === "tensor") inputs.set(p.spec.name, v);
  }
  return { kind: "block", block, args, inputs, location: ev.loc(call.span) };
}

/** `digits.train(per_class: 10)`, `digits.train(labels: [5, 6, 7])`. */
function selectSplit(ev: Evaluator, split: SplitValue, call: CallExpr): Value {
  const params: ParamSpec[] = [
    { name: "per_class", type: { kind: "int", min: 1 }, optional: true, doc: "Examples kept per class." },
    { name: "labels", type: { kind: "list", item: "int", minItems: 1 }, optional: true, doc: "Classes kept, renumbered 0..n-1." },
  ];
  const bound = bindArgs(ev, `'${split.data.name.text}.${split.split}'`, params, call.args, call.span);
  if (!bound.ok) return ERROR;
  const perClass = bound.values.get("per_class");
  const labels = bound.values.get("labels");
  return {
    ...split,
    perClass: perClass?.kind === "number" ? perClass.value : null,
    labels: labels?.kind === "list" ? labels.items.map((i) => (i.kind === "number" ? i.value : -1)) : null,
  };
}
