/**
 * The CPU backend's fast paths for movement and reductions agree with the
 * reference backend: strided copies with merged axes and long contiguous runs
 * (`movement.ts`), simplified permutes and the panelled transpose, reshapes
 * turned into views (`alias.ts`), reductions over several blocks, and erf.
 * Each case runs on the SIMD arena and on the JavaScript fallback; edge
 * shapes (size-1 axes, empty tensors, strided and offset slices, interior
 * padding) included.
 */
import { describe, expect, it } from "vitest";
import { aliasedReshapes } from "../../runtime/backends/cpu/alias.js";
import { erf32 } from "../../runtime/backends/cpu/elementwise.js";
import { simplifyPermute } from "../../runtime/backends/cpu/movement.js";
import { erf } from "../../runtime/backends/reference/elementwise.js";
import { IRBuilder } from "../../runtime/ir/builder.js";
import type { Graph } from "../../runtime/ir/node.js";
import { sizeOf } from "../../runtime/ir/shape.js";
import { planKernelGraph } from "../../runtime/kernel/plan.js";
import { expectAgree, numbers } from "./compare.js";

type Feeds = Record<string, { shape: number[]; data: ArrayLike<number> }>;
/** Random inputs for every input of a builder's graph. */
function feedsOf(graph: Graph, seed = 1): Feeds {
  const kg = planKernelGraph(graph, { fuse: false });
  return Object.fromEntries(kg.inputs.map((i, n) => [i.name, { shape: [...i.shape], data: numbers(sizeOf(i.shape), seed + n) }]));
}
/** Expects both CPU variants to agree with the reference on `graph`. */
function check(graph: Graph): void {
  const feeds = feedsOf(graph);
  expectAgree(graph, feeds, 1e-6);
  expectAgree(graph, feeds, 1e-6, {}, { simd: false });
}

describe("cpu movement fast paths", () => {
  it("slice: offset, strided, size-1 axes, long contiguous runs, empty", () => {
    const b = new IRBuilder();
    const x = b.input("x", [3, 1, 5, 64]);
    const outs = {
      rows: b.slice(x, [1, 0, 1, 0], [3, 1, 4, 64]), // runs of 64 over merged axes
      cols: b.slice(x, [0, 0, 0, 3], [3, 1, 5, 60]), // runs of 57
      strided: b.slice(x, [0, 0, 1, 1], [3, 1, 5, 64], [2, 1, 2, 3]),
      one: b.slice(x, [2, 0, 4, 63], [3, 1, 5, 64]),
      empty: b.slice(x, [0, 0, 2, 0], [3, 1, 2, 64]),
    };
    check(b.graph(outs));
  });

  it("pad: lo/hi, interior, zero padding on some axes, runs long and short, empty input", () => {
    const b = new IRBuilder();
    const x = b.input("x", [2, 3, 50]);
    const e = b.input("e", [2, 0, 4]);
    const s = b.input("s", [1, 1]);
    const outs = {
      plain: b.pad(x, [0, 1, 2], [1, 0, 3]),
      interior: b.pad(x, [0, 0, 1], [0, 2, 1], { interior: [1, 0, 2], value: -1.5 }),
      rows: b.pad(x, [1, 0, 0], [0, 0, 0]),
      empty: b.pad(e, [0, 1, 1], [1, 1, 0], { value: 2 }),
      scalar: b.pad(s, [1, 0], [0, 2], { value: 3 }),
    };
    check(b.graph(outs));
  });

  it("concat: along each axis, size-1 and empty parts", () => {
    const b = new IRBuilder();
    const x = b.input("x", [2, 3, 60]);
    const y = b.input("y", [2, 1, 60]);
    const z = b.input("z", [2, 0, 60]);
    const w = b.input("w", [2, 3, 4]);
    const outs = {
      middle: b.concat([x, y, z, x], 1),
      first: b.concat([x, x], 0),
      last: b.concat([x, w, w], 2),
    };
    check(b.graph(outs));
  });

  it("permute: identity after dropping size-1 axes, merged axes, batched transposes of odd sizes, general", () => {
    const b = new IRBuilder();
    const x = b.input("x", [2, 3, 1, 4, 5, 6]);
    const t = b.input("t", [3, 7, 9]);
    const u = b.input("u", [6, 130]);
    const outs = {
      identity: b.permute(x, [0, 2, 1, 3, 4, 5]),
      merged: b.permute(x, [0, 4, 5, 2, 1, 3]), // [B, (h w), (f k)] → a batched transpose
      transpose: b.permute(t, [0, 2, 1]), // 7 rows: a panel of 4 and 3 left over
      wide: b.permute(u, [1, 0]), // more than one block of columns
      outer: b.permute(t, [1, 0, 2]), // contiguous runs of 9
      general: b.permute(x, [5, 3, 0, 4, 2, 1]),
    };
    check(b.graph(outs));
  });

  it("simplifyPermute merges neighbouring axes and drops size-1 axes", () => {
    expect(simplifyPermute([2, 3, 4, 5, 6, 7], [0, 3, 4, 5, 1, 2])).toEqual({ shape: [2, 12, 210], perm: [0, 2, 1] });
    expect(simplifyPermute([2, 1, 3], [1, 0, 2])).toEqual({ shape: [6], perm: [0] });
    expect(simplifyPermute([1, 1], [1, 0])).toEqual({ shape: [], perm: [] });
  });

  it("expand: along inner, outer and middle axes", () => {
    const b = new IRBuilder();
    const row = b.input("row", [1, 70]);
    const col = b.input("col", [5, 1]);
    const mid = b.input("mid", [2, 1, 3]);
    const outs = { rows: b.broadcastTo(row, [4, 70]), cols: b.broadcastTo(col, [5, 70]), middle: b.broadcastTo(mid, [2, 4, 3]) };
    check(b.graph(outs));
  });

  it("reductions over several blocks: sum and max, the last block innermost", () => {
    const b = new IRBuilder();
    const x = b.input("x", [4, 3, 5, 6]);
    const outs = {
      bias: b.sum(x, [0, 2, 3]),
      alternate: b.sum(x, [1, 3]),
      max: b.max(x, [0, 2, 3]),
      keep: b.max(x, [0, 3]),
    };
    check(b.graph(outs));
  });

  it("erf to float32 accuracy, with its special values", () => {
    for (let i = 0; i <= 4000; i++) {
      const x = -8 + i / 250;
      expect(Math.abs(erf32(x) - erf(x))).toBeLessThan(1e-7);
    }
    for (const x of [1e-30, -1e-8, 0.25]) expect(Math.abs(erf32(x) / erf(x) - 1)).toBeLessThan(1e-8);
    expect(erf32(Infinity)).toBe(1);
    expect(erf32(-Infinity)).toBe(-1);
    expect(erf32(NaN)).toBeNaN();
    expect(Object.is(erf32(-0), -0)).toBe(true);
  });
});

describe("cpu reshapes as views", () => {
  /** A graph whose reshape output lives long after its operand's buffer was handed on, chained reshapes, a reshaped param and a reshaped output. */
  function graph(): Graph {
    const b = new IRBuilder();
    const x = b.input("x", [4, 6]);
    const w = b.input("w", [2, 12]);
    const y = b.exp(x);
    const r = b.reshape(y, [2, 12]); // y's buffer is free after this
    const z = b.mul(b.neg(w), w); // may take y's buffer
    const r2 = b.reshape(b.add(r, z), [3, 8]);
    const r3 = b.reshape(r2, [24]);
    const late = b.add(b.reshape(r, [24]), r3); // r read again at the end
    return b.graph({ late, shaped: b.reshape(w, [24]), back: b.reshape(late, [4, 6]), z });
  }

  it("agree with the reference", () => check(graph()));

  it("skip the copies the plan allows", () => {
    const kg = planKernelGraph(graph(), { fuse: false });
    const reshapes = kg.kernels.filter((k) => k.ops[0]!.op === "reshape").length;
    const { skipped, graph: aliased } = aliasedReshapes(kg);
    expect(skipped.size).toBeGreaterThan(0);
    expect(skipped.size).toBeLessThanOrEqual(reshapes);
    // Outputs, inputs and params keep their dedicated buffers.
    for (const v of aliased.values) if (v.role !== "temp" && v.role !== "output") expect(v.buffer).toBe(kg.values[v.id]!.buffer);
    for (const o of kg.outputs) expect(aliased.values[o.value]!.buffer).toBe(kg.values[o.value]!.buffer);
  });

  it("move a group to an added buffer when neither of its own is free for its lifetime", () => {
    const b = new IRBuilder();
    const x = b.input("x", [4, 6]);
    const y = b.neg(b.exp(x)); // y's buffer was the exp's: occupied up to y's definition
    const r = b.reshape(y, [2, 12]); // y's buffer is handed on right after
    const t = b.sqrt(b.reshape(x, [2, 12]));
    const graph = b.graph({ out: b.add(r, b.mul(t, t)) });
    const kg = planKernelGraph(graph, { fuse: false });
    const aliased = aliasedReshapes(kg).graph;
    expect(aliased.buffers.length).toBe(kg.buffers.length + 1);
    check(graph);
  });
});
