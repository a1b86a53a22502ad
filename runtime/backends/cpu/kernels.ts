/**
 * The CPU backend's kernels: for each op, a maker that runs once, at compile
 * time, and returns the step that runs on every run. A maker receives the
 * typed-array views of the kernel's output and operands (fixed for the life
 * of the executable: buffers are reused across runs) and precomputes what it
 * can (strides, offset tables, scratch space), so a step allocates nothing.
 *
 * f32 values are Float32Arrays, i32 values Int32Arrays. Arithmetic runs in
 * JavaScript numbers (float64) and rounds to float32 on store; i32 arithmetic
 * wraps to 32 bits exactly as the reference backend defines it. The
 * elementwise ops' loops live in `elementwise.ts` (`compileCpu` prefers their
 * range form, which also runs on the SIMD kernels); matmuls run on the SIMD
 * kernel when the executable has one (`MakerContext`).
 */
import type { DType, Op, OpAttrs, Shape } from "../../ir/ops.js";
import { broadcastShapes, sizeOf, stridesOf } from "../../ir/shape.js";
import { fillNormal, fillUniform } from "../../rng/index.js";
import { binaryRange, castRange, copyRange, unaryRange, whereRange, whole } from "./elementwise.js";
import { matmulInto, matmulScratch } from "./matmul.js";
import { offsetTable, simplifyPermute, stridedCopy } from "./movement.js";
import type { Arr, Slot, Step } from "./slots.js";

export type { Arr, Slot, Step } from "./slots.js";
import type { SimdKernels } from "./simd.js";

const f32 = (s: Slot): Float32Array => s.data as Float32Array;
const i32 = (s: Slot): Int32Array => s.data as Int32Array;

/** Copies x into o: with `set` when both have one element type, converting by assignment otherwise. */
function copy(o: Arr, x: Arr): Step {
  if (o.constructor === x.constructor) return () => (o as Float32Array).set(x as Float32Array);
  return whole(copyRange(o, x), o.length);
}

/**
 * sum or max over axes. The shape is simplified first (size-1 axes dropped,
 * neighbouring axes of the same kind merged); when the reduced axes then form
 * one block [outer, r, inner], a direct loop runs (a last-axis reduction is
 * inner = 1); otherwise a precomputed table maps each input element to its
 * output element.
 */
function reduce(kind: "sum" | "max", out: Slot, x: Slot, axes: readonly number[]): Step {
  const o = out.data;
  const src = x.data;
  const int = x.dtype === "i32";
  const init = kind === "sum" ? 0 : int ? -2147483648 : -Infinity;
  const groups: { size: number; reduced: boolean }[] = [];
  x.shape.forEach((d, i) => {
    if (d === 1) return;
    const reduced = axes.includes(i);
    const last = groups[groups.length - 1];
    if (last !== undefined && last.reduced === reduced) last.size *= d;
    else groups.push({ size: d, reduced });
  });
  const nIn = src.length;
  if (nIn === 0) return () => o.fill(init);
  const r = groups.filter((g) => g.reduced);
  if (r.length === 0) return copy(o, src);
  if (r.length === 1) {
    const at = groups.findIndex((g) => g.reduced);
    const outer = sizeOf(groups.slice(0, at).map((g) => g.size));
    const size = groups[at]!.size;
    const inner = sizeOf(groups.slice(at + 1).map((g) => g.size));
    if (inner === 1) {
      if (kind === "sum") {
        return int
          ? () => {
              for (let q = 0; q < outer; q++) {
                let s = 0;
                const base = q * size;
                for (let j = 0; j < size; j++) s = (s + src[base + j]!) | 0;
                o[q] = s;
              }
            }
          : () => {
              for (let q = 0; q < outer; q++) {
                let s = 0;
                const base = q * size;
                for (let j = 0; j < size; j++) s += src[base + j]!;
                o[q] = s;
              }
            };
      }
      return () => {
        for (let q = 0; q < outer; q++) {
          let s = init;
          const base = q * size;
          for (let j = 0; j < size; j++) {
            const v = src[base + j]!;
            if (v > s || v !== v) s = v;
          }
          o[q] = s;
        }
      };
    }
    const acc = new Float64Array(inner);
    return () => {
      for (let q = 0; q < outer; q++) {
        acc.fill(init);
        for (let j = 0; j < size; j++) {
          const base = (q * size + j) * inner;
          if (kind === "sum") {
            if (int) for (let i = 0; i < inner; i++) acc[i] = (acc[i]! + src[base + i]!) | 0;
            else for (let i = 0; i < inner; i++) acc[i] += src[base + i]!;
          } else {
            for (let i = 0; i < inner; i++) {
              const v = src[base + i]!;
              if (v > acc[i]! || v !== v) acc[i] = v;
            }
          }
        }
        const ob = q * inner;
        for (let i = 0; i < inner; i++) o[ob + i] = acc[i]!;
      }
    };
  }
  const last = groups[groups.length - 1]!;
  if (last.reduced) {
    // Several reduced blocks, the last one innermost: each contiguous run of it is reduced on
    // its own, then added (or compared) into its output element, found in a table of runs.
    const run = last.size;
    const kept = groups.slice(0, -1);
    let stride = 1;
    const strides = kept.map(() => 0);
    for (let g = kept.length - 1; g >= 0; g--) {
      if (kept[g]!.reduced) continue;
      strides[g] = stride;
      stride *= kept[g]!.size;
    }
    const runs = offsetTable(kept.map((g) => g.size), strides, 0);
    const count = runs.length;
    const acc = new Float64Array(o.length);
    if (kind === "sum") {
      return () => {
        acc.fill(0);
        for (let q = 0; q < count; q++) {
          const base = q * run;
          let t = 0;
          if (int) for (let j = 0; j < run; j++) t = (t + src[base + j]!) | 0;
          else for (let j = 0; j < run; j++) t += src[base + j]!;
          const at = runs[q]!;
          acc[at] = int ? (acc[at]! + t) | 0 : acc[at]! + t;
        }
        for (let i = 0; i < acc.length; i++) o[i] = acc[i]!;
      };
    }
    return () => {
      acc.fill(init);
      for (let q = 0; q < count; q++) {
        const base = q * run;
        const at = runs[q]!;
        let m = acc[at]!;
        for (let j = 0; j < run; j++) {
          const v = src[base + j]!;
          if (v > m || v !== v) m = v;
        }
        acc[at] = m;
      }
      for (let i = 0; i < acc.length; i++) o[i] = acc[i]!;
    };
  }
  // General: a table from input element to output element.
  const outShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const outStrides = stridesOf(outShape).map((s, i) => (axes.includes(i) ? 0 : s));
  const table = offsetTable(x.shape, outStrides, 0);
  const acc = new Float64Array(o.length);
  return () => {
    acc.fill(init);
    for (let f = 0; f < nIn; f++) {
      const t = table[f]!;
      const v = src[f]!;
      if (kind === "sum") acc[t] = int ? (acc[t]! + v) | 0 : acc[t]! + v;
      else if (v > acc[t]! || v !== v) acc[t] = v;
    }
    for (let i = 0; i < acc.length; i++) o[i] = acc[i]!;
  };
}

/** The columns of a transpose block: their rows of the output (block × rows elements) stay in L2 while panels of rows pass. */
const BLOCK = 128;

/**
 * out[t][j][i] = src[t][i][j] for `batch` matrices [rows, cols]: a permute
 * that swaps the last two axes (a weight's transpose). Within a block of
 * columns, panels of four source rows are read at once, so each output row
 * gets four neighbouring elements per visit rather than one.
 */
function transpose(o: Arr, src: Arr, batch: number, rows: number, cols: number): Step {
  const size = rows * cols;
  const panels = rows - (rows % 4);
  return () => {
    for (let t = 0; t < batch; t++) {
      const base = t * size;
      for (let j0 = 0; j0 < cols; j0 += BLOCK) {
        const j1 = Math.min(j0 + BLOCK, cols);
        for (let i = 0; i < panels; i += 4) {
          const s = base + i * cols;
          for (let j = j0; j < j1; j++) {
            const d = base + j * rows + i;
            const r = s + j;
            o[d] = src[r]!;
            o[d + 1] = src[r + cols]!;
            o[d + 2] = src[r + 2 * cols]!;
            o[d + 3] = src[r + 3 * cols]!;
          }
        }
        for (let i = panels; i < rows; i++) {
          for (let j = j0; j < j1; j++) o[base + j * rows + i] = src[base + i * cols + j]!;
        }
      }
    }
  };
}

/** The [outer, size, inner] view of a shape around `axis`. */
function around(shape: Shape, axis: number): [outer: number, size: number, inner: number] {
  return [sizeOf(shape.slice(0, axis)), shape[axis]!, sizeOf(shape.slice(axis + 1))];
}

function indexError(op: string, k: number, size: number, axis: number): RangeError {
  return new RangeError(`${op}: index ${k} is out of range 0..${size - 1} of axis ${axis}`);
}

/** What an executable offers every maker beyond its slots. */
export interface MakerContext {
  /** The WebAssembly SIMD kernels over the memory holding every slot; undefined on the JavaScript fallback. */
  readonly simd: SimdKernels | undefined;
}

/** Compiles one primitive of op `O`: its attributes, output and operands, to a step. */
export type Maker<O extends Op> = (attrs: OpAttrs[O], out: Slot, args: readonly Slot[], context: MakerContext) => Step;

/** The maker of every op (the type demands one per op; a test checks it at run time too). */
export const MAKERS: { readonly [O in Op]: Maker<O> } = {
  input: () => {
    throw new Error("cpu: inputs are fed, not computed");
  },
  param: () => {
    throw new Error("cpu: params are fed, not computed");
  },
  const: (a, out) => () => out.data.fill(a.value),
  literal: (a, out) => {
    const data = out.dtype === "f32" ? Float32Array.from(a.data) : Int32Array.from(a.data);
    return copy(out.data, data);
  },
  iota: (a, out) => {
    const stride = stridesOf(a.shape)[a.axis]!;
    const dim = a.shape[a.axis]!;
    const n = out.data.length;
    const table = out.dtype === "f32" ? new Float32Array(n) : new Int32Array(n);
    for (let i = 0; i < n; i++) table[i] = Math.floor(i / stride) % dim;
    return copy(out.data, table);
  },
  uniform: (a, out, [seed, step]) => () => void fillUniform(f32(out), i32(seed!)[0]! >>> 0, a.stream, 0, i32(step!)[0]! >>> 0),
  normal: (a, out, [seed, step]) => () => void fillNormal(f32(out), i32(seed!)[0]! >>> 0, a.stream, 0, i32(step!)[0]! >>> 0),

  neg: (_a, out, [x]) => whole(unaryRange("neg", out, x!), out.data.length),
  exp: (_a, out, [x]) => whole(unaryRange("exp", out, x!), out.data.length),
  log: (_a, out, [x]) => whole(unaryRange("log", out, x!), out.data.length),
  sqrt: (_a, out, [x]) => whole(unaryRange("sqrt", out, x!), out.data.length),
  recip: (_a, out, [x]) => whole(unaryRange("recip", out, x!), out.data.length),
  tanh: (_a, out, [x]) => whole(unaryRange("tanh", out, x!), out.data.length),
  sigmoid: (_a, out, [x]) => whole(unaryRange("sigmoid", out, x!), out.data.length),
  erf: (_a, out, [x]) => whole(unaryRange("erf", out, x!), out.data.length),
  abs: (_a, out, [x]) => whole(unaryRange("abs", out, x!), out.data.length),
  sign: (_a, out, [x]) => whole(unaryRange("sign", out, x!), out.data.length),
  relu: (_a, out, [x]) => whole(unaryRange("relu", out, x!), out.data.length),
  sin: (_a, out, [x]) => whole(unaryRange("sin", out, x!), out.data.length),
  cos: (_a, out, [x]) => whole(unaryRange("cos", out, x!), out.data.length),
  detach: (_a, out, [x]) => whole(unaryRange("detach", out, x!), out.data.length),

  add: (_a, out, [x, y]) => whole(binaryRange("add", out, x!, y!), out.data.length),
  sub: (_a, out, [x, y]) => whole(binaryRange("sub", out, x!, y!), out.data.length),
  mul: (_a, out, [x, y]) => whole(binaryRange("mul", out, x!, y!), out.data.length),
  div: (_a, out, [x, y]) => whole(binaryRange("div", out, x!, y!), out.data.length),
  maximum: (_a, out, [x, y]) => whole(binaryRange("maximum", out, x!, y!), out.data.length),
  minimum: (_a, out, [x, y]) => whole(binaryRange("minimum", out, x!, y!), out.data.length),
  pow: (_a, out, [x, y]) => whole(binaryRange("pow", out, x!, y!), out.data.length),
  cmplt: (_a, out, [x, y]) => whole(binaryRange("cmplt", out, x!, y!), out.data.length),
  cmpeq: (_a, out, [x, y]) => whole(binaryRange("cmpeq", out, x!, y!), out.data.length),

  where: (_a, out, [c, x, y]) => whole(whereRange(out, c!, x!, y!), out.data.length),

  sum: (a, out, [x]) => reduce("sum", out, x!, a.axes),
  max: (a, out, [x]) => reduce("max", out, x!, a.axes),

  matmul: (_a, out, [x, y], context) => {
    const [aShape, bShape] = [x!.shape, y!.shape];
    const [m, k] = aShape.slice(-2) as [number, number];
    const n = bShape[bShape.length - 1]!;
    const batch = broadcastShapes(aShape.slice(0, -2), bShape.slice(0, -2))!;
    const aOff = batchOffsets(aShape.slice(0, -2), batch, m * k);
    const bOff = batchOffsets(bShape.slice(0, -2), batch, k * n);
    const [A, B, C] = [f32(x!), f32(y!), f32(out)];
    const count = aOff.length;
    const simd = context.simd;
    if (simd !== undefined && [A, B, C].every((v) => v.buffer === simd.buffer)) {
      const matmul = simd.matmul;
      // Byte addresses in the WebAssembly memory.
      const [ab, bb, cb] = [A.byteOffset, B.byteOffset, C.byteOffset];
      return () => {
        for (let t = 0; t < count; t++) matmul(ab + 4 * aOff[t]!, bb + 4 * bOff[t]!, cb + 4 * t * m * n, m, k, n, false, false);
      };
    }
    const pack = matmulScratch(k, n);
    return () => {
      for (let t = 0; t < count; t++) matmulInto(A, aOff[t]!, B, bOff[t]!, C, t * m * n, m, k, n, pack);
    };
  },

  reshape: (_a, out, [x]) => copy(out.data, x!.data),
  permute: (a, out, [x]) => {
    // Simplified first, so that e.g. [B, h, w, f, k, k] → [B, f, k, k, h, w] is one batched transpose.
    const { shape, perm } = simplifyPermute(x!.shape, a.perm);
    const rank = perm.length;
    if (perm.every((p, i) => p === i)) return copy(out.data, x!.data);
    if (rank >= 2 && perm.every((p, i) => p === (i < rank - 2 ? i : 2 * rank - 3 - i))) {
      const [rows, cols] = shape.slice(-2) as [number, number];
      return transpose(out.data, x!.data, sizeOf(shape.slice(0, -2)), rows, cols);
    }
    const strides = stridesOf(shape);
    const outShape = perm.map((p) => shape[p]!);
    return stridedCopy(out.data, x!.data, outShape, perm.map((p) => strides[p]!), 0, stridesOf(outShape), 0);
  },
  expand: (_a, out, [x]) => {
    const strides = stridesOf(x!.shape).map((s, i) => (x!.shape[i] === 1 && out.shape[i] !== 1 ? 0 : s));
    return stridedCopy(out.data, x!.data, out.shape, strides, 0, stridesOf(out.shape), 0);
  },
  slice: (a, out, [x]) => {
    const strides = stridesOf(x!.shape);
    const base = a.starts.reduce((s, st, i) => s + st * strides[i]!, 0);
    const steps = strides.map((s, i) => s * a.steps[i]!);
    return stridedCopy(out.data, x!.data, out.shape, steps, base, stridesOf(out.shape), 0);
  },
  pad: (a, out, [x]) => {
    const o = out.data;
    const outStrides = stridesOf(out.shape);
    const base = a.lo.reduce((s, l, i) => s + l * outStrides[i]!, 0);
    const steps = outStrides.map((s, i) => s * (a.interior[i]! + 1));
    const value = a.value;
    // Negative padding crops: only the part of the input that lands inside the output is copied.
    const from = x!.shape.map((_, i) => Math.max(0, Math.ceil(-a.lo[i]! / (a.interior[i]! + 1))));
    const to = x!.shape.map((d, i) => Math.min(d, Math.floor((out.shape[i]! - 1 - a.lo[i]!) / (a.interior[i]! + 1)) + 1));
    const shape = from.map((f, i) => Math.max(0, to[i]! - f));
    const inStrides = stridesOf(x!.shape);
    const sBase = from.reduce((s, f, i) => s + f * inStrides[i]!, 0);
    const dBase = base + from.reduce((s, f, i) => s + f * steps[i]!, 0);
    const place = stridedCopy(o, x!.data, shape, inStrides, sBase, steps, dBase);
    return () => {
      o.fill(value);
      place();
    };
  },
  concat: (a, out, args) => {
    const outStrides = stridesOf(out.shape);
    let at = 0;
    const parts = args.map((s) => {
      const part = stridedCopy(out.data, s.data, s.shape, stridesOf(s.shape), 0, outStrides, at * outStrides[a.axis]!);
      at += s.shape[a.axis]!;
      return part;
    });
    const count = parts.length;
    return () => {
      for (let k = 0; k < count; k++) parts[k]!();
    };
  },

  gather: (a, out, [x, idx]) => {
    const [outer, size] = around(x!.shape, a.axis);
    const [, count, inner] = around(idx!.shape, a.axis);
    const [o, src, ix] = [out.data, x!.data, i32(idx!)];
    return () => {
      for (let q = 0; q < outer; q++) {
        for (let j = 0; j < count; j++) {
          const at = (q * count + j) * inner;
          for (let i = 0; i < inner; i++) {
            const k = ix[at + i]!;
            if (k < 0 || k >= size) throw indexError("gather", k, size, a.axis);
            o[at + i] = src[(q * size + k) * inner + i]!;
          }
        }
      }
    };
  },
  scatter_add: (a, out, [target, idx, updates]) => {
    const [outer, size] = around(target!.shape, a.axis);
    const [, count, inner] = around(idx!.shape, a.axis);
    const [o, ix, up] = [out.data, i32(idx!), updates!.data];
    const int = out.dtype === "i32";
    const init = copy(o, target!.data);
    return () => {
      init();
      for (let q = 0; q < outer; q++) {
        for (let j = 0; j < count; j++) {
          const at = (q * count + j) * inner;
          for (let i = 0; i < inner; i++) {
            const k = ix[at + i]!;
            if (k < 0 || k >= size) throw indexError("scatter_add", k, size, a.axis);
            const t = (q * size + k) * inner + i;
            o[t] = int ? (o[t]! + up[at + i]!) | 0 : o[t]! + up[at + i]!;
          }
        }
      }
    };
  },

  argsort: (a, out, [x]) => {
    const [outer, size, inner] = around(x!.shape, a.axis);
    const [o, src] = [i32(out), x!.data];
    const keys = new Float64Array(size);
    const order = new Array<number>(size).fill(0);
    const sign = a.descending ? -1 : 1;
    // The reference's order: NaN above +∞; ties keep their original order.
    const compare = (p: number, q: number): number => {
      const u = keys[p]!;
      const v = keys[q]!;
      const c = (u !== u ? Infinity : u) - (v !== v ? Infinity : v) || (u !== u ? 1 : 0) - (v !== v ? 1 : 0);
      return sign * c || p - q;
    };
    return () => {
      for (let q = 0; q < outer; q++) {
        for (let i = 0; i < inner; i++) {
          const base = q * size * inner + i;
          for (let j = 0; j < size; j++) {
            keys[j] = src[base + j * inner]!;
            order[j] = j;
          }
          order.sort(compare);
          for (let j = 0; j < size; j++) o[base + j * inner] = order[j]!;
        }
      }
    };
  },

  cast: (_a, out, [x]) => (out.dtype === x!.dtype ? copy(out.data, x!.data) : whole(castRange(out, x!), out.data.length)),
};

/** For each batch index of the broadcast batch shape, the offset of an operand's matrix (right-aligned batch axes). */
function batchOffsets(own: Shape, batch: Shape, matrixSize: number): Int32Array {
  const lead = batch.length - own.length;
  const ownStrides = stridesOf(own);
  const strides = batch.map((_, a) => (a < lead || own[a - lead] === 1 ? 0 : ownStrides[a - lead]! * matrixSize));
  return offsetTable(batch, strides, 0);
}
