/**
 * Layers applied with call syntax (spec/types.md, "Layers and values"): a
 * built-in layer or a block called with a value first, `relu(f(x))` or
 * `softmax(h, axis: 0)`, applies the layer its other arguments configure;
 * a value anywhere else among a layer's arguments is RC350, with the `->`
 * form to write. The kind of the first argument decides, so it is
 * evaluated once, here, and handed on to binding.
 */
import type { CallExpr, Expr, Name, Span } from "../../language/ast.js";
import { messages } from "../../language/diagnostics/messages.js";
import { SPECIAL_TOKENS, type ParamSpec, type ParamType } from "../builtins/spec.js";
import type { Evaluator } from "./evaluator.js";
import { ERROR, type LayerValue, type TensorValue, type Value } from "./values.js";

/** An argument as written: `256`, `ratio: 0.75`, or a settings entry. */
export interface ArgSyntax {
  readonly name: Name | null;
  readonly value: Expr;
  readonly span: Span;
}

/** True when a parameter takes a value (a tensor), so a value given to it is an argument, not a value to apply to. */
export function takesValue(t: ParamType): boolean {
  return t.kind === "value" || t.kind === "any";
}

/**
 * Whether an argument could evaluate to a value: anything but a literal, and
 * a name only when it is bound (a bare enum value or an unknown name is left
 * to the parameter's own check, which reports it).
 */
export function couldBeValue(ev: Evaluator, e: Expr, param: ParamSpec | undefined): boolean {
  // A part or a layer path (`tied(f.2)`, `ema(f -> g)`) names layers, never a value.
  if (param?.type.kind === "path" || param?.type.kind === "part") return false;
  switch (e.kind) {
    case "Number":
    case "String":
    case "Bool":
    case "List":
    case "Map":
    case "ErrorExpr":
      return false;
    case "Ident":
      if (param?.type.kind === "enum" && param.type.values.includes(e.name)) return false;
      if (param?.type.kind === "axes" && e.name === "batch") return false;
      if (param?.type.kind === "tokenId" && SPECIAL_TOKENS.includes(e.name)) return false;
      return ev.scope.lookup(e.name) !== undefined;
    default:
      return param?.type.kind !== "axes";
  }
}

/** RC350: a value among a layer's configuration, with the `->` form that applies the layer to it. */
export function reportValueArgument(ev: Evaluator, callee: string, params: readonly ParamSpec[], args: readonly ArgSyntax[], value: ArgSyntax): void {
  const text = (span: Span): string => ev.module.source.slice(span);
  // The fix keeps the other arguments the layer can take: named ones, and positional ones up to its last positional parameter.
  const room = params.filter((p) => !p.namedOnly).length;
  const rest = args.filter((a, i) => a !== value && (a.name !== null || args.slice(0, i + 1).filter((b) => b.name === null).length <= room)).map((a) => text(a.span));
  const name = callee.replace(/^block '(.*)'$/, "$1");
  const fix = `${text(value.value.span)} -> ${name}${rest.length > 0 ? `(${rest.join(", ")})` : ""}`;
  // A block's further inputs are values too, but they are given by name.
  const inputs = params.filter((p) => p.namedOnly && takesValue(p.type)).map((p) => `${p.name}: ...`);
  const notes = inputs.length > 0 ? [`${callee} takes its further inputs by name: ${name}(${inputs.join(", ")})`] : [];
  ev.report(messages.valueAsArgument, value.span, { callee, value: text(value.value.span), fix }, { notes });
}

/**
 * The first argument of a layer's or block's call, evaluated when it could be
 * a value (see `couldBeValue`); undefined when it is not evaluated here. A
 * value there makes the call an application (`relu(f(x))`), unless the
 * layer's first parameter takes a value itself; the caller passes anything
 * else on to binding, so nothing is evaluated twice.
 */
export function firstArgument(ev: Evaluator, params: readonly ParamSpec[], call: CallExpr): Value | undefined {
  const arg = call.args[0];
  const param = params.find((p) => !p.namedOnly);
  if (!arg || arg.name !== null || (param && takesValue(param.type)) || !couldBeValue(ev, arg.value, param)) return undefined;
  return ev.evaluate(arg.value);
}

/**
 * `relu(h)`, `softmax(h, axis: 0)`, `residual(h, inner: dense(8))`: the layer
 * configured by the other arguments, applied to the value given first — the
 * same value as `h -> softmax(axis: 0)` (spec/types.md, "Layers and values").
 */
export function applyCalled(ev: Evaluator, x: TensorValue, call: CallExpr, configure: (rest: CallExpr) => LayerValue | null): Value {
  const rest: CallExpr = { ...call, args: call.args.slice(1) };
  const layer = configure(rest);
  return (layer && ev.apply(layer, x, call.span)) ?? ERROR;
}
