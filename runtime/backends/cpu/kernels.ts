/**
 * The CPU backend's kernels: for each op, a maker that runs once, at compile
 * time, and returns the step that runs on every run with its account (see
 * `Routine`). A maker receives the typed-array views of the kernel's output
 * and operands (fixed for the life of the executable: buffers are reused
 * across runs) and precomputes what it can (strides, offset tables, scratch
 * space), so a step allocates nothing.
 *
 * f32 values are Float32Arrays, i32 values Int32Arrays. Arithmetic runs in
 * JavaScript numbers (float64) and rounds to float32 on store; i32 arithmetic
 * wraps to 32 bits exactly as the reference backend defines it. The
 * elementwise ops' loops live in `elementwise.ts` (`compileCpu` prefers their
 * range form, which also runs on the SIMD kernels), the reductions' in
 * `reduce.ts`; matmuls run on the SIMD kernel when the executable has one
 * (`MakerContext`).
 */
import type { BinaryOp, DType, Op, OpAttrs, Shape, UnaryOp } from "../../ir/ops.js";
import { broadcastShapes, sizeOf, stridesOf } from "../../ir/shape.js";
import { fillNormal, fillUniform } from "../../rng/index.js";
import { binaryRange, castRange, loopAccount, unaryRange, whereRange, whole } from "./elementwise.js";
import { matmulAccount, matmulInto, matmulScratch } from "./matmul.js";
import { copy, offsetTable, simplifyPermute, stridedCopy } from "./movement.js";
import { reduce } from "./reduce.js";
import { routine, type Arr, type Routine, type Slot } from "./slots.js";

export type { Arr, Routine, Slot, Step } from "./slots.js";
import { simdMatmulAccount } from "./simd-matmul.js";
import type { SimdKernels } from "./simd.js";

const f32 = (s: Slot): Float32Array => s.data as Float32Array;
const i32 = (s: Slot): Int32Array => s.data as Int32Array;

/** The columns of a transpose block: their rows of the output (block × rows elements) stay in L2 while panels of rows pass. */
const BLOCK = 128;

/**
 * out[t][j][i] = src[t][i][j] for `batch` matrices [rows, cols]: a permute
 * that swaps the last two axes (a weight's transpose). Within a block of
 * columns, panels of four source rows are read at once, so each output row
 * gets four neighbouring elements per visit rather than one.
 */
function transpose(o: Arr, src: Arr, batch: number, rows: number, cols: number): Routine {
  const size = rows * cols;
  const panels = rows - (rows % 4);
  const account = `JavaScript transpose of ${batch} matri${batch === 1 ? "x" : "ces"} [${rows}, ${cols}], columns in blocks of ${BLOCK}, rows in panels of 4`;
  return routine(account, () => {
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
  });
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

/** Compiles one primitive of op `O`: its attributes, output and operands, to a routine. */
export type Maker<O extends Op> = (attrs: OpAttrs[O], out: Slot, args: readonly Slot[], context: MakerContext) => Routine;

/** The maker of a unary op: its JavaScript loop (`compileCpu` prefers `elementwise`, which may pick a SIMD kernel). */
const unary =
  (op: UnaryOp): Maker<UnaryOp> =>
  (_a, out, [x]) =>
    routine(loopAccount(op, out), whole(unaryRange(op, out, x!), out.data.length));

/** The maker of a binary op: its JavaScript loop. */
const binary =
  (op: BinaryOp): Maker<BinaryOp> =>
  (_a, out, [x, y]) =>
    routine(loopAccount(op, out), whole(binaryRange(op, out, x!, y!), out.data.length));

/** The maker of every op (the type demands one per op; a test checks it at run time too). */
export const MAKERS: { readonly [O in Op]: Maker<O> } = {
  input: () => {
    throw new Error("cpu: inputs are fed, not computed");
  },
  param: () => {
    throw new Error("cpu: params are fed, not computed");
  },
  const: (a, out) => routine(`fill with ${a.value}`, () => out.data.fill(a.value)),
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
  uniform: (a, out, [seed, step]) =>
    routine(`Philox uniforms of stream ${a.stream} (fillUniform), ${out.data.length} elements`, () => void fillUniform(f32(out), i32(seed!)[0]! >>> 0, a.stream, 0, i32(step!)[0]! >>> 0)),
  normal: (a, out, [seed, step]) =>
    routine(`Philox normals of stream ${a.stream} (fillNormal), ${out.data.length} elements`, () => void fillNormal(f32(out), i32(seed!)[0]! >>> 0, a.stream, 0, i32(step!)[0]! >>> 0)),

  neg: unary("neg"),
  exp: unary("exp"),
  log: unary("log"),
  sqrt: unary("sqrt"),
  recip: unary("recip"),
  tanh: unary("tanh"),
  sigmoid: unary("sigmoid"),
  erf: unary("erf"),
  abs: unary("abs"),
  sign: unary("sign"),
  relu: unary("relu"),
  sin: unary("sin"),
  cos: unary("cos"),
  detach: unary("detach"),

  add: binary("add"),
  sub: binary("sub"),
  mul: binary("mul"),
  div: binary("div"),
  maximum: binary("maximum"),
  minimum: binary("minimum"),
  pow: binary("pow"),
  cmplt: binary("cmplt"),
  cmpeq: binary("cmpeq"),

  where: (_a, out, [c, x, y]) => routine(loopAccount("where", out), whole(whereRange(out, c!, x!, y!), out.data.length)),

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
      return routine(simdMatmulAccount(count, m, k, n, false, false), () => {
        for (let t = 0; t < count; t++) matmul(ab + 4 * aOff[t]!, bb + 4 * bOff[t]!, cb + 4 * t * m * n, m, k, n, false, false);
      });
    }
    const pack = matmulScratch(k, n);
    return routine(matmulAccount(count, m, k, n), () => {
      for (let t = 0; t < count; t++) matmulInto(A, aOff[t]!, B, bOff[t]!, C, t * m * n, m, k, n, pack);
    });
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
    const copyIn = place.step;
    return routine(`fill with ${value}, then ${place.account}`, () => {
      o.fill(value);
      copyIn();
    });
  },
  concat: (a, out, args) => {
    const outStrides = stridesOf(out.shape);
    let at = 0;
    const parts = args.map((s) => {
      const part = stridedCopy(out.data, s.data, s.shape, stridesOf(s.shape), 0, outStrides, at * outStrides[a.axis]!);
      at += s.shape[a.axis]!;
      return part;
    });
    const steps = parts.map((p) => p.step);
    const count = steps.length;
    return routine(`${count} part(s) along axis ${a.axis}: ${parts.map((p) => p.account).join("; ")}`, () => {
      for (let k = 0; k < count; k++) steps[k]!();
    });
  },

  gather: (a, out, [x, idx]) => {
    const [outer, size] = around(x!.shape, a.axis);
    const [, count, inner] = around(idx!.shape, a.axis);
    const [o, src, ix] = [out.data, x!.data, i32(idx!)];
    return routine(`JavaScript loop: gather along axis ${a.axis}, [outer ${outer}, indices ${count}, inner ${inner}] from ${size}, bounds checked`, () => {
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
    });
  },
  scatter_add: (a, out, [target, idx, updates]) => {
    const [outer, size] = around(target!.shape, a.axis);
    const [, count, inner] = around(idx!.shape, a.axis);
    const [o, ix, up] = [out.data, i32(idx!), updates!.data];
    const int = out.dtype === "i32";
    const init = copy(o, target!.data).step;
    return routine(`copy of the target, then JavaScript loop: scatter_add along axis ${a.axis}, [outer ${outer}, indices ${count}, inner ${inner}] into ${size}, bounds checked`, () => {
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
    });
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
    return routine(`JavaScript stable sort (Array.prototype.sort) of ${outer * inner} line(s) of ${size} along axis ${a.axis}, ${a.descending ? "descending" : "ascending"}`, () => {
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
    });
  },

  cast: (_a, out, [x]) =>
    out.dtype === x!.dtype ? copy(out.data, x!.data) : routine(loopAccount(`cast ${x!.dtype} to ${out.dtype}`, out), whole(castRange(out, x!), out.data.length)),
};

/** For each batch index of the broadcast batch shape, the offset of an operand's matrix (right-aligned batch axes). */
function batchOffsets(own: Shape, batch: Shape, matrixSize: number): Int32Array {
  const lead = batch.length - own.length;
  const ownStrides = stridesOf(own);
  const strides = batch.map((_, a) => (a < lead || own[a - lead] === 1 ? 0 : ownStrides[a - lead]! * matrixSize));
  return offsetTable(batch, strides, 0);
}
