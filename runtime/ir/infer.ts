/**
 * The typing rules of the IR: an op's result type from its operands' types and
 * its attributes, or a message saying what is wrong. The builder uses these to
 * type new nodes; the verifier re-runs them to check existing ones. One rule
 * per op group.
 */
import { OPS, type DType, type Op, type OpAttrs, type OpGroup, type Shape } from "./ops.js";
import { broadcastShapes, formatShape, isDim, sameShape, sizeOf } from "./shape.js";

/** A value's static type. */
export interface TensorType {
  readonly shape: Shape;
  readonly dtype: DType;
}

/** The result of a typing rule: a type, or what is wrong. */
export type Inferred = TensorType | { readonly error: string };

/** Types a node of `op` with these operand types and attributes. Never throws. */
export function inferType<O extends Op>(op: O, inputs: readonly TensorType[], attrs: OpAttrs[O]): Inferred {
  const info = OPS[op];
  if (info === undefined) return fail(`unknown op "${String(op)}"`);
  if (info.arity === "variadic" ? inputs.length < 1 : inputs.length !== info.arity) {
    const want = info.arity === "variadic" ? "at least 1" : String(info.arity);
    return fail(`takes ${want} operand(s), got ${inputs.length}`);
  }
  if (typeof attrs !== "object" || attrs === null) return fail("attributes must be an object");
  if (info.floatOnly) {
    const bad = inputs.findIndex((t) => t.dtype !== "f32");
    if (bad >= 0) return fail(`is defined on f32 only, operand ${bad} is ${inputs[bad]!.dtype}`);
  }
  try {
    return RULES[info.group](op, inputs, attrs as never);
  } catch (e) {
    // Malformed attributes (e.g. a missing array) surface as messages, not crashes.
    return fail(`malformed attributes (${(e as Error).message})`);
  }
}

/** True when the rule failed. */
export function isError(t: Inferred): t is { readonly error: string } {
  return "error" in t;
}

/** Formats a type as the printer shows it: `f32[2, 3]`. */
export function formatType(t: TensorType): string {
  return `${t.dtype}${formatShape(t.shape)}`;
}

function fail(error: string): Inferred {
  return { error };
}

function validShape(shape: unknown): string | null {
  if (!Array.isArray(shape)) return "shape must be an array";
  const bad = shape.find((d) => !isDim(d));
  return bad === undefined ? null : `shape ${JSON.stringify(shape)} has a dimension that is not a non-negative integer`;
}

function validDtype(dtype: unknown): dtype is DType {
  return dtype === "f32" || dtype === "i32";
}

/** Checks a list of per-axis integers: right length, each ≥ min. */
function perAxis(name: string, list: unknown, rank: number, min: number): string | null {
  if (!Array.isArray(list) || list.length !== rank) return `${name} must list ${rank} value(s), one per axis`;
  if (list.some((v) => !Number.isSafeInteger(v) || v < min)) return `${name} must be integers ≥ ${min}, got ${JSON.stringify(list)}`;
  return null;
}

function axisIn(name: string, axis: unknown, rank: number): string | null {
  return Number.isInteger(axis) && (axis as number) >= 0 && (axis as number) < rank
    ? null
    : `${name} ${String(axis)} is out of range for rank ${rank}`;
}

type Rule = (op: Op, inputs: readonly TensorType[], attrs: Record<string, unknown>) => Inferred;

const RULES: Record<OpGroup, Rule> = {
  leaf(op, _inputs, a) {
    const bad = validShape(a.shape);
    if (bad) return fail(bad);
    if (!validDtype(a.dtype)) return fail(`dtype must be f32 or i32, got ${String(a.dtype)}`);
    const shape = a.shape as Shape;
    switch (op) {
      case "input":
      case "param":
        if (typeof a.name !== "string" || a.name === "") return fail("needs a non-empty name");
        break;
      case "const":
        if (typeof a.value !== "number" || Number.isNaN(a.value)) return fail(`value must be a number, got ${String(a.value)}`);
        if (a.dtype === "i32" && !Number.isInteger(a.value)) return fail(`an i32 constant must be an integer, got ${a.value}`);
        break;
      case "literal": {
        const data = a.data;
        if (!Array.isArray(data)) return fail("data must be an array of numbers");
        if (data.length !== sizeOf(shape)) {
          return fail(`has ${data.length} number(s) for shape ${formatShape(shape)} (${sizeOf(shape)} elements)`);
        }
        if (data.some((v) => typeof v !== "number" || Number.isNaN(v))) return fail("data must be numbers (no NaN)");
        if (a.dtype === "i32" && data.some((v) => !Number.isInteger(v))) return fail("i32 data must be integers");
        break;
      }
      case "iota": {
        const e = axisIn("axis", a.axis, shape.length);
        if (e) return fail(e);
        break;
      }
    }
    return { shape, dtype: a.dtype };
  },

  random(_op, inputs, a) {
    const bad = validShape(a.shape);
    if (bad) return fail(bad);
    if (!Number.isInteger(a.stream) || (a.stream as number) < 0 || (a.stream as number) > 0xffffffff) {
      return fail(`stream must be an integer in [0, 2^32), got ${String(a.stream)}`);
    }
    const names = ["seed", "step"];
    for (let i = 0; i < 2; i++) {
      const t = inputs[i]!;
      if (t.dtype !== "i32" || t.shape.length !== 0) return fail(`${names[i]} must be an i32 scalar, got ${formatType(t)}`);
    }
    return { shape: a.shape as Shape, dtype: "f32" };
  },

  unary(_op, [x]) {
    return x!;
  },

  binary(op, [a, b]) {
    if (!sameShape(a!.shape, b!.shape)) {
      return fail(`operands have shapes ${formatShape(a!.shape)} and ${formatShape(b!.shape)}; they must be equal (broadcast explicitly)`);
    }
    if (a!.dtype !== b!.dtype) return fail(`operands have dtypes ${a!.dtype} and ${b!.dtype}; cast one`);
    return { shape: a!.shape, dtype: op === "cmplt" || op === "cmpeq" ? "i32" : a!.dtype };
  },

  ternary(_op, [c, a, b]) {
    if (c!.dtype !== "i32") return fail(`the condition must be i32, got ${c!.dtype}`);
    if (!sameShape(c!.shape, a!.shape) || !sameShape(a!.shape, b!.shape)) {
      return fail(`operands have shapes ${[c!, a!, b!].map((t) => formatShape(t.shape)).join(", ")}; they must be equal`);
    }
    if (a!.dtype !== b!.dtype) return fail(`the branches have dtypes ${a!.dtype} and ${b!.dtype}; cast one`);
    return a!;
  },

  reduce(_op, [x], a) {
    const axes = a.axes;
    if (!Array.isArray(axes) || axes.length === 0) return fail("axes must be a non-empty list");
    for (let i = 0; i < axes.length; i++) {
      const e = axisIn("axis", axes[i], x!.shape.length);
      if (e) return fail(e);
      if (i > 0 && axes[i] <= axes[i - 1]) return fail(`axes must be increasing and distinct, got ${JSON.stringify(axes)}`);
    }
    return { shape: x!.shape.map((d, i) => (axes.includes(i) ? 1 : d)), dtype: x!.dtype };
  },

  matmul(_op, [a, b]) {
    if (a!.shape.length < 2 || b!.shape.length < 2) {
      return fail(`operands must have rank ≥ 2, got ${formatShape(a!.shape)} and ${formatShape(b!.shape)}`);
    }
    const [m, k] = a!.shape.slice(-2) as [number, number];
    const [k2, n] = b!.shape.slice(-2) as [number, number];
    if (k !== k2) return fail(`inner dimensions differ: ${formatShape(a!.shape)} × ${formatShape(b!.shape)}`);
    const batch = broadcastShapes(a!.shape.slice(0, -2), b!.shape.slice(0, -2));
    if (batch === null) {
      return fail(`batch dimensions of ${formatShape(a!.shape)} and ${formatShape(b!.shape)} do not broadcast`);
    }
    return { shape: [...batch, m, n], dtype: "f32" };
  },

  movement(op, inputs, a) {
    const x = inputs[0]!;
    const rank = x.shape.length;
    switch (op) {
      case "reshape": {
        const bad = validShape(a.shape);
        if (bad) return fail(bad);
        const shape = a.shape as Shape;
        if (sizeOf(shape) !== sizeOf(x.shape)) {
          return fail(`cannot reshape ${formatShape(x.shape)} (${sizeOf(x.shape)} elements) to ${formatShape(shape)} (${sizeOf(shape)})`);
        }
        return { shape, dtype: x.dtype };
      }
      case "permute": {
        const perm = a.perm as number[];
        const ok = Array.isArray(perm) && perm.length === rank && [...perm].sort((p, q) => p - q).every((p, i) => p === i);
        if (!ok) return fail(`perm ${JSON.stringify(perm)} is not a permutation of the ${rank} axes`);
        return { shape: perm.map((p) => x.shape[p]!), dtype: x.dtype };
      }
      case "expand": {
        const bad = validShape(a.shape);
        if (bad) return fail(bad);
        const shape = a.shape as Shape;
        const ok = shape.length === rank && shape.every((d, i) => d === x.shape[i] || x.shape[i] === 1);
        if (!ok) return fail(`cannot expand ${formatShape(x.shape)} to ${formatShape(shape)} (only size-1 axes expand; ranks must match)`);
        return { shape, dtype: x.dtype };
      }
      case "slice": {
        const e =
          perAxis("starts", a.starts, rank, 0) ?? perAxis("ends", a.ends, rank, 0) ?? perAxis("steps", a.steps, rank, 1);
        if (e) return fail(e);
        const [starts, ends, steps] = [a.starts, a.ends, a.steps] as number[][];
        const shape: number[] = [];
        for (let i = 0; i < rank; i++) {
          if (starts![i]! > ends![i]! || ends![i]! > x.shape[i]!) {
            return fail(`axis ${i}: range ${starts![i]}..${ends![i]} is not within 0..${x.shape[i]}`);
          }
          shape.push(Math.ceil((ends![i]! - starts![i]!) / steps![i]!));
        }
        return { shape, dtype: x.dtype };
      }
      case "pad": {
        const e = perAxis("lo", a.lo, rank, 0) ?? perAxis("hi", a.hi, rank, 0) ?? perAxis("interior", a.interior, rank, 0);
        if (e) return fail(e);
        if (typeof a.value !== "number" || Number.isNaN(a.value)) return fail(`value must be a number, got ${String(a.value)}`);
        if (x.dtype === "i32" && !Number.isInteger(a.value)) return fail(`an i32 pad value must be an integer, got ${a.value}`);
        const [lo, hi, interior] = [a.lo, a.hi, a.interior] as number[][];
        return {
          shape: x.shape.map((d, i) => lo![i]! + hi![i]! + d + Math.max(d - 1, 0) * interior![i]!),
          dtype: x.dtype,
        };
      }
      case "concat": {
        const e = axisIn("axis", a.axis, rank);
        if (e) return fail(e);
        const axis = a.axis as number;
        let total = 0;
        for (const [i, t] of inputs.entries()) {
          if (t.dtype !== x.dtype) return fail(`operand ${i} is ${t.dtype}, operand 0 is ${x.dtype}`);
          const ok = t.shape.length === rank && t.shape.every((d, j) => j === axis || d === x.shape[j]);
          if (!ok) return fail(`operand ${i} has shape ${formatShape(t.shape)}, which differs from ${formatShape(x.shape)} off axis ${axis}`);
          total += t.shape[axis]!;
        }
        return { shape: x.shape.map((d, j) => (j === axis ? total : d)), dtype: x.dtype };
      }
    }
    return fail("is not a movement op");
  },

  index(op, inputs, a) {
    const [x, idx, updates] = inputs as [TensorType, TensorType, TensorType | undefined];
    const rank = x.shape.length;
    const e = axisIn("axis", a.axis, rank);
    if (e) return fail(e);
    if (idx.dtype !== "i32") return fail(`indices must be i32, got ${idx.dtype}`);
    const axis = a.axis as number;
    const ok = idx.shape.length === rank && idx.shape.every((d, j) => j === axis || d === x.shape[j]);
    if (!ok) {
      return fail(`indices of shape ${formatShape(idx.shape)} must match ${formatShape(x.shape)} on every axis but ${axis}`);
    }
    if (op === "gather") return { shape: idx.shape, dtype: x.dtype };
    if (!sameShape(updates!.shape, idx.shape)) {
      return fail(`updates of shape ${formatShape(updates!.shape)} must have the indices' shape ${formatShape(idx.shape)}`);
    }
    if (updates!.dtype !== x.dtype) return fail(`updates are ${updates!.dtype}, the target is ${x.dtype}`);
    return x;
  },

  sort(_op, [x], a) {
    const e = axisIn("axis", a.axis, x!.shape.length);
    if (e) return fail(e);
    if (typeof a.descending !== "boolean") return fail("descending must be true or false");
    return { shape: x!.shape, dtype: "i32" };
  },

  cast(_op, [x], a) {
    if (!validDtype(a.dtype)) return fail(`dtype must be f32 or i32, got ${String(a.dtype)}`);
    return { shape: x!.shape, dtype: a.dtype };
  },
};
