/**
 * Checking a model: binds its members (inputs, parts, masks, views, lets) so
 * they can be used in any order, evaluates every member, loss and output into
 * one graph, works out the prediction path and runs the model rules.
 */
import type { Expr, ModelDecl, ModelMember, Name } from "../../language/ast.js";
import { messages } from "../../language/diagnostics/messages.js";
import { builtinsOf, reservedBuiltin } from "../builtins/index.js";
import { categoryNoun } from "../builtins/spec.js";
import type { CheckEnv } from "./env.js";
import { ExpressionEvaluator } from "./evaluate.js";
import type { Allowance, Evaluator } from "./evaluator.js";
import { GraphBuilder, ancestors } from "./graph.js";
import type { ModuleInfo } from "./modules.js";
import { computePrediction } from "./prediction.js";
import type { CheckedLoss, CheckedModel, CheckedPart, Location } from "./program.js";
import { runModelRules } from "./rules/index.js";
import type { LossFacts, ModelFacts } from "./rules/rule.js";
import { Scope, fixed, lazy, moduleScope, type Binding, type LazyBinding } from "./scope.js";
import { describeCycle, namesUsed, planEvaluation, type LongCycle } from "./order.js";
import type { TensorType } from "./types.js";
import { ERROR, describeValue, type LayerValue, type MaskValue, type PartState, type Value } from "./values.js";

/** A member others can use by name: what it is written as, how to evaluate it, how to settle it as failed. */
interface Definition {
  readonly member: ModelMember & { readonly name: Name };
  readonly value: Expr | null;
  evaluate(): void;
  settle(): void;
}

/** A checked model and the facts its rules saw (pipelines use both). */
export interface ModelResult {
  readonly model: CheckedModel;
  readonly facts: ModelFacts;
  /** True when checking the model reported errors (later steps then skip checks that would echo them). */
  readonly hadErrors: boolean;
}

/**
 * What a pipeline step changes when it checks the model again: label inputs
 * typed with the step's class count, and heads it replaced.
 */
export interface ModelOverrides {
  readonly inputs?: ReadonlyMap<string, TensorType>;
  readonly parts?: ReadonlyMap<string, LayerValue>;
}

/** Checks one model declaration (with a pipeline step's overrides, if any). */
export function checkModel(env: CheckEnv, module: ModuleInfo, decl: ModelDecl, overrides: ModelOverrides = {}): ModelResult {
  const source = module.source;
  const errorsBefore = env.errorCount();
  const graph = new GraphBuilder();
  const scope = new Scope(moduleScope(module));
  const ev = new ExpressionEvaluator(env, { module, scope, graph });
  const parts = new Map<string, PartState>();
  const masks = new Map<string, MaskValue>();
  const inputNodes = new Map<string, number>();
  const loc = (name: Name): Location => ({ source, span: name.span });
  const cycle = (name: string) => (span: Name["span"]) => ev.report(messages.selfReference, span, { name });
  const seen = new Map<string, Name>();
  // Members that others can use by name, for the evaluation plan (order.ts).
  const definitions: Definition[] = [];
  const definitionOf = new Map<string, number>();

  const define = (name: Name, binding: Binding | null, definition?: Definition): void => {
    // A second definition is that one mistake, whatever its name (a reserved one was reported at the first).
    const first = seen.get(name.text);
    if (first) {
      ev.report(messages.duplicateDefinition, name.span, { name: name.text, scope: "model" }, {
        related: [{ source, span: first.span, message: "first defined here" }],
      });
      return;
    }
    // A reused built-in name is reported, then bound anyway so its uses do not cascade;
    // a call of the name still reaches the built-in (see evaluateCall).
    if (reusesReservedName(ev, name) && binding) binding = { ...binding, reservedName: true };
    seen.set(name.text, name);
    if (binding) scope.define(name.text, binding);
    if (definition) {
      if (!definitions.includes(definition)) definitions.push(definition);
      definitionOf.set(name.text, definitions.indexOf(definition));
    }
  };

  /** A member evaluated lazily, as a definition of the evaluation plan. */
  const lazyMember = (member: ModelMember & { name: Name }, value: Expr | null, binding: LazyBinding): Definition => ({
    member,
    value,
    evaluate: () => binding.get(member.name.span),
    settle: () => binding.settle(ERROR),
  });

  for (const member of decl.members) bindMember(member);

  function bindMember(member: ModelMember): void {
    switch (member.kind) {
      case "Input": {
        const binding = lazy(loc(member.name), () => evaluateInput(member), cycle(member.name.text));
        define(member.name, binding, lazyMember(member, member.type, binding));
        return;
      }
      case "Part": {
        const { part, settle } = makePart(member);
        parts.set(member.name.text, part);
        define(member.name, fixed({ kind: "layer", layer: { kind: "part", part, location: loc(member.name) } }, loc(member.name)), {
          member,
          value: member.value,
          evaluate: () => part.define(),
          settle,
        });
        return;
      }
      case "Mask": {
        const binding = lazy(loc(member.name), () => evaluateMask(member), cycle(member.name.text));
        define(member.name, binding, lazyMember(member, member.value, binding));
        return;
      }
      case "Views": {
        // The parser may recover a views member without its names; there is nothing to bind then.
        if (member.names.length === 0) return;
        const pair = lazy(loc(member.names[0]!), () => evaluateViews(member), cycle(member.names.map((n) => n.text).join(", ")));
        const definition: Definition = { member: { ...member, name: member.names[0]! }, value: member.value, evaluate: () => pair.get(member.names[0]!.span), settle: () => pair.settle(ERROR) };
        member.names.forEach((name, i) =>
          define(
            name,
            {
              location: loc(name),
              get: (at) => {
                const v = pair.get(at);
                return v.kind === "list" ? (v.items[i] ?? ERROR) : ERROR;
              },
            },
            definition,
          ),
        );
        return;
      }
      case "Let": {
        const binding = lazy(loc(member.name), () => named(ev.evaluateTensor(member.value), `let '${member.name.text}'`), cycle(member.name.text));
        define(member.name, binding, lazyMember(member, member.value, binding));
        return;
      }
      case "Loss":
        // Decision (spec): a loss name is not a value; a weighted sum is written inside one loss.
        define(member.name, fixed({ kind: "loss", name: member.name.text }, loc(member.name), "loss"));
        return;
      case "Output": {
        // A named output is a value of the model, like a let (spec/models.md).
        if (!member.name) return;
        const name = member.name;
        const binding = lazy(loc(name), () => named(ev.evaluateTensor(member.value), `output '${name.text}'`), cycle(name.text));
        define(name, binding, lazyMember({ ...member, name }, member.value, binding));
        return;
      }
    }
  }

  function evaluateInput(member: Extract<ModelMember, { kind: "Input" }>): Value {
    const name = member.name.text;
    if (!member.type) {
      ev.report(messages.invalidInputType, member.name.span, { construct: `input '${name}'`, actual: "nothing" });
      return ERROR;
    }
    const type = overrides.inputs?.get(name) ?? ev.evaluateType(member.type, `input '${name}'`);
    if (!type) return ERROR;
    const id = graph.add({ op: "input", name, type, location: loc(member.name) });
    inputNodes.set(name, id);
    return ev.tensor(type, id, `input '${name}'`);
  }

  // Parts whose definitions are being evaluated, outermost first (to name a cycle).
  const defining: string[] = [];

  /** A part, and how to settle its definition as failed (a long cycle already reported). */
  function makePart(member: Extract<ModelMember, { kind: "Part" }>): { part: PartState; settle: () => void } {
    let state: "new" | "busy" | "done" = "new";
    let layer: LayerValue | null = null;
    const name = member.name.text;
    const allow = new Set<Allowance>(member.role === "bottleneck" ? ["bottleneck"] : []);
    // A momentum teacher is a part's whole value (spec/teachers.md).
    if (isCallOf(member.value, "ema")) allow.add("teacher");
    const settle = () => {
      state = "done";
      layer = null;
    };
    const part: PartState = {
      decl: member,
      location: loc(member.name),
      first: null,
      applying: false,
      used: false,
      define() {
        const replaced = overrides.parts?.get(member.name.text);
        if (replaced) return replaced;
        if (state === "done") return layer;
        if (state === "busy") {
          const path = [...defining.slice(defining.indexOf(name)), name];
          ev.report(messages.selfReference, member.name.span, { name }, { notes: path.length > 2 ? [`the cycle: ${path.join(" -> ")}`] : [] });
          return null;
        }
        state = "busy";
        defining.push(name);
        layer = startsFromValue(member.value) ? null : ev.with({ allow }).evaluateLayer(member.value);
        // The parts it uses are defined now, so a cycle of parts is found even when none is applied.
        if (layer && !usedPartsDefine(layer)) layer = null;
        defining.pop();
        state = "done";
        return layer;
      },
    };
    return { part, settle };
  }

  /** `encoder f = x -> dense(4)`: a part is a layer, not a value; reported without applying anything. */
  function startsFromValue(e: Expr): boolean {
    if (e.kind !== "Pipe" || e.stages.length < 2 || (e.stages[0]?.kind !== "Ident" && e.stages[0]?.kind !== "Member")) return false;
    const head = ev.evaluate(e.stages[0]);
    if (head.kind !== "tensor") return false;
    ev.report(messages.expectedLayer, e.span, { actual: `a value (${describeValue(head)} piped into layers)` }, {
      notes: [`a part is defined by layers alone: write '${ev.module.source.slice({ start: e.stages[1]!.span.start, end: e.span.end })}' and apply the part to '${ev.module.source.slice(e.stages[0].span)}'`],
    });
    return true;
  }

  function evaluateMask(member: Extract<ModelMember, { kind: "Mask" }>): Value {
    const v = ev.with({ allow: new Set(["mask"]), memberName: member.name.text }).evaluate(member.value);
    if (v.kind === "mask") {
      masks.set(member.name.text, v);
      return v;
    }
    if (v.kind !== "error") {
      const expected = [...builtinsOf("mask").keys()].join(", ");
      ev.report(messages.maskValue, member.value.span, { name: member.name.text, expected, actual: describeValue(v) });
    }
    return ERROR;
  }

  function evaluateViews(member: Extract<ModelMember, { kind: "Views" }>): Value {
    // The view names travel as the member name, so the graph's views node can carry them.
    const v = ev.with({ allow: new Set(["augment"]), memberName: member.names.map((n) => n.text).join(",") }).evaluate(member.value);
    if (v.kind === "list" && v.items.length === 2 && v.items.every((i) => i.kind === "tensor")) {
      return { kind: "list", items: v.items.map((item, i) => ({ ...item, origin: `view '${member.names[i]?.text}'` })) };
    }
    if (v.kind !== "error") ev.report(messages.viewsValue, member.value.span, { names: member.names.map((n) => n.text).join(", "), actual: describeValue(v) });
    return ERROR;
  }

  // Long chains of members are evaluated bottom up first, and long cycles reported, so nothing nests deeply.
  const plan = planEvaluation(definitions.length, (i) =>
    namesUsed(definitions[i]!.value ?? { kind: "ErrorExpr", span: definitions[i]!.member.span }, (n) => scope.lookup(n) !== undefined).flatMap((use) => {
      const target = definitionOf.get(use.name);
      return target === undefined ? [] : [{ target, span: use.span }];
    }),
  );
  for (const c of plan.cycles) reportLongCycle(c);
  for (const i of plan.first) definitions[i]!.evaluate();

  /** A cycle too long to leave to lazy evaluation: reported as lazy evaluation would, then settled as failed. */
  function reportLongCycle(c: LongCycle): void {
    const names = c.members.map((i) => definitions[i]!.member.name.text);
    const start = definitions[c.members[0]!]!.member;
    const notes = [describeCycle(names)];
    // A part on a cycle is reported at its declaration, as defining it would; another member at the use that closes the cycle.
    const span = start.kind === "Part" ? start.name.span : c.closing.span;
    ev.report(messages.selfReference, span, { name: start.name.text }, { notes });
    c.members.forEach((i) => definitions[i]!.settle());
  }

  // Evaluate everything, in declaration order; members used earlier are already done.
  const losses: LossFacts[] = [];
  let output: number | null = null;
  let outputSeen = false;
  for (const member of decl.members) {
    switch (member.kind) {
      case "Part":
        parts.get(member.name.text)!.define();
        break;
      case "Views":
        if (member.names[0]) scope.lookup(member.names[0].text)?.get(member.names[0].span);
        break;
      case "Loss": {
        const value = ev.with({ allow: new Set(["objective"]) }).evaluate(member.value);
        const on = member.on ? ev.evaluate(member.on) : null;
        losses.push({ decl: member, value, on });
        break;
      }
      case "Output": {
        if (member.name) {
          scope.lookup(member.name.text)?.get(member.name.span);
          break;
        }
        let v = ev.evaluateTensor(member.value);
        // The output is the prediction, one per example: a statistic of the batch is not one (RC452).
        if (v && !v.type.batched) {
          ev.report(messages.needsExamples, member.value.span, { construct: "the model's output", origin: v.origin });
          v = null;
        }
        if (!outputSeen && v) output = v.node;
        outputSeen = true;
        break;
      }
      default:
        scope.lookup(member.name.text)?.get(member.name.span);
    }
  }

  const lets = decl.members.flatMap((m) => (m.kind === "Let" ? [{ decl: m, value: scope.lookup(m.name.text)?.get(m.name.span) ?? ERROR }] : []));
  // Values the model names (lets and views), so the prediction path is written as the model writes it.
  const names = new Map<number, string>();
  for (const m of decl.members) {
    for (const name of m.kind === "Let" ? [m.name] : m.kind === "Views" ? m.names : []) {
      const v = scope.lookup(name.text)?.get(name.span);
      if (v?.kind === "tensor" && !names.has(v.node)) names.set(v.node, name.text);
    }
  }
  const prediction = computePrediction(ev, decl, parts, output, inputNodes, names, env.errorCount() > errorsBefore);
  // The values of named outputs, by name (buildModel lists them).
  const values = new Map<string, { node: number; type: TensorType }>();
  for (const m of decl.members) {
    if (m.kind !== "Output" || !m.name) continue;
    const v = scope.lookup(m.name.text)?.get(m.name.span);
    if (v?.kind === "tensor") values.set(m.name.text, { node: v.node, type: v.type });
  }
  const facts: ModelFacts = {
    decl,
    values,
    source,
    parts,
    masks,
    losses,
    lets,
    graph,
    predictionParts: prediction?.parts ?? [],
    hadErrors: () => env.errorCount() > errorsBefore,
    report: (template, span, args, extra) => ev.report(template, span, args, extra),
    didYouMean: (name, candidates) => env.didYouMean(name, candidates),
  };
  runModelRules(facts);
  return { model: buildModel(decl, module, facts, prediction, output), facts, hadErrors: facts.hadErrors() };
}

/** A let's value, named after the let in messages. */
function named(v: Value | null, origin: string): Value {
  return v?.kind === "tensor" ? { ...v, origin } : ERROR;
}

/** Defines every part a layer uses; false when one of them cannot be defined (a cycle, an error). */
function usedPartsDefine(layer: LayerValue): boolean {
  switch (layer.kind) {
    case "part":
      return layer.part.define() !== null;
    case "sequence":
      return layer.layers.every(usedPartsDefine);
    case "builtin":
      return layer.layerArgs.every(usedPartsDefine);
    case "block":
      return [...layer.args.values()].every((v) => v.kind !== "layer" || usedPartsDefine(v.layer));
  }
}

/**
 * A member may not reuse a built-in's name, nor a block's in scope (models,
 * data and pipelines are never referenced inside a model, so their names may be reused).
 */
export function reusesReservedName(ev: Evaluator, name: Name): boolean {
  const builtin = reservedBuiltin(name.text);
  const top = ev.module.scope.get(name.text);
  if (!builtin && top?.kind !== "block") return false;
  ev.report(messages.shadowsBuiltin, name.span, { name: name.text, category: builtin ? `built-in ${categoryNoun[builtin.category]}` : "block in scope" });
  return true;
}

/** The checked model from what checking established. */
function buildModel(
  decl: ModelDecl,
  module: ModuleInfo,
  facts: ModelFacts,
  prediction: CheckedModel["prediction"],
  output: number | null,
): CheckedModel {
  const source = module.source;
  const graph = facts.graph.build();
  const inputs = graph.nodes.flatMap((n) => {
    if (n.op !== "input") return [];
    const member = decl.members.find((m) => m.kind === "Input" && m.name.text === n.name);
    return [{ name: n.name, type: n.type, node: n.id, doc: member?.doc ?? null, location: n.location }];
  });
  const parts: CheckedPart[] = [...facts.parts.values()].map((p) => ({
    role: p.decl.role,
    name: p.decl.name.text,
    doc: p.decl.doc,
    layer: p.first?.node ?? null,
    input: p.first?.input ?? null,
    output: p.first?.node.output ?? null,
    params: p.first?.node.params ?? 0,
    location: p.location,
  }));
  const losses: CheckedLoss[] = facts.losses.flatMap((l) => {
    if (l.value.kind !== "tensor") return [];
    const deps = ancestors(facts.graph, l.value.node);
    const objectives = [...deps].sort((a, b) => a - b).flatMap((id) => {
      const n = facts.graph.node(id);
      return n.op === "call" && n.category === "objective" ? [n.name] : [];
    });
    const regularizers = [...deps].flatMap((id) => {
      const n = facts.graph.node(id);
      if (n.op !== "apply" || !n.part) return [];
      return bottleneckRegularizers(facts.parts.get(n.part)?.define() ?? null, n.part);
    });
    return [{
      name: l.decl.name.text,
      doc: l.decl.doc,
      node: l.value.node,
      on: l.on?.kind === "tensor" ? l.on.node : null,
      objectives,
      regularizers: [...new Set(regularizers)],
      location: { source, span: l.decl.name.span },
    }];
  });
  const maskParams = graph.nodes.reduce((sum, n) => {
    if (n.op !== "mask" || n.strategy !== "random_patches" || n.args["encoder_sees"] !== "mask_token") return sum;
    return sum + n.fields.input.shape[1]!;
  }, 0);
  const lets = facts.lets.flatMap(({ decl: l, value }) =>
    value.kind === "tensor" ? [{ name: l.name.text, doc: l.doc, node: value.node, type: value.type }] : [],
  );
  // Named outputs: values the model offers besides its prediction (spec/models.md).
  const outputs = decl.members.flatMap((m) => {
    if (m.kind !== "Output" || !m.name) return [];
    const v = facts.values.get(m.name.text);
    return v ? [{ name: m.name.text, doc: m.doc, node: v.node, type: v.type }] : [];
  });
  return {
    name: decl.name.text,
    doc: decl.doc,
    inputs,
    parts,
    lets,
    graph,
    losses,
    output,
    outputs,
    prediction,
    totalParams: parts.reduce((s, p) => s + p.params, 0) + maskParams,
    location: { source, span: decl.name.span },
  };
}

/** Terms a bottleneck part adds to every loss that trains through it. */
function bottleneckRegularizers(layer: LayerValue | null, part: string): string[] {
  if (!layer || layer.kind !== "builtin" || !layer.def.regularizer) return [];
  const term = layer.def.regularizer(layer.args);
  return term ? [`${part}: ${term}`] : [];
}

/** True when an expression is a call of the name `name`: `ema(f)`. */
function isCallOf(e: Expr, name: string): boolean {
  return e.kind === "Call" && e.callee.kind === "Ident" && e.callee.name === name;
}
