/**
 * The CPU backend's reductions (sum and max over axes), compiled to the
 * cheapest loop the shape allows.
 */
import { sizeOf, stridesOf } from "../../ir/shape.js";
import { copy, offsetTable } from "./movement.js";
import { routine, type Routine, type Slot, type Step } from "./slots.js";

/**
 * sum or max over axes. The shape is simplified first (size-1 axes dropped,
 * neighbouring axes of the same kind merged); when the reduced axes then form
 * one block [outer, r, inner], a direct loop runs (a last-axis reduction is
 * inner = 1); otherwise a precomputed table maps each input element to its
 * output element.
 */
export function reduce(kind: "sum" | "max", out: Slot, x: Slot, axes: readonly number[]): Routine {
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
  if (nIn === 0) return routine(`fill with ${kind}'s identity ${init} (empty input)`, () => o.fill(init));
  const r = groups.filter((g) => g.reduced);
  if (r.length === 0) return copy(o, src);
  const loop = (form: string, step: Step) => routine(`JavaScript loop: ${kind} (${x.dtype}) ${form}`, step);
  if (r.length === 1) {
    const at = groups.findIndex((g) => g.reduced);
    const outer = sizeOf(groups.slice(0, at).map((g) => g.size));
    const size = groups[at]!.size;
    const inner = sizeOf(groups.slice(at + 1).map((g) => g.size));
    const block = `over one block of axes: [outer ${outer}, reduced ${size}, inner ${inner}]`;
    if (inner === 1) {
      if (kind === "sum") {
        return loop(block, int
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
            });
      }
      return loop(block, () => {
        for (let q = 0; q < outer; q++) {
          let s = init;
          const base = q * size;
          for (let j = 0; j < size; j++) {
            const v = src[base + j]!;
            if (v > s || v !== v) s = v;
          }
          o[q] = s;
        }
      });
    }
    const acc = new Float64Array(inner);
    return loop(`${block}, accumulating rows of ${inner} in float64`, () => {
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
    });
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
    const runsForm = `over ${count} contiguous runs of ${run} (the innermost reduced block), each added into its output element through a table`;
    if (kind === "sum") {
      return loop(runsForm, () => {
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
      });
    }
    return loop(runsForm, () => {
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
    });
  }
  // General: a table from input element to output element.
  const outShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const outStrides = stridesOf(outShape).map((s, i) => (axes.includes(i) ? 0 : s));
  const table = offsetTable(x.shape, outStrides, 0);
  const acc = new Float64Array(o.length);
  return loop(`through a table from each of ${nIn} input elements to its output element`, () => {
    acc.fill(init);
    for (let f = 0; f < nIn; f++) {
      const t = table[f]!;
      const v = src[f]!;
      if (kind === "sum") acc[t] = int ? (acc[t]! + v) | 0 : acc[t]! + v;
      else if (v > acc[t]! || v !== v) acc[t] = v;
    }
    for (let i = 0; i < acc.length; i++) o[i] = acc[i]!;
  });
}
