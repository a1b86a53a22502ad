/**
 * The CPU backend's movement kernels (slice, pad, concat, permute, expand) as
 * one strided copy: out[dBase + Σ index·dStrides] = src[sBase + Σ index·sStrides]
 * over a shape.
 *
 * At compile time the copy is simplified (size-1 axes dropped, neighbouring
 * axes that both sides walk contiguously merged), so that the last axis is
 * the longest run possible, and the start of every run is tabled. Runs that
 * are contiguous on both sides and long go through `copyWithin` on one view
 * of the WebAssembly memory when both operands live in it (a memmove, no
 * allocation); other runs are plain loops. `copy` copies a whole value
 * (a reshape that is not a view, a cast to its own type).
 */
import type { Shape } from "../../ir/ops.js";
import { sizeOf } from "../../ir/shape.js";
import { copyRange, whole } from "./elementwise.js";
import { routine, type Arr, type Routine } from "./slots.js";

/** Copies x into o: with `set` when both have one element type, converting by assignment otherwise. */
export function copy(o: Arr, x: Arr): Routine {
  if (o.constructor === x.constructor) return routine(`copy of ${o.length} elements (TypedArray.set)`, () => (o as Float32Array).set(x as Float32Array));
  return routine(`JavaScript loop: copy of ${o.length} elements, converting by assignment`, whole(copyRange(o, x), o.length));
}

/** Runs at least this long are copied with `copyWithin`; shorter ones by a loop, which beats the call. */
const RUN = 48;

/** An axis of a strided copy: its size and the strides of source and destination along it. */
interface Axis {
  size: number;
  s: number;
  d: number;
}

/** The axes of a copy, size-1 axes dropped and mergeable neighbours merged (outer to inner). */
export function simplifyAxes(shape: Shape, sStrides: readonly number[], dStrides: readonly number[]): Axis[] {
  const axes: Axis[] = [];
  shape.forEach((size, a) => {
    if (size === 1) return;
    const axis = { size, s: sStrides[a]!, d: dStrides[a]! };
    const last = axes[axes.length - 1];
    if (last !== undefined && last.s === axis.s * size && last.d === axis.d * size) {
      last.size *= size;
      last.s = axis.s;
      last.d = axis.d;
    } else axes.push(axis);
  });
  return axes;
}

/** For every multi-index of `sizes` in row-major order, base + Σ index·strides. */
export function offsetTable(sizes: readonly number[], strides: readonly number[], base: number): Int32Array {
  const n = sizeOf(sizes);
  const table = new Int32Array(n);
  const rank = sizes.length;
  const index = new Array<number>(rank).fill(0);
  let offset = base;
  for (let f = 0; f < n; f++) {
    table[f] = offset;
    for (let a = rank - 1; a >= 0; a--) {
      offset += strides[a]!;
      if (++index[a]! < sizes[a]!) break;
      offset -= strides[a]! * sizes[a]!;
      index[a] = 0;
    }
  }
  return table;
}

/**
 * The routine copying src[sBase + Σ index·sStrides] to o[dBase + Σ index·dStrides]
 * for every index of `shape` (o and src of one element type when they share
 * memory; converting by assignment otherwise).
 */
export function stridedCopy(o: Arr, src: Arr, shape: Shape, sStrides: readonly number[], sBase: number, dStrides: readonly number[], dBase: number): Routine {
  if (sizeOf(shape) === 0) return routine("strided copy of nothing (empty shape)", () => {});
  const axes = simplifyAxes(shape, sStrides, dStrides);
  if (axes.length === 0) return routine("copy of one element", () => void (o[dBase] = src[sBase]!));
  const { size: inner, s: ss, d: ds } = axes[axes.length - 1]!;
  const outer = axes.slice(0, -1);
  const sRows = offsetTable(outer.map((a) => a.size), outer.map((a) => a.s), sBase);
  const dRows = offsetTable(outer.map((a) => a.size), outer.map((a) => a.d), dBase);
  const count = sRows.length;
  if (ss === 1 && ds === 1) {
    if (inner >= RUN && o.buffer === src.buffer && o.constructor === src.constructor) {
      // One view of the whole memory; element indices of o and src in it.
      const memory = new (o.constructor as Float32ArrayConstructor)(o.buffer);
      const [od, sd] = [o.byteOffset >> 2, src.byteOffset >> 2];
      return routine(`strided copy: ${count} run(s) of ${inner} contiguous elements, each by copyWithin on the WebAssembly memory`, () => {
        for (let q = 0; q < count; q++) {
          const s = sd + sRows[q]!;
          memory.copyWithin(od + dRows[q]!, s, s + inner);
        }
      });
    }
    return routine(`strided copy: ${count} run(s) of ${inner} contiguous elements, by a JavaScript loop`, () => {
      for (let q = 0; q < count; q++) {
        const s = sRows[q]!;
        const d = dRows[q]!;
        for (let j = 0; j < inner; j++) o[d + j] = src[s + j]!;
      }
    });
  }
  if (ss === 0 && ds === 1) {
    return routine(`strided fill: ${count} run(s) of ${inner} elements, each run one source element repeated`, () => {
      for (let q = 0; q < count; q++) {
        const d = dRows[q]!;
        o.fill(src[sRows[q]!]!, d, d + inner);
      }
    });
  }
  return routine(`strided copy: ${count} run(s) of ${inner} elements, source stride ${ss}, destination stride ${ds}, by a JavaScript loop`, () => {
    for (let q = 0; q < count; q++) {
      const s = sRows[q]!;
      const d = dRows[q]!;
      for (let j = 0; j < inner; j++) o[d + j * ds] = src[s + j * ss]!;
    }
  });
}

/**
 * A permutation simplified: size-1 axes dropped and input axes that stay
 * neighbours in the output merged. Returns the input shape and permutation
 * of the simplified form.
 */
export function simplifyPermute(shape: Shape, perm: readonly number[]): { shape: number[]; perm: number[] } {
  // The kept input axes renumbered 0‥, in output order.
  const number = new Map(shape.flatMap((d, a) => (d === 1 ? [] : [a])).map((a, i) => [a, i]));
  const kept = perm.filter((p) => shape[p] !== 1);
  // Runs of consecutive input axes in output order become one axis each.
  const groups: number[][] = [];
  for (const p of kept) {
    const last = groups[groups.length - 1];
    if (last !== undefined && number.get(last[last.length - 1]!)! + 1 === number.get(p)) last.push(p);
    else groups.push([p]);
  }
  // Number the groups in input order.
  const byInput = [...groups].sort((a, b) => a[0]! - b[0]!);
  return {
    shape: byInput.map((g) => g.reduce((n, a) => n * shape[a]!, 1)),
    perm: groups.map((g) => byInput.indexOf(g)),
  };
}
