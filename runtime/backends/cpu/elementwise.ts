/**
 * The CPU backend's elementwise kernels as range steps: `step(from, to)`
 * computes output elements from ‥ to − 1, where element e of the output reads
 * element e of each operand (or, for broadcasts, a fixed place of a small
 * operand). Running over ranges is what lets `chunked.ts` run a chain of
 * these kernels a cache-sized chunk at a time.
 *
 * Each op has its own loop rather than a shared loop calling a function: a
 * shared loop's call site sees every op and the engine cannot inline any.
 * f32 arithmetic runs in JavaScript numbers (float64) and rounds to float32
 * on store; i32 arithmetic wraps to 32 bits as the reference defines it.
 */
import { isOpOf, type BinaryOp, type Op, type UnaryOp } from "../../ir/ops.js";
import { sizeOf } from "../../ir/shape.js";
import type { Arr, Slot, Step } from "./slots.js";
import { SIMD_BINARY, SIMD_UNARY, type SimdElementwiseOp } from "./simd-elementwise.js";
import type { SimdKernels } from "./simd.js";

/** Computes output elements from ‥ to − 1. */
export type RangeStep = (from: number, to: number) => void;

/** An elementwise kernel: its range step, which operands it reads at places other than the element's own, and what the step runs. */
export interface Elementwise {
  readonly step: RangeStep;
  /** Operand positions read through a broadcast (at a fixed place, or repeating with a period). */
  readonly broadcast: readonly number[];
  /** The routine in words (see `Routine`). */
  readonly account: string;
}

/** The account of a JavaScript elementwise loop computing `what` into `out`. */
export function loopAccount(what: string, out: Slot): string {
  return `JavaScript loop: ${what}, ${out.data.length} ${out.dtype} elements`;
}

/** The step running `step` over all n elements. */
export function whole(step: RangeStep, n: number): Step {
  return () => step(0, n);
}

/** f32 → i32: toward zero, clamped to [−2^31, 2^31 − 1], NaN to 0 (the reference's rule). */
export function toI32(v: number): number {
  if (v !== v) return 0;
  if (v >= 2147483647) return 2147483647;
  if (v <= -2147483648) return -2147483648;
  return Math.trunc(v);
}

/**
 * erf to float32 accuracy, without the reference's series of up to 200 terms
 * (a GELU's cost): for |x| < 0.5 its Maclaurin series to x¹³ (relative error
 * under 1e-9 there), beyond 1 − erfc(|x|) with the Chebyshev fit of
 * Numerical Recipes (erfc's relative error under 1.2e-7 for every x ≥ 0, so
 * erf's under 1e-7 where erf ≥ 0.5).
 */
export function erf32(x: number): number {
  const a = Math.abs(x);
  if (a < 0.5) {
    const x2 = x * x;
    // 2/√π · Σ (−1)ⁿ x^(2n+1) / (n! (2n+1)), n = 0‥6.
    return (
      1.1283791670955126 *
      x *
      (1 + x2 * (-1 / 3 + x2 * (1 / 10 + x2 * (-1 / 42 + x2 * (1 / 216 + x2 * (-1 / 1320 + x2 * (1 / 9360)))))))
    );
  }
  const t = 1 / (1 + 0.5 * a);
  const erfc =
    t *
    Math.exp(
      -a * a -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  // NaN stays NaN (a < 0.5 and x < 0 are both false).
  return x < 0 ? erfc - 1 : 1 - erfc;
}

/** Applies `f` elementwise: the path of rare ops, where a call per element is acceptable. */
function map1(o: Arr, x: Arr, f: (v: number) => number): RangeStep {
  return (from, to) => {
    for (let i = from; i < to; i++) o[i] = f(x[i]!);
  };
}

function map2(o: Arr, x: Arr, y: Arr, f: (a: number, b: number) => number): RangeStep {
  return (from, to) => {
    for (let i = from; i < to; i++) o[i] = f(x[i]!, y[i]!);
  };
}

/** Copies elements, converting between f32 and i32 storage by plain assignment. */
export function copyRange(o: Arr, x: Arr): RangeStep {
  return (from, to) => {
    for (let i = from; i < to; i++) o[i] = x[i]!;
  };
}

/** The range step of a unary op. */
export function unaryRange(op: UnaryOp, out: Slot, x: Slot): RangeStep {
  const o = out.data;
  const s = x.data;
  const int = out.dtype === "i32";
  switch (op) {
    case "neg":
      return int
        ? (from, to) => {
            for (let i = from; i < to; i++) o[i] = -s[i]! | 0;
          }
        : (from, to) => {
            for (let i = from; i < to; i++) o[i] = -s[i]!;
          };
    case "exp":
      return (from, to) => {
        for (let i = from; i < to; i++) o[i] = Math.exp(s[i]!);
      };
    case "log":
      return (from, to) => {
        for (let i = from; i < to; i++) o[i] = Math.log(s[i]!);
      };
    case "sqrt":
      return (from, to) => {
        for (let i = from; i < to; i++) o[i] = Math.sqrt(s[i]!);
      };
    case "recip":
      return (from, to) => {
        for (let i = from; i < to; i++) o[i] = 1 / s[i]!;
      };
    case "tanh":
      return (from, to) => {
        for (let i = from; i < to; i++) o[i] = Math.tanh(s[i]!);
      };
    case "sigmoid":
      return (from, to) => {
        for (let i = from; i < to; i++) o[i] = 1 / (1 + Math.exp(-s[i]!));
      };
    case "relu":
      return (from, to) => {
        for (let i = from; i < to; i++) {
          const v = s[i]!;
          o[i] = v > 0 ? v : v === v ? 0 : v;
        }
      };
    case "detach":
      return copyRange(o, s);
    case "erf":
      return (from, to) => {
        for (let i = from; i < to; i++) o[i] = erf32(s[i]!);
      };
    case "abs":
      return int ? map1(o, s, (v) => Math.abs(v) | 0) : map1(o, s, Math.abs);
    case "sign":
      return map1(o, s, Math.sign);
    case "sin":
      return map1(o, s, Math.sin);
    case "cos":
      return map1(o, s, Math.cos);
  }
  // Every unary op of the op table has a case above: one added there fails to type-check here.
  const missing: never = op;
  throw new Error(`cpu: no loop for unary op ${String(missing)}`);
}

/** The range step of a binary op. */
export function binaryRange(op: BinaryOp, out: Slot, a: Slot, b: Slot): RangeStep {
  const o = out.data;
  const x = a.data;
  const y = b.data;
  const int = a.dtype === "i32";
  switch (op) {
    case "add":
      return int
        ? (from, to) => {
            for (let i = from; i < to; i++) o[i] = (x[i]! + y[i]!) | 0;
          }
        : (from, to) => {
            for (let i = from; i < to; i++) o[i] = x[i]! + y[i]!;
          };
    case "sub":
      return int
        ? (from, to) => {
            for (let i = from; i < to; i++) o[i] = (x[i]! - y[i]!) | 0;
          }
        : (from, to) => {
            for (let i = from; i < to; i++) o[i] = x[i]! - y[i]!;
          };
    case "mul":
      return int
        ? (from, to) => {
            for (let i = from; i < to; i++) o[i] = Math.imul(x[i]!, y[i]!);
          }
        : (from, to) => {
            for (let i = from; i < to; i++) o[i] = x[i]! * y[i]!;
          };
    case "div":
      return int
        ? map2(o, x, y, (p, q) => (q === 0 ? p : Math.trunc(p / q) | 0))
        : (from, to) => {
            for (let i = from; i < to; i++) o[i] = x[i]! / y[i]!;
          };
    case "maximum":
      return (from, to) => {
        for (let i = from; i < to; i++) o[i] = Math.max(x[i]!, y[i]!);
      };
    case "minimum":
      return (from, to) => {
        for (let i = from; i < to; i++) o[i] = Math.min(x[i]!, y[i]!);
      };
    case "pow":
      return map2(o, x, y, Math.pow);
    case "cmplt":
      return (from, to) => {
        for (let i = from; i < to; i++) o[i] = x[i]! < y[i]! ? 1 : 0;
      };
    case "cmpeq":
      return (from, to) => {
        for (let i = from; i < to; i++) o[i] = x[i]! === y[i]! ? 1 : 0;
      };
  }
  const missing: never = op;
  throw new Error(`cpu: no loop for binary op ${String(missing)}`);
}

/** where(c, a, b) over a range. */
export function whereRange(out: Slot, c: Slot, a: Slot, b: Slot): RangeStep {
  const [o, cond, x, y] = [out.data, c.data as Int32Array, a.data, b.data];
  return (from, to) => {
    for (let i = from; i < to; i++) o[i] = cond[i] !== 0 ? x[i]! : y[i]!;
  };
}

/** The cast op over a range: f32 → i32 by the reference's rule, anything else by assignment. */
export function castRange(out: Slot, x: Slot): RangeStep {
  return out.dtype === "i32" && x.dtype === "f32" ? map1(out.data, x.data, toI32) : copyRange(out.data, x.data);
}

/**
 * An expand that repeats its whole source along leading axes (a bias [n] →
 * [b, n], a scalar [1, 1] → [m, n]): output element e is source element
 * e mod the source's size. Undefined for other expands.
 */
export function repeatRange(out: Slot, x: Slot): RangeStep | undefined {
  const period = sizeOf(x.shape);
  const core = x.shape.slice(x.shape.findIndex((d) => d !== 1));
  const tail = out.shape.slice(out.shape.length - core.length);
  if (period === 0 || (period > 1 && core.some((d, i) => d !== tail[i]))) return undefined;
  const [o, s] = [out.data, x.data];
  if (period === 1) {
    return (from, to) => {
      const v = s[0]!;
      for (let i = from; i < to; i++) o[i] = v;
    };
  }
  return (from, to) => {
    for (let i = from, j = from % period; i < to; i++) {
      o[i] = s[j]!;
      if (++j === period) j = 0;
    }
  };
}

/** The WebAssembly SIMD range step of a float32 op, where there is a kernel for it and its arrays live in the kernels' memory. */
function simdRange(op: Op, out: Slot, args: readonly Slot[], simd: SimdKernels | undefined): RangeStep | undefined {
  if (simd === undefined || out.dtype !== "f32" || !(Object.hasOwn(SIMD_BINARY, op) || Object.hasOwn(SIMD_UNARY, op))) return undefined;
  const arrays = [out, ...args].map((s) => s.data);
  if (arrays.some((d) => d.buffer !== simd.buffer)) return undefined;
  const kernel = simd.elementwise[op as SimdElementwiseOp];
  const [o, x, y] = arrays.map((d) => d.byteOffset);
  // Byte addresses: element e is 4·e bytes past each array's start.
  return args.length === 2
    ? (from, to) => kernel(o! + 4 * from, x! + 4 * from, y! + 4 * from, to - from)
    : (from, to) => kernel(o! + 4 * from, x! + 4 * from, to - from);
}

/**
 * The range form of a kernel's op (on the SIMD kernels where `simd` has
 * one), or undefined where element e of its output is not computed from
 * element e of its operands (or a broadcast).
 */
export function elementwise(op: Op, attrs: unknown, out: Slot, args: readonly Slot[], simd?: SimdKernels): Elementwise | undefined {
  const [a, b, c] = args;
  const fast = simdRange(op, out, args, simd);
  if (fast !== undefined) {
    return { step: fast, broadcast: [], account: `WebAssembly SIMD kernel "${op}": 4 lanes at a time, then one at a time, ${out.data.length} elements` };
  }
  const loop = (step: RangeStep, what: string, broadcast: readonly number[] = []): Elementwise => ({ step, broadcast, account: loopAccount(what, out) });
  if (isOpOf(op, "unary")) return loop(unaryRange(op, out, a!), op);
  if (isOpOf(op, "binary")) return loop(binaryRange(op, out, a!, b!), op);
  switch (op) {
    case "where":
      return loop(whereRange(out, a!, b!, c!), "where");
    case "cast":
      return loop(castRange(out, a!), `cast ${a!.dtype} to ${out.dtype}`);
    case "reshape":
      return loop(copyRange(out.data, a!.data), "copy (reshape)");
    case "const": {
      const value = (attrs as { value: number }).value;
      const o = out.data;
      return loop((from, to) => void o.fill(value, from, to), `fill with ${value}`);
    }
    case "expand": {
      const step = repeatRange(out, a!);
      return step && loop(step, `repeat a source of ${sizeOf(a!.shape)} element(s)`, [0]);
    }
  }
  return undefined;
}
