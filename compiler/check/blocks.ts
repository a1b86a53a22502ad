/**
 * Blocks: reusable, parametric layers written in repr. A block's body is
 * checked where the block is applied, with concrete arguments and a concrete
 * input type, so `4 * dim` and shapes are known there (what can be checked
 * without a use is in block-decls.ts).
 */
import type { BlockDecl, LetDecl } from "../../language/ast.js";
import { messages } from "../../language/diagnostics/messages.js";
import { toArgValue } from "./arg-values.js";
import { evaluateArg } from "./bind.js";
import { blockBody, blockSpecs } from "./block-params.js";
import type { Applied, Evaluator, Typed } from "./evaluator.js";
import { GraphBuilder } from "./graph.js";
import type { ArgValue, Location } from "./program.js";
import { describeCycle, namesUsed, planEvaluation } from "./order.js";
import { Scope, fixed, lazy, moduleScope, type LazyBinding } from "./scope.js";
import { describeType, formatType, sameType } from "./types.js";
import { ERROR, type LayerValue, type TensorValue, type Value } from "./values.js";

/**
 * Instantiates a block for one input: evaluates its body with the arguments
 * bound. A block in a block in a block ... recurses through here once per
 * level, so this function keeps few locals and leaves the work around the
 * recursive call to helpers. `apply` is `applyLayer` (apply.ts), passed in
 * because apply.ts imports this module.
 */
export function instantiateBlock(
  ev: Evaluator,
  layer: Extract<LayerValue, { kind: "block" }>,
  x: Typed,
  site: Location,
  apply: (ev: Evaluator, layer: LayerValue, x: Typed, site: Location, within: string | null) => Applied | null,
): Applied | null {
  if (usesItself(ev, layer) || !ev.env.makeLayer(site, ev.sites) || !ev.env.enter(site)) return null;
  try {
    const open = openBlock(ev, layer, site);
    const body = sequentialBody(open, x, site);
    // A one-expression body applies its layer straight away: the common case of blocks in blocks takes one frame less.
    const result = body ? finishSequential(open, body, apply(open.body, body.layer, body.input, body.site, null)) : runDataFlow(open, layer, x);
    return result && closeBlock(open, result, x, site, body ? null : namedValues(open));
  } finally {
    ev.env.leave();
  }
}

/**
 * A block on a cycle of uses written in the blocks' bodies or defaults: it
 * was reported at its declaration (block-decls.ts), and is not instantiated.
 *
 * A block instantiated inside another instance of itself is not recursion
 * when the inner one came in as an argument: in `wrap(wrap(relu))` or a
 * nested U-Net `level(inner: level(inner: ...))` each instance is a finite
 * value written at the call, so the nesting ends where the text does. Only
 * a cycle in the declarations can go on forever, and the nesting limit
 * (RC214) still bounds what a use makes.
 */
function usesItself(ev: Evaluator, layer: Extract<LayerValue, { kind: "block" }>): boolean {
  return ev.env.recursiveBlocks.has(layer.block.decl);
}

/** A block being instantiated: the evaluator of its body, its graph and scope, its arguments as the checked program records them. */
interface OpenBlock {
  readonly name: string;
  readonly decl: BlockDecl;
  readonly body: Evaluator;
  readonly graph: GraphBuilder;
  readonly scope: Scope;
  readonly resolved: Record<string, ArgValue>;
}

/** Makes the body's scope: parameters bound to the arguments, defaults evaluated. */
function openBlock(ev: Evaluator, layer: Extract<LayerValue, { kind: "block" }>, site: Location): OpenBlock {
  const decl = layer.block.decl;
  const name = decl.name.text;
  const module = layer.block.module;
  const source = module.source;
  const graph = new GraphBuilder();
  const scope = new Scope(moduleScope(module));
  const body = ev.with({ module, scope, graph, sites: [...ev.sites, { block: name, location: site }], allow: new Set(["parameters"]) });
  const resolved: Record<string, ArgValue> = {};
  for (const p of blockSpecs(ev.env, layer.block).params) {
    let value = layer.args.get(p.spec.name);
    if (value === undefined) {
      value = p.decl.default ? evaluateArg(body, `block '${name}'`, p.spec, p.decl.default) : ERROR;
    }
    scope.define(p.spec.name, fixed(value, { source, span: p.decl.name.span }));
    const arg = toArgValue(value);
    if (arg !== undefined) resolved[p.spec.name] = arg;
  }
  return { name, decl, body, graph, scope, resolved };
}

/** A one-expression body: its layer, and the block's input in the body's graph. Null for a data-flow body (or an empty one). */
function sequentialBody(open: OpenBlock, x: Typed, site: Location): { layer: LayerValue; input: TensorValue; site: Location } | null {
  const { inputs, exprs } = blockBody(open.decl);
  const stmt = exprs[0];
  if (inputs.length > 0 || !stmt) return null;
  const id = open.graph.add({ op: "input", name: "x", type: x.type, location: site });
  const input: TensorValue = { kind: "tensor", type: x.type, node: id, graph: open.graph, origin: x.origin };
  const layer = open.body.evaluateLayer(stmt.value);
  return layer && { layer, input, site: open.body.loc(stmt.value.span) };
}

/** The output of a one-expression body, once its layer was applied. */
function finishSequential(open: OpenBlock, body: { input: TensorValue; site: Location }, r: Applied | null): TensorValue | null {
  if (!r) return null;
  const id = open.graph.add({ op: "apply", part: null, layer: r.node, input: body.input.node, type: r.output, location: body.site });
  return open.body.tensor(r.output, id, `the output of block '${open.name}'`);
}

/** A data-flow body: inputs, lets (evaluated as lazily as a model's, see order.ts) and the output. */
function runDataFlow(open: OpenBlock, layer: Extract<LayerValue, { kind: "block" }>, x: Typed): TensorValue | null {
  const { body, decl, name, scope, graph, resolved } = open;
  const source = body.module.source;
  const { inputs, lets, outputs } = blockBody(decl);
  // A one-expression body whose layer failed: already reported.
  if (inputs.length === 0) return null;
  inputs.forEach((input, i) => {
    let type = x.type;
    let origin = x.origin;
    if (i > 0) {
      const given = layer.inputs.get(input.name.text);
      if (!given) return;
      type = given.type;
      origin = given.origin;
      resolved[input.name.text] = { node: given.node };
    }
    if (input.type) checkDeclaredInput(body, name, input.type, { type, origin });
    const id = graph.add({ op: "input", name: input.name.text, type, location: { source, span: input.name.span } });
    define(body, input.name.text, fixed({ kind: "tensor", type, node: id, graph, origin: `input '${input.name.text}'` }, { source, span: input.name.span }));
  });
  const bindings = lets.map((l) => {
    // A let's value is named after the let in messages.
    const value = (): Value => {
      const v = body.evaluate(l.value);
      return v.kind === "tensor" ? { ...v, origin: `let '${l.name.text}'` } : v;
    };
    const binding = lazy({ source, span: l.name.span }, value, (span) => body.report(messages.selfReference, span, { name: l.name.text }));
    define(body, l.name.text, binding);
    return binding;
  });
  evaluateLetsFirst(body, lets, bindings);
  const out = outputs[0];
  const result = out ? body.evaluateTensor(out.value) : null;
  for (const l of lets) scope.lookup(l.name.text)?.get(l.name.span);
  return result;
}

/** Long chains of lets are evaluated bottom up before the output, and long cycles reported, so nothing nests deeply (order.ts). */
function evaluateLetsFirst(body: Evaluator, lets: readonly LetDecl[], bindings: readonly LazyBinding[]): void {
  const index = new Map(lets.map((l, i) => [l.name.text, i]));
  const plan = planEvaluation(lets.length, (i) =>
    namesUsed(lets[i]!.value, (n) => body.scope.lookup(n) !== undefined).flatMap((use) => {
      const target = index.get(use.name);
      return target === undefined ? [] : [{ target, span: use.span }];
    }),
  );
  for (const c of plan.cycles) {
    const names = c.members.map((i) => lets[i]!.name.text);
    body.report(messages.selfReference, c.closing.span, { name: names[0]! }, { notes: [describeCycle(names)] });
    c.members.forEach((i) => bindings[i]!.settle(ERROR));
  }
  for (const i of plan.first) bindings[i]!.get(lets[i]!.name.span);
}

/** The block's node in the checked program, from its finished graph. */
function closeBlock(open: OpenBlock, result: TensorValue, x: Typed, site: Location, values: Record<string, number> | null): Applied {
  const built = open.graph.build();
  const params = built.nodes.reduce((sum, n) => sum + (n.op === "apply" ? n.layer.params : 0), 0);
  return {
    node: { kind: "block", name: open.name, args: open.resolved, graph: built, result: result.node, input: x.type, output: result.type, params, location: site, ...(values ? { values } : {}) },
    output: result.type,
  };
}

/** A data-flow body's inputs and lets that have values, by name: what a path can read from outside (spec/paths.md). */
function namedValues(open: OpenBlock): Record<string, number> {
  const { inputs, lets } = blockBody(open.decl);
  const out: Record<string, number> = {};
  for (const stmt of [...inputs, ...lets]) {
    const v = open.scope.lookup(stmt.name.text)?.get(stmt.name.span);
    if (v?.kind === "tensor" && v.graph === open.graph) out[stmt.name.text] = v.node;
  }
  return out;
}

/** Binds a body name; a second binding of the same name is an error. */
function define(body: Evaluator, name: string, binding: ReturnType<typeof fixed>): void {
  const earlier = body.scope.define(name, binding);
  if (earlier && binding.location) {
    body.reportAt(messages.duplicateDefinition, binding.location, { name, scope: "block" }, {
      related: earlier.location ? [{ source: earlier.location.source, span: earlier.location.span, message: "first defined here" }] : [],
    });
  }
}

/** `input x: f32[64]` in a block: what is passed must have that type. */
function checkDeclaredInput(body: Evaluator, block: string, typeExpr: NonNullable<BlockDecl["body"][number] & { kind: "Input" }>["type"] & object, x: Typed): void {
  const declared = body.evaluateType(typeExpr, `an input of block '${block}'`);
  if (!declared) return;
  if (!sameType({ ...declared, batched: x.type.batched }, x.type)) {
    body.report(messages.layerInput, typeExpr.span, { layer: `block '${block}'`, expected: formatType(declared), origin: x.origin, actual: describeType(x.type) });
  }
}
