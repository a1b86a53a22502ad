/**
 * Blocks: reusable, parametric layers written in repr. A block's body is
 * checked where the block is applied, with concrete arguments and a concrete
 * input type, so `4 * dim` and shapes are known there (what can be checked
 * without a use is in block-decls.ts).
 */
import type { BlockDecl } from "../../language/ast.js";
import { messages } from "../../language/diagnostics/messages.js";
import { toArgValue } from "./arg-values.js";
import { evaluateArg } from "./bind.js";
import { blockBody, blockSpecs } from "./block-params.js";
import type { Applied, Evaluator, Typed } from "./evaluator.js";
import { GraphBuilder } from "./graph.js";
import type { ArgValue, Location } from "./program.js";
import { Scope, fixed, lazy, moduleScope } from "./scope.js";
import { describeType, formatType, sameType } from "./types.js";
import { ERROR, type LayerValue, type TensorValue, type Value } from "./values.js";

/** Instantiates a block for one input: evaluates its body with the arguments bound. */
export function instantiateBlock(ev: Evaluator, layer: Extract<LayerValue, { kind: "block" }>, x: Typed, site: Location): Applied | null {
  const decl = layer.block.decl;
  const name = decl.name.text;
  if (ev.sites.some((s) => s.decl === decl)) {
    // A cycle written in the blocks' bodies was reported at their declarations.
    if (!ev.env.recursiveBlocks.has(decl)) ev.reportAt(messages.recursiveBlock, site, { name });
    return null;
  }
  const module = layer.block.module;
  const source = module.source;
  const graph = new GraphBuilder();
  const scope = new Scope(moduleScope(module));
  const body = ev.with({ module, scope, graph, sites: [...ev.sites, { block: name, location: site, decl }], allow: new Set(["parameters"]) });
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

  const { inputs, lets, outputs, exprs } = blockBody(decl);
  let result: TensorValue | null = null;
  if (inputs.length === 0) {
    const stmt = exprs[0];
    if (!stmt) return null;
    const id = graph.add({ op: "input", name: "x", type: x.type, location: site });
    const input: TensorValue = { kind: "tensor", type: x.type, node: id, graph, origin: x.origin };
    const l = body.evaluateLayer(stmt.value);
    result = l && body.apply(l, input, stmt.value.span);
  } else {
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
    for (const l of lets) {
      // A let's value is named after the let in messages.
      const value = (): Value => {
        const v = body.evaluate(l.value);
        return v.kind === "tensor" ? { ...v, origin: `let '${l.name.text}'` } : v;
      };
      define(body, l.name.text, lazy({ source, span: l.name.span }, value, (span) => body.report(messages.selfReference, span, { name: l.name.text })));
    }
    const out = outputs[0];
    result = out ? body.evaluateTensor(out.value) : null;
    for (const l of lets) scope.lookup(l.name.text)?.get(l.name.span);
  }
  if (!result) return null;
  const built = graph.build();
  const params = built.nodes.reduce((sum, n) => sum + (n.op === "apply" ? n.layer.params : 0), 0);
  return {
    node: { kind: "block", name, args: resolved, graph: built, result: result.node, input: x.type, output: result.type, params, location: site },
    output: result.type,
  };
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
