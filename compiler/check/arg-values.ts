/**
 * How the checked program records arguments: a built-in's bound arguments and
 * a block's argument values, converted to plain `ArgValue`s.
 */
import type { Bound, BoundArgs } from "../builtins/spec.js";
import type { ArgValue } from "./program.js";
import { describeLayer, type Value } from "./values.js";

/** Resolved arguments for the checked program. */
export function toArgs(args: BoundArgs): Record<string, ArgValue> {
  const out: Record<string, ArgValue> = {};
  const convert = (v: Bound): ArgValue | undefined => {
    if (v === null) return undefined;
    if (typeof v !== "object") return v;
    if (Array.isArray(v)) return v.map(convert).filter((x): x is ArgValue => x !== undefined);
    const ref = v as Exclude<Bound, readonly Bound[] | number | boolean | string | null>;
    switch (ref.kind) {
      case "tensor":
      case "mask":
        return { node: ref.node };
      case "part":
        return { part: ref.name };
      case "path":
        return [ref.part, ...ref.segments].join(".");
      case "layer":
        return { layer: `#${ref.id}` };
    }
  };
  for (const [k, v] of Object.entries(args)) {
    const c = convert(v);
    if (c !== undefined) out[k] = c;
  }
  return out;
}

/** A block argument as the checked program keeps it. */
export function toArgValue(v: Value): ArgValue | undefined {
  switch (v.kind) {
    case "number":
    case "bool":
    case "string":
      return v.value;
    case "symbol":
      return v.name;
    case "list": {
      const items = v.items.map(toArgValue);
      return items.every((i) => i !== undefined) ? (items as ArgValue[]) : undefined;
    }
    case "layer":
      return { layer: describeLayer(v.layer) };
    case "tensor":
      return { node: v.node };
    default:
      return undefined;
  }
}
