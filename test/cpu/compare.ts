/**
 * Runs one IR graph on the reference and CPU backends (both through the
 * kernel graph) and compares: i32 outputs exactly, f32 outputs within a
 * float32 tolerance relative to the output's scale.
 */
import { expect } from "vitest";
import type { TensorFeeds, TensorValue } from "../../runtime/backends/backend.js";
import { compileCpu, type CpuOptions } from "../../runtime/backends/cpu/index.js";
import { compileReference } from "../../runtime/backends/reference/executor.js";
import type { Graph, Node } from "../../runtime/ir/node.js";
import { sizeOf } from "../../runtime/ir/shape.js";
import { planKernelGraph } from "../../runtime/kernel/plan.js";
import type { KernelGraph } from "../../runtime/kernel/graph.js";

/** Feeds of the graph inputs `inputs`, by name: pseudo-random numbers in [−2, 2), input i's from seed `seed + step · i`. */
export function numberFeeds(inputs: Readonly<Record<string, Node>>, seed: number, step: number): TensorFeeds {
  return Object.fromEntries(Object.entries(inputs).map(([name, n], i) => [name, { shape: [...n.shape], data: numbers(sizeOf(n.shape), seed + step * i) }]));
}

/** Each output's bits, copied (outputs are views of memory the next run reuses): equal bits for runs that must agree exactly. */
export function outputBits(out: Record<string, TensorValue>): Record<string, Int32Array> {
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, new Int32Array(Float32Array.from(v.data).buffer)]));
}

/** The worst error of `got` against `want`, relative to 1 + the largest |want|; NaN and ±∞ must match exactly. */
export function relativeError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let scale = 1;
  for (let i = 0; i < want.length; i++) if (Number.isFinite(want[i]!)) scale = Math.max(scale, Math.abs(want[i]!));
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const [g, w] = [got[i]!, want[i]!];
    if (!Number.isFinite(w) || !Number.isFinite(g)) {
      if (!Object.is(g, w) && !(Number.isNaN(g) && Number.isNaN(w))) return Infinity;
    } else worst = Math.max(worst, Math.abs(g - w) / scale);
  }
  return worst;
}

export interface Compared {
  readonly kg: KernelGraph;
  readonly ref: Record<string, TensorValue>;
  readonly cpu: Record<string, TensorValue>;
}

/** Runs `graph` on both backends and expects agreement (`tol` relative, f32 outputs); `options` choose the CPU's kernels. */
export function expectAgree(graph: Graph, feeds: TensorFeeds = {}, tol = 1e-6, params: TensorFeeds = {}, options: CpuOptions = {}): Compared {
  const kg = planKernelGraph(graph);
  const ref = compileReference(kg).run(feeds, params);
  const cpu = compileCpu(kg, options).run(feeds, params);
  expectOutputsAgree("cpu", graph.outputs.map((o) => o.name), cpu, ref, tol);
  return { kg, ref, cpu };
}

/** Deterministic numbers in [lo, hi). */
export function numbers(n: number, seed: number, lo = -2, hi = 2): number[] {
  let s = seed >>> 0 || 1;
  return Array.from({ length: n }, () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return lo + ((s >>> 0) / 2 ** 32) * (hi - lo);
  });
}

/** Deterministic integers in [lo, hi). */
export function integers(n: number, seed: number, lo: number, hi: number): number[] {
  return numbers(n, seed, lo, hi).map(Math.floor);
}

/**
 * Expects a backend's outputs `names` to be the reference's: the same shapes,
 * dtypes and lengths, i32 exactly and f32 within `tol` relative to the
 * output's scale. `backend` names the backend in messages.
 */
export function expectOutputsAgree(backend: string, names: readonly string[], got: Record<string, TensorValue>, ref: Record<string, TensorValue>, tol: number): void {
  for (const name of names) {
    const [r, g] = [ref[name]!, got[name]!];
    expect(g.shape, name).toEqual(r.shape);
    expect(g.dtype, name).toBe(r.dtype);
    expect(g.data.length, name).toBe(r.data.length);
    // i32 has no −0: the reference may hold one (cast of −0.5), a float32 backend cannot.
    if (r.dtype === "i32") expect([...g.data], name).toEqual([...r.data].map((v) => v + 0));
    else {
      const err = relativeError(g.data, r.data);
      if (!(err <= tol)) expect.fail(`${name}: relative error ${err} > ${tol}\n${backend} ${[...g.data].slice(0, 12)}\nref ${[...r.data].slice(0, 12)}`);
    }
  }
}
