/**
 * The expression evaluator: turns an expression into a checker value in a
 * scope, adding graph nodes for the values it computes and reporting every
 * problem it finds. Calls are in calls.ts, layer application in apply.ts;
 * those modules see the evaluator through the interface in evaluator.ts.
 */
import type { BinaryExpr, Expr, IndexExpr, MemberExpr, PipeExpr, Span } from "../../language/ast.js";
import type { MessageArgs } from "../../language/diagnostics/diagnostic.js";
import { messages, type MessageTemplate } from "../../language/diagnostics/messages.js";
import { applyLayer, applyPart } from "./apply.js";
import { builtinByName, dataTypeByName } from "../builtins/index.js";
import { asBareLayer, bindBuiltinArgs, dataTypeFits, evaluateCall } from "./calls.js";
import { conversion } from "../builtins/conversions.js";
import { foreignNameHelp } from "./foreign-names.js";
import { innerValue } from "./inner-values.js";
import type { CheckEnv, ReportExtra, Site } from "./env.js";
import type { Allowance, EvalContext, Evaluator } from "./evaluator.js";
import type { GraphBuilder } from "./graph.js";
import type { ModuleInfo } from "./modules.js";
import type { LayerNode, Location, NodeId } from "./program.js";
import type { Binding, Scope } from "./scope.js";
import { editThreshold } from "./suggest.js";
import { MAX_DIMENSION, elementCount, formatDims, formatShape, sameShape, shapeFits, type TensorType } from "./types.js";
import { ERROR, describeLayer, describeValue, type LayerValue, type MaskValue, type TensorValue, type Value } from "./values.js";

const NONE: ReadonlySet<Allowance> = new Set();

/** The first layer in a resolved tree that owns parameters, for messages. */
function firstWithParameters(node: LayerNode): { category: string; name: string } {
  if (node.kind === "block") return { category: "block", name: node.name };
  if (node.kind === "sequence") {
    const inner = node.layers.find((l) => l.params > 0);
    if (inner) return firstWithParameters(inner);
  }
  return { category: "layer", name: node.kind === "builtin" ? node.name : node.kind === "part" ? node.name : "?" };
}

/** True when a number literal is written as an int (no point, no exponent). */
export function isIntLiteral(raw: string): boolean {
  return !/[.eE]/.test(raw);
}

/** Evaluates expressions in one context: the implementation of `Evaluator`. */
export class ExpressionEvaluator implements Evaluator {
  readonly module: ModuleInfo;
  readonly scope: Scope;
  readonly graph: GraphBuilder | null;
  readonly sites: readonly Site[];
  readonly allow: ReadonlySet<Allowance>;
  readonly memberName: string | undefined;

  constructor(
    readonly env: CheckEnv,
    context: Omit<EvalContext, "sites" | "allow"> & Partial<Pick<EvalContext, "sites" | "allow">>,
  ) {
    this.module = context.module;
    this.scope = context.scope;
    this.graph = context.graph;
    this.sites = context.sites ?? [];
    this.allow = context.allow ?? NONE;
    this.memberName = context.memberName;
  }

  /** The same evaluator with some context replaced. */
  with(changes: Partial<EvalContext>): ExpressionEvaluator {
    return new ExpressionEvaluator(this.env, { ...this.context(), ...changes });
  }

  private context(): EvalContext {
    return { module: this.module, scope: this.scope, graph: this.graph, sites: this.sites, allow: this.allow, ...(this.memberName !== undefined ? { memberName: this.memberName } : {}) };
  }

  /** A location in this evaluator's file. */
  loc(span: Span): Location {
    return { source: this.module.source, span };
  }

  /** Reports a problem at a span of this evaluator's file. */
  report(template: MessageTemplate, span: Span, args: MessageArgs = {}, extra: ReportExtra = {}): void {
    this.env.report(template, this.loc(span), args, extra, this.sites);
  }

  /** Reports at a location that may be in another file (a layer defined elsewhere). */
  reportAt(template: MessageTemplate, location: Location, args: MessageArgs = {}, extra: ReportExtra = {}): void {
    this.env.report(template, location, args, extra, this.sites);
  }

  /** Evaluates an expression. */
  evaluate(e: Expr): Value {
    switch (e.kind) {
      case "Number":
        if (!Number.isFinite(e.value)) {
          this.report(messages.notFinite, e.span, { expr: e.raw, value: String(e.value) });
          return ERROR;
        }
        return { kind: "number", value: e.value, int: isIntLiteral(e.raw) };
      case "String":
        return { kind: "string", value: e.value };
      case "Bool":
        return { kind: "bool", value: e.value };
      case "Ident":
        return this.lookup(e.name, e.span);
      case "List":
        return { kind: "list", items: e.items.map((item) => this.evaluate(item)) };
      case "Map":
        return { kind: "map" };
      case "Call":
        return evaluateCall(this, e);
      case "Member":
        return this.member(e);
      case "Index":
        return this.index(e);
      case "Binary":
        return this.binary(e);
      case "Unary": {
        const v = this.evaluate(e.operand);
        if (v.kind === "number") return { ...v, value: -v.value };
        if (v.kind === "tensor" && v.type.dtype === "f32" && this.graph) {
          return this.tensor(v.type, this.graph.add({ op: "negate", input: v.node, type: v.type, location: this.loc(e.span) }), `-(${v.origin})`);
        }
        if (v.kind !== "error") this.report(messages.invalidOperands, e.span, { op: "-", left: "nothing", right: describeValue(v) });
        return ERROR;
      }
      case "Pipe":
        return this.pipe(e);
      case "ErrorExpr":
        return ERROR;
    }
  }

  /** The value of a name, or an error with suggestions. */
  lookup(name: string, span: Span): Value {
    const binding = this.scope.lookup(name);
    if (binding) return binding.get(span);
    // Any name might have come from a wildcard import that failed (already reported).
    if (this.module.wildcardFailed) return ERROR;
    const candidates = this.scope.near(name, editThreshold(name.length), (b) => this.couldStandHere(b));
    this.report(messages.unknownName, span, { name }, { notes: this.env.didYouMean(name, candidates), help: foreignNameHelp(name) });
    return ERROR;
  }

  /**
   * Whether a name could replace a misspelt one here: values and layers. Models,
   * pipelines, losses and step settings never can; data declarations only in a
   * pipeline step (where there is no graph).
   */
  private couldStandHere(b: Binding): boolean {
    return b.sort === undefined || (b.sort === "data" && this.graph === null);
  }

  /**
   * Evaluates a data type: `f32[1, 28, 28]`, `label(classes: 10)`,
   * `tokens(length: 64, vocab: 96)`. Data type names are looked up here first,
   * so `tokens` is the data type in a type and the mask strategy elsewhere.
   */
  evaluateType(e: Expr, construct: string): TensorType | null {
    const callee = e.kind === "Call" && e.callee.kind === "Ident" ? e.callee.name : null;
    // Decision (spec): in a type, `label`, `tokens` and `token` always name the data types.
    const def = callee !== null ? dataTypeByName(callee) : undefined;
    if (def && e.kind === "Call") {
      const bound = bindBuiltinArgs(this, def.name, def.params, e.args, e.span);
      return bound && dataTypeFits(this, def, bound, e.span) ? def.type(bound.args) : null;
    }
    // Likewise `f32` and `i32` always name the element types in a type.
    const element = e.kind === "Index" && e.target.kind === "Ident" ? builtinByName(e.target.name) : undefined;
    const v = element?.category === "dtype" && e.kind === "Index" ? this.index(e, { kind: "builtin", def: element }) : this.with({ graph: null }).evaluate(e);
    if (v.kind === "type") return v.type;
    if (v.kind !== "error") this.report(messages.invalidInputType, e.span, { construct, actual: describeValue(v) });
    return null;
  }

  /** Evaluates an expression that must be a layer. */
  evaluateLayer(e: Expr): LayerValue | null {
    return this.asLayer(this.evaluate(e), e.span);
  }

  /** Evaluates an expression that must be a value. */
  evaluateTensor(e: Expr): TensorValue | null {
    return this.asTensor(this.evaluate(e), e.span);
  }

  /** A layer from a value: configured layers, parts, and built-ins or blocks usable bare. */
  asLayer(v: Value, span: Span): LayerValue | null {
    if (v.kind === "layer") return v.layer;
    if (v.kind === "error") return null;
    if (v.kind === "builtin" || v.kind === "block") return asBareLayer(this, v, span);
    const notes =
      v.kind === "tensor"
        ? ["a value is applied to layers with '->' or f(x); a part is defined by layers alone, e.g. 'encoder f = flatten -> dense(64)'"]
        : [];
    this.report(messages.expectedLayer, span, { actual: describeValue(v) }, { notes });
    return null;
  }

  /** A tensor from a value. */
  asTensor(v: Value, span: Span): TensorValue | null {
    if (v.kind === "tensor") return v;
    if (v.kind === "error") return null;
    const notes = v.kind === "layer" ? ["a layer gives a value when applied to one: f(x) or x -> f"] : [];
    this.report(messages.expectedValue, span, { actual: describeValue(v) }, { notes });
    return null;
  }

  /** A tensor value for a new node. */
  tensor(type: TensorType, node: NodeId, origin: string): TensorValue {
    if (!this.graph) throw new Error("internal: a value outside a graph");
    return { kind: "tensor", type, node, graph: this.graph, origin };
  }

  /** Applies a layer to a value, adding the application to the graph. */
  apply(layer: LayerValue, x: TensorValue, span: Span): TensorValue | null {
    if (!this.graph) return null;
    const site = this.loc(span);
    if (layer.kind === "part") {
      const r = applyPart(this, layer.part, x, site);
      if (!r) return null;
      const id = this.graph.add({ op: "apply", part: layer.part.decl.name.text, layer: r.node, input: x.node, type: r.output, location: site });
      return this.tensor(r.output, id, `the ${layer.part.decl.role} '${layer.part.decl.name.text}'`);
    }
    const r = applyLayer(this, layer, x, site, null);
    if (!r) return null;
    if (r.node.params > 0 && !this.allow.has("parameters")) {
      // Parameters belong to parts: a model's values may only apply parameter-free layers directly.
      const owner = firstWithParameters(r.node);
      this.report(messages.wrongPlace, span, { ...owner, where: "inside a part, since it has parameters: declare it, e.g. 'part p = ...', and apply p" });
      return null;
    }
    const id = this.graph.add({ op: "apply", part: null, layer: r.node, input: x.node, type: r.output, location: site });
    return this.tensor(r.output, id, `the output of ${describeLayer(layer)}`);
  }

  /** `a -> b -> c`: applies layers to a value, or composes layers. */
  private pipe(e: PipeExpr): Value {
    const [first, ...rest] = e.stages;
    const head = this.evaluate(first!);
    if (head.kind === "tensor") {
      // Stage names belong to layers (spec/paths.md); a value's pipe is read by number.
      for (const name of e.names ?? []) if (name) this.report(messages.stageNameOnValue, name.span, { name: name.text });
      let current: TensorValue = head;
      for (const stage of rest) {
        const layer = this.evaluateLayer(stage);
        const next = layer && this.apply(layer, current, stage.span);
        if (!next) return ERROR;
        current = next;
      }
      return current;
    }
    const layers = [this.asLayer(head, first!.span), ...rest.map((s) => this.evaluateLayer(s))];
    if (layers.some((l) => l === null)) return ERROR;
    const names = this.stageNames(e);
    return { kind: "layer", layer: { kind: "sequence", layers: layers as LayerValue[], location: this.loc(e.span), ...(names ? { names } : {}) } };
  }

  /** A pipe's stage names (`dense(64) as proj`), each used once in the pipe (RC202); null when it has none. */
  private stageNames(e: PipeExpr): (string | null)[] | null {
    if (!e.names?.some((n) => n !== null)) return null;
    const seen = new Map<string, Span>();
    return e.names.map((n) => {
      if (!n) return null;
      const first = seen.get(n.text);
      if (first) {
        this.report(messages.duplicateDefinition, n.span, { name: n.text, scope: "pipe" }, { related: [{ source: this.module.source, span: first, message: "first defined here" }] });
        return null;
      }
      seen.set(n.text, n.span);
      return n.text;
    });
  }

  /** `m.input`, `digits.train`. */
  private member(e: MemberExpr): Value {
    const target = this.evaluate(e.target);
    const name = e.name.text;
    if (target.kind === "mask") return this.maskField(target, name, e);
    // A value inside the application that computed a value, by path (spec/paths.md).
    if (target.kind === "tensor") return innerValue(this, target, e);
    if (target.kind === "data") {
      if (name === "train" || name === "test") {
        return { kind: "split", data: target.data, module: target.module, split: name, perClass: null, labels: null };
      }
      this.report(messages.unknownSplit, e.name.span, { data: target.data.name.text, split: name }, { notes: this.env.didYouMean(name, ["train", "test"]) });
      return ERROR;
    }
    if (target.kind !== "error") {
      this.report(messages.unknownMember, e.name.span, { construct: describeValue(target), member: name, members: "no members" });
    }
    return ERROR;
  }

  private maskField(mask: MaskValue, name: string, e: MemberExpr): Value {
    const fields = ["input", "target", "masked"] as const;
    const field = fields.find((f) => f === name);
    if (!field) {
      this.report(messages.unknownMember, e.name.span, { construct: `mask '${mask.name}'`, member: name, members: fields.join(", ") }, {
        notes: this.env.didYouMean(name, fields),
      });
      return ERROR;
    }
    const type = mask.fields[field];
    let id = mask.selects.get(field);
    if (id === undefined) {
      id = mask.graph.add({ op: "select", source: mask.node, field, type, location: this.loc(e.span) });
      mask.selects.set(field, id);
    }
    return { kind: "tensor", type, node: id, graph: mask.graph, origin: `'${mask.name}.${field}'` };
  }

  /** `f32[1, 28, 28]`. */
  private index(e: IndexExpr, resolved?: Value): Value {
    const target = resolved ?? this.evaluate(e.target);
    if (target.kind === "builtin" && target.def.category === "dtype") {
      const dims: number[] = [];
      for (const index of e.indices) {
        const v = this.evaluate(index);
        if (v.kind === "number" && v.int && v.value > MAX_DIMENSION) {
          this.report(messages.sizeTooLarge, index.span, { what: `the dimension '${this.module.source.slice(index.span)}'`, value: v.value.toLocaleString("en-US") });
          return ERROR;
        }
        if (v.kind === "number" && v.int && v.value >= 1) dims.push(v.value);
        else if (v.kind !== "error") {
          this.report(messages.invalidDimension, index.span, { actual: describeValue(v) });
          return ERROR;
        } else return ERROR;
      }
      if (!shapeFits(dims)) {
        this.report(messages.shapeTooLarge, e.span, { construct: `the type '${this.module.source.slice(e.span)}'`, shape: formatDims(dims), count: elementCount(dims).toExponential(2) });
        return ERROR;
      }
      return { kind: "type", type: { dtype: target.def.dtype, shape: dims, batched: true } };
    }
    if (target.kind !== "error") this.report(messages.notIndexable, e.span, { actual: describeValue(target) });
    return ERROR;
  }

  /** Arithmetic on numbers; elementwise arithmetic and scaling on values. */
  private binary(e: BinaryExpr): Value {
    const left = this.evaluate(e.left);
    const right = this.evaluate(e.right);
    if (left.kind === "error" || right.kind === "error") return ERROR;
    if (left.kind === "number" && right.kind === "number") {
      if (e.op === "/" && right.value === 0) {
        this.report(messages.invalidOperands, e.span, { op: "/", left: describeValue(left), right: "0" });
        return ERROR;
      }
      const value = e.op === "+" ? left.value + right.value : e.op === "-" ? left.value - right.value : e.op === "*" ? left.value * right.value : left.value / right.value;
      // Arithmetic is exact or refused: an int past 2^53 - 1 would be silently rounded, a float past 1.8e308 infinite.
      if (!Number.isFinite(value)) {
        this.report(messages.notFinite, e.span, { expr: this.module.source.slice(e.span), value: String(value) });
        return ERROR;
      }
      if (left.int && right.int && e.op !== "/" && !Number.isSafeInteger(value)) {
        this.report(messages.intTooLarge, e.span, { expr: this.module.source.slice(e.span), value: value.toExponential(2) });
        return ERROR;
      }
      // Decision (spec): '/' on ints is exact; it gives an int when the division is exact, else a float.
      return { kind: "number", value, int: left.int && right.int && Number.isInteger(value) };
    }
    const floats = (v: Value): v is TensorValue => v.kind === "tensor" && v.type.dtype === "f32";
    if (this.graph && (floats(left) || floats(right))) {
      const l = floats(left) ? left : null;
      const r = floats(right) ? right : null;
      const operand = (v: Value): NodeId | { constant: number } | null =>
        v.kind === "tensor" && v.type.dtype === "f32" ? v.node : v.kind === "number" ? { constant: v.value } : null;
      const lo = operand(left);
      const ro = operand(right);
      if (lo !== null && ro !== null) {
        // Decision (spec): a statistic of the batch (unbatched) meets every example of a batched value of its shape,
        // and one number for the whole batch (`mean(x)`) goes with any value, as a number does.
        const number = (t: TensorType): boolean => !t.batched && t.shape.length === 0;
        if (l && r && !sameShape(l.type.shape, r.type.shape) && !number(l.type) && !number(r.type)) {
          const op = { "+": "add", "-": "subtract", "*": "multiply", "/": "divide" }[e.op];
          const then = l.type.batched === r.type.batched ? conversion(l.type.shape, r.type.shape) : null;
          this.report(messages.operandShapes, e.span, { op, left: formatShape(l.type), right: formatShape(r.type) }, {
            help: then ? [`write '(${this.module.source.slice(e.left.span)} -> ${then})'`] : [],
          });
          return ERROR;
        }
        const base = l && r && (number(l.type) || (!l.type.batched && !number(r.type))) ? r : (l ?? r)!;
        const keepsPositions = !l || !r || l.type.positions === r.type.positions;
        const type: TensorType = keepsPositions ? base.type : { dtype: "f32", shape: base.type.shape, batched: base.type.batched };
        const id = this.graph.add({ op: "binary", operator: e.op, left: lo, right: ro, type, location: this.loc(e.span) });
        return this.tensor(type, id, `the value of '${this.module.source.slice(e.span)}'`);
      }
    }
    this.report(messages.invalidOperands, e.span, { op: e.op, left: describeValue(left), right: describeValue(right) });
    return ERROR;
  }
}
