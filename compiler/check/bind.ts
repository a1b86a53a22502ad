/**
 * Binding call arguments (and step settings) to typed parameters: arity,
 * unknown and duplicate names, missing required arguments, positional after
 * named, types and ranges. Every problem is reported; binding goes on.
 */
import type { Expr, Name, Span } from "../../language/ast.js";
import { messages } from "../../language/diagnostics/messages.js";
import { describeParamType, inRange, SPECIAL_TOKENS, type ParamSpec, type ParamType } from "../builtins/spec.js";
import type { Evaluator } from "./evaluator.js";
import { couldBeValue, reportValueArgument, takesValue, type ArgSyntax } from "./call-syntax.js";
import { didYouMeanNote } from "./suggest.js";
import { MAX_DIMENSION } from "./types.js";
import { ERROR, describeValue, type Value } from "./values.js";

/** Arguments bound to parameters: values by name and where each was written. */
export interface BoundValues {
  readonly values: Map<string, Value>;
  readonly spans: Map<string, Span>;
  /** False when a problem was reported: callers stop before shape rules. */
  readonly ok: boolean;
}

/**
 * Binds arguments to parameters. Values are evaluated against their
 * parameter's type; defaults are left to the caller (`values` lacks them).
 */
export function bindArgs(
  ev: Evaluator,
  callee: string,
  params: readonly ParamSpec[],
  args: readonly ArgSyntax[],
  callSpan: Span,
  options: {
    unknownMessage?: "setting";
    step?: string;
    /**
     * A layer's configuration (`dense(64)`): a value given as a positional
     * argument is a value to apply the layer to, and the fix is the `->` form (RC350).
     */
    layer?: boolean;
    /** The first positional argument, already evaluated by the caller (`first` is `args[0]`). */
    first?: Value;
  } = {},
): BoundValues {
  const values = new Map<string, Value>();
  const spans = new Map<string, Span>();
  let ok = true;
  let positional = 0;
  let sawNamed = false;
  const positionalParams = params.filter((p) => !p.namedOnly);
  const variadic = positionalParams.find((p) => p.variadic);
  const variadicItems: Value[] = [];
  // Parameters an unknown argument's name suggests: its misspelling is the one problem to report.
  const suggested = new Set<string>();
  // Extra positional arguments are one mistake: reported once, over all of them, after the others.
  const extra: ArgSyntax[] = [];
  // Parameters given positionally and by name (reported at the positional argument).
  const duplicates = new Set<string>();
  // A value given among the settings (RC350) may be the missing argument, so a missing one is not reported too.
  let valueReported = false;

  for (const arg of args) {
    if (arg.name === null) {
      if (sawNamed) {
        ev.report(messages.positionalAfterNamed, arg.span, { callee });
        ok = false;
        continue;
      }
      const param = positionalParams[positional];
      if (param?.variadic) {
        const v = evaluateArg(ev, callee, param, arg.value);
        if (v.kind === "error") ok = false;
        variadicItems.push(v);
        spans.set(param.name, spans.get(param.name) ?? arg.span);
        continue;
      }
      // `dense(64, h)`: a value where a layer takes its configuration is a value to apply it to.
      // Arguments past the last parameter of a layer are evaluated too, to tell a value (or an unknown name) apart.
      const evaluate = options.layer && (!param || couldBeValue(ev, arg.value, param));
      const early = evaluate ? (arg === args[0] && options.first ? options.first : ev.evaluate(arg.value)) : undefined;
      if (early?.kind === "tensor" && (!param || !takesValue(param.type))) {
        if (!valueReported) reportValueArgument(ev, callee, params, args, arg);
        valueReported = true;
        ok = false;
        if (param) positional++;
        continue;
      }
      if (!param) {
        if (early?.kind !== "error") extra.push(arg);
        ok = false;
        continue;
      }
      positional++;
      // Given by name as well (`softmax(2.5, axis: 0)`): one mistake, reported once, at the named one.
      if (args.some((a) => a.name?.text === param.name)) {
        duplicates.add(param.name);
        continue;
      }
      const first = arg === args[0] ? options.first : undefined;
      const v = evaluateArg(ev, callee, param, arg.value, early ?? first);
      if (v.kind === "error") ok = false;
      values.set(param.name, v);
      spans.set(param.name, arg.value.span);
      continue;
    }
    sawNamed = true;
    if (variadic && positionalParams[positional] === variadic) positional++;
    const name = arg.name.text;
    const param = params.find((p) => p.name === name);
    if (!param || param.variadic) {
      const candidates = params.filter((p) => !p.variadic).map((p) => p.name);
      const found = ev.env.suggester.suggest(name, candidates);
      found.forEach((s) => suggested.add(s));
      const notes = didYouMeanNote(found);
      if (options.unknownMessage === "setting") ev.report(messages.unknownSetting, arg.name.span, { step: options.step ?? callee, name }, { notes });
      else ev.report(messages.unknownArgument, arg.name.span, { callee, name }, { notes });
      ok = false;
      continue;
    }
    if (duplicates.has(name)) {
      ev.report(messages.duplicateArgument, arg.name.span, { callee, name });
      duplicates.delete(name);
      ok = false;
    } else if (values.has(name)) {
      ev.report(messages.duplicateArgument, arg.name.span, { callee, name });
      ok = false;
      continue;
    }
    const v = evaluateArg(ev, callee, param, arg.value);
    if (v.kind === "error") ok = false;
    values.set(name, v);
    spans.set(name, arg.value.span);
  }
  if (variadic) values.set(variadic.name, { kind: "list", items: variadicItems });
  if (extra.length > 0 && !valueReported) {
    // The underline runs to the last positional argument before a named one (those after it are RC304).
    const from = args.indexOf(extra[0]!);
    const named = args.findIndex((a, i) => i > from && a.name !== null);
    const last = args[(named < 0 ? args.length : named) - 1]!;
    ev.report(messages.tooManyArguments, { start: extra[0]!.span.start, end: last.span.end }, { callee, max: positionalParams.length, actual: args.filter((a) => a.name === null).length });
  }

  const missing: ParamSpec[] = [];
  for (const p of params) {
    if (p.default !== undefined || p.optional) continue;
    if (p.variadic ? variadicItems.length > 0 : values.has(p.name)) continue;
    ok = false;
    if (!suggested.has(p.name) && !valueReported) missing.push(p);
  }
  // Arguments left out of one call are one mistake: one error names them all.
  if (missing.length === 1) ev.report(messages.missingArgument, callSpan, { callee, name: missing[0]!.name, expected: describeParamType(missing[0]!.type) });
  if (missing.length > 1) {
    const named = missing.map((p) => `'${p.name}' (${describeParamType(p.type)})`);
    ev.report(messages.missingArguments, callSpan, { callee, list: `${named.slice(0, -1).join(", ")} and ${named[named.length - 1]}` });
  }
  return { values, spans, ok };
}

/**
 * Evaluates one argument against its parameter's type; reports and returns
 * ERROR on a mismatch. `pre` is the argument already evaluated, when it was.
 */
export function evaluateArg(ev: Evaluator, callee: string, param: ParamSpec, e: Expr, pre?: Value): Value {
  const t = param.type;
  // A list of bare names (`special: [pad, mask]`), and a special token by name (`mask_token: mask`).
  if (t.kind === "enum" && t.list && e.kind === "List") {
    const items = e.items.map((x): Value => {
      if (x.kind !== "Ident") return ev.evaluate(x);
      if (t.values.includes(x.name)) return { kind: "symbol", name: x.name };
      if (ev.scope.lookup(x.name)) return ev.evaluate(x);
      ev.report(messages.unknownEnumValue, x.span, { name: param.name, callee, expected: t.values.join(" | "), actual: x.name }, { notes: ev.env.didYouMean(x.name, t.values) });
      return ERROR;
    });
    return checkValue(ev, callee, param.name, t, { kind: "list", items }, e.span);
  }
  if (t.kind === "tokenId" && e.kind === "Ident" && SPECIAL_TOKENS.includes(e.name)) return { kind: "symbol", name: e.name };
  if (pre !== undefined) {
    if (t.kind === "layer") {
      const layer = ev.asLayer(pre, e.span);
      return layer ? { kind: "layer", layer } : ERROR;
    }
    if (t.kind === "value") return ev.asTensor(pre, e.span) ?? ERROR;
    return checkValue(ev, callee, param.name, t, pre, e.span);
  }
  if (t.kind === "enum" && e.kind === "Ident") {
    if (t.values.includes(e.name)) return { kind: "symbol", name: e.name };
    if (!ev.scope.lookup(e.name)) {
      ev.report(messages.unknownEnumValue, e.span, { name: param.name, callee, expected: t.values.join(" | "), actual: e.name }, {
        notes: ev.env.didYouMean(e.name, t.values),
      });
      return ERROR;
    }
  }
  // Decision (spec): `batch` names the batch axis wherever axes are given, as a bare enum value does.
  if (t.kind === "axes") {
    const axis = (x: Expr): Value => (x.kind === "Ident" && x.name === "batch" ? { kind: "symbol", name: "batch" } : ev.evaluate(x));
    const v = e.kind === "List" ? { kind: "list" as const, items: e.items.map(axis) } : axis(e);
    return checkValue(ev, callee, param.name, t, v, e.span);
  }
  if (t.kind === "layer") {
    const layer = ev.evaluateLayer(e);
    return layer ? { kind: "layer", layer } : ERROR;
  }
  if (t.kind === "value") {
    const tensor = ev.evaluateTensor(e);
    return tensor ?? ERROR;
  }
  if (t.kind === "path") return evaluatePath(ev, callee, param.name, e);
  const v = ev.evaluate(e);
  return checkValue(ev, callee, param.name, t, v, e.span);
}

/** Checks an evaluated value against a parameter type. */
export function checkValue(ev: Evaluator, callee: string, name: string, t: ParamType, v: Value, span: Span): Value {
  if (v.kind === "error") return ERROR;
  const wrong = (): Value => {
    ev.report(messages.wrongArgumentType, span, { name, callee, expected: describeParamType(t), actual: describeValue(v) });
    return ERROR;
  };
  switch (t.kind) {
    case "any":
      return v;
    case "int":
    case "float": {
      if (v.kind !== "number" || (t.kind === "int" && !v.int)) return wrong();
      if (!inRange(t, v.value)) {
        ev.report(messages.argumentOutOfRange, span, { name, callee, expected: describeParamType(t), actual: v.value });
        return ERROR;
      }
      // An int without its own bound is a size or a count (units, filters, vocab, classes): at most 2^31 - 1.
      if (t.kind === "int" && t.max === undefined && v.value > MAX_DIMENSION) {
        ev.report(messages.sizeTooLarge, span, { what: `argument '${name}' of ${callee}, '${ev.module.source.slice(span)}',`, value: v.value.toLocaleString("en-US") });
        return ERROR;
      }
      return v;
    }
    case "bool":
      return v.kind === "bool" ? v : wrong();
    case "string":
      return v.kind === "string" ? v : wrong();
    case "enum": {
      const one = (x: Value): boolean => (x.kind === "symbol" || x.kind === "string") && t.values.includes(x.kind === "symbol" ? x.name : x.value);
      if (t.list) {
        if (v.kind !== "list" || !v.items.every(one)) return v.kind === "list" && v.items.some((i) => i.kind === "error") ? ERROR : wrong();
        const names = v.items.map((x) => (x.kind === "symbol" ? x.name : (x as { value: string }).value));
        const twice = names.find((n, i) => names.indexOf(n) !== i);
        if (twice !== undefined) {
          ev.report(messages.listedTwice, span, { item: twice, name, callee });
          return ERROR;
        }
        return { kind: "list", items: names.map((n) => ({ kind: "symbol", name: n })) };
      }
      if (v.kind === "string" && t.values.includes(v.value)) return { kind: "symbol", name: v.value };
      if (v.kind === "symbol" && t.values.includes(v.name)) return v;
      return wrong();
    }
    case "tokenId":
      if (v.kind === "symbol" && SPECIAL_TOKENS.includes(v.name)) return v;
      if (v.kind !== "number" || !v.int) return wrong();
      if (v.value < 0) {
        ev.report(messages.argumentOutOfRange, span, { name, callee, expected: describeParamType(t), actual: v.value });
        return ERROR;
      }
      return v;
    case "list": {
      if (v.kind !== "list") return wrong();
      if (t.minItems !== undefined && v.items.length < t.minItems) return wrong();
      if (t.item === "any") return v;
      const itemType: ParamType = { kind: t.item };
      const items = v.items.map((item) => checkValue(ev, callee, name, itemType, item, span));
      return items.some((i) => i.kind === "error") ? ERROR : { kind: "list", items };
    }
    case "mask":
      return v.kind === "mask" ? v : wrong();
    case "part":
      return v.kind === "layer" && v.layer.kind === "part" ? v : wrong();
    case "path":
      return v.kind === "path" ? v : v.kind === "layer" && v.layer.kind === "part" ? { kind: "path", part: v.layer.part, segments: [] } : wrong();
    case "layer":
      return v.kind === "layer" ? v : wrong();
    case "value":
      return v.kind === "tensor" ? v : wrong();
    case "axes": {
      const axis = (item: Value): boolean => (item.kind === "number" && item.int) || (item.kind === "symbol" && item.name === "batch");
      if (v.kind === "list") return v.items.length > 0 && v.items.every(axis) ? v : v.items.some((i) => i.kind === "error") ? ERROR : wrong();
      return axis(v) ? v : wrong();
    }
  }
}

/** `f`, `f.2`, `f.2.1`: a part and a path inside it, written as member accesses (spec/paths.md). */
function evaluatePath(ev: Evaluator, callee: string, name: string, e: Expr): Value {
  const segments: string[] = [];
  let root: Expr = e;
  while (root.kind === "Member") {
    segments.unshift(root.name.text);
    root = root.target;
  }
  if (segments.length === 0) return checkValue(ev, callee, name, { kind: "path" }, ev.evaluate(e), e.span);
  const v = root.kind === "Ident" ? ev.evaluate(root) : ev.evaluate(e);
  if (v.kind === "layer" && v.layer.kind === "part") return { kind: "path", part: v.layer.part, segments };
  return checkValue(ev, callee, name, { kind: "path" }, v, e.span);
}
