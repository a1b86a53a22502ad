/**
 * How a fused kernel reads a value at given coordinates: down through its
 * views (reshape, permute, expand, slice, pad, concat), constants and iotas,
 * to an element of a stored input, a constant, an index, or a value the
 * kernel computes itself. Pads and concats choose by the coordinates
 * (`select`). The coordinates are index expressions (`index-expr.ts`) of the
 * kernel's loop coordinates, so what comes out says, per input, which element
 * each loop position reads: a backend turns affine offsets into strided
 * pointers and computes the rest.
 *
 * Following a view changes no value: a read is the view's operand at the
 * coordinates the view maps to, so a kernel that reads through views
 * computes what one materializing them computes.
 */
import type { OpAttrs, Shape } from "../ir/ops.js";
import { add, constant, floorDiv, flatten, linear, range, unflatten, type Bounds, type Expr } from "./index-expr.js";
import type { Kernel, KernelArg } from "./graph.js";

/** A condition on coordinates: lo ≤ expr ≤ hi, and (when `step` > 1) expr − lo a multiple of step. */
export interface Cond {
  readonly expr: Expr;
  readonly lo: number;
  readonly hi: number;
  readonly step: number;
}

/** What a kernel reads at one position. */
export type Read =
  /** Element `offset` (row-major) of the kernel's input `input`. */
  | { readonly kind: "load"; readonly input: number; readonly offset: Expr }
  | { readonly kind: "const"; readonly value: number }
  /** An iota's value: an integer expression of the coordinates. */
  | { readonly kind: "index"; readonly expr: Expr }
  /** The value of a computed op of the kernel at this position. */
  | { readonly kind: "op"; readonly op: number }
  /** `then` where every condition holds, else `otherwise`. */
  | { readonly kind: "select"; readonly when: readonly Cond[]; readonly then: Read; readonly otherwise: Read };

/** Which ops are followed as views (the rest are computed values, read as `op`). */
export type IsView = (op: number) => boolean;

/**
 * What `arg` of kernel `k` holds at `coords` (expressions over loop
 * coordinates within `bounds`): views, constants and iotas are followed;
 * ops for which `follow` is false are read as computed values.
 */
export function readAt(k: Kernel, arg: KernelArg, coords: readonly Expr[], bounds: Bounds, inputShapes: readonly Shape[], follow: IsView): Read {
  if ("input" in arg) return { kind: "load", input: arg.input, offset: flatten(coords, inputShapes[arg.input]!) };
  const j = arg.op;
  const o = k.ops[j]!;
  if (o.op === "const") return { kind: "const", value: (o.attrs as OpAttrs["const"]).value };
  if (o.op === "iota") return { kind: "index", expr: coords[(o.attrs as OpAttrs["iota"]).axis]! };
  if (!follow(j)) return { kind: "op", op: j };
  const operandShape = (a: number): Shape => {
    const x = o.args[a]!;
    return "input" in x ? inputShapes[x.input]! : k.ops[x.op]!.shape;
  };
  const from = operandShape(0);
  const next = (c: readonly Expr[], a = 0): Read => readAt(k, o.args[a]!, c, bounds, inputShapes, follow);
  switch (o.op) {
    case "reshape":
      return next(unflatten(flatten(coords, o.shape), from, bounds));
    case "permute": {
      const perm = (o.attrs as OpAttrs["permute"]).perm;
      const c = new Array<Expr>(perm.length);
      perm.forEach((p, i) => (c[p] = coords[i]!));
      return next(c);
    }
    case "expand":
      return next(from.map((d, a) => (d === 1 ? constant(0) : coords[a]!)));
    case "slice": {
      const { starts, steps } = o.attrs as OpAttrs["slice"];
      return next(coords.map((c, a) => linear([c], [steps[a]!], starts[a]!)));
    }
    case "pad": {
      const { lo, interior, value } = o.attrs as OpAttrs["pad"];
      const when: Cond[] = [];
      const c = coords.map((x, a) => {
        const step = interior[a]! + 1;
        const shifted = add(x, constant(-lo[a]!));
        const hi = (from[a]! - 1) * step;
        const [min, max] = range(shifted, bounds);
        if (from[a] === 0) when.push({ expr: constant(0), lo: 1, hi: 0, step: 1 });
        else if (min < 0 || max > hi || (step > 1 && !(min === max && min % step === 0))) when.push({ expr: shifted, lo: 0, hi, step });
        return floorDiv(shifted, step, bounds);
      });
      const inside = next(c);
      return when.length === 0 ? inside : { kind: "select", when, then: inside, otherwise: { kind: "const", value } };
    }
    case "concat": {
      const axis = (o.attrs as OpAttrs["concat"]).axis;
      const parts = o.args.map((_, a) => operandShape(a)[axis]!);
      const x = coords[axis]!;
      const [min, max] = range(x, bounds);
      // Parts in order; the last one whose start is ≤ x is read.
      let read: Read | undefined;
      let start = parts.reduce((s, d) => s + d, 0);
      for (let a = parts.length - 1; a >= 0; a--) {
        start -= parts[a]!;
        if (parts[a] === 0 || start > max || start + parts[a]! - 1 < min) continue;
        const c = coords.map((e, i) => (i === axis ? add(e, constant(-start)) : e));
        const part = next(c, a);
        read = read === undefined || (start <= min && start + parts[a]! - 1 >= max) ? part : { kind: "select", when: [{ expr: x, lo: start, hi: start + parts[a]! - 1, step: 1 }], then: part, otherwise: read };
      }
      return read ?? { kind: "const", value: 0 };
    }
    default:
      return { kind: "op", op: j };
  }
}

/** The coordinates, in `shape`, of the element at the same flat index as coordinates `coords` of `domain`. */
export function alignedCoords(coords: readonly Expr[], domain: Shape, shape: Shape, bounds: Bounds): Expr[] {
  if (domain.length === shape.length && domain.every((d, a) => d === shape[a])) return [...coords];
  return unflatten(flatten(coords, domain), shape, bounds);
}

/** Coordinates 0 for every axis of `shape`. */
export function zeros(shape: Shape): Expr[] {
  return shape.map(() => constant(0));
}
