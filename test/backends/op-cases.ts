/**
 * The fixed op-by-op cases every backend is checked on against the reference
 * backend (test/cpu/ops.test.ts, test/webgpu/ops.test.ts). Each case builds a
 * fresh graph with its feeds; each backend's file runs it through its own
 * runner, compares every output (i32 exactly, f32 within `tol`) and records
 * the ops it exercised. Cases that only one backend has stay in its file.
 */
import { IRBuilder } from "../../runtime/ir/builder.js";
import type { Graph, Node } from "../../runtime/ir/node.js";
import type { BinaryOp, UnaryOp } from "../../runtime/ir/ops.js";
import { sizeOf } from "../../runtime/ir/shape.js";
import { integers, numbers } from "../cpu/compare.js";

/** Feeds (inputs or params) by name. */
export type FeedRecord = Record<string, { shape: number[]; data: ArrayLike<number> }>;

/** One feed: a shape and its data, row-major. */
export const feed = (shape: number[], data: ArrayLike<number>): { shape: number[]; data: ArrayLike<number> } => ({ shape, data });

/** What a case runs: a graph, its inputs and params, and the f32 tolerance (relative; the runner's default, 1e-6, where absent). */
export interface OpCheck {
  readonly graph: Graph;
  readonly feeds?: FeedRecord;
  readonly params?: FeedRecord;
  readonly tol?: number;
}

/** A named case; `build` makes a new graph each call. */
export interface OpCase {
  readonly name: string;
  build(): OpCheck;
}

/**
 * The random ops' case: uniforms (`u`, and `big`, past one workgroup) and
 * normals (`n`) drawn from a fed seed and step, run once per entry of `feeds`.
 * Uniforms must match the reference exactly; how near normals must be is each
 * backend's own.
 */
export const RANDOM_CASE = {
  name: "random",
  uniforms: ["u", "big"],
  normals: ["n"],
  feeds: (
    [
      [0, 0],
      [-1, 3],
      [123456, -7],
    ] as const
  ).map(([s, t]): FeedRecord => ({ seed: feed([], [s]), step: feed([], [t]) })),
  build(): Graph {
    const b = new IRBuilder();
    const seed = b.input("seed", [], "i32");
    const step = b.input("step", [], "i32");
    return b.graph({
      u: b.uniform([3, 7], { seed, step, stream: 5 }),
      n: b.normal([2, 9], { seed, step, stream: 6 }),
      big: b.uniform([1001], { seed, step, stream: 7 }),
    });
  },
} as const;

/** The shared cases, in the order the backends run them. */
export const OP_CASES: readonly OpCase[] = [
  {
    name: "leaves: input, param, const, literal, iota",
    build() {
      const b = new IRBuilder();
      const x = b.input("x", [2, 3]);
      const w = b.param("w", [3], "i32");
      const graph = b.graph({
        x,
        w,
        c: b.constant(-1.5, [2, 2]),
        ci: b.constant(7, [3], "i32"),
        lit: b.literal([1, 2.5, -3, 0.1], [2, 2]),
        liti: b.literal([1, -2, 3], [3], "i32"),
        iota: b.iota([2, 3, 4], 1),
        iotaf: b.iota([5], 0, "f32"),
        sum: b.add(x, 1),
      });
      return { graph, feeds: { x: feed([2, 3], numbers(6, 1)) }, tol: 1e-6, params: { w: feed([3], [4, -5, 6]) } };
    },
  },
  {
    name: "unary ops on f32, and those defined on i32",
    build() {
      const floats: UnaryOp[] = ["neg", "exp", "tanh", "sigmoid", "erf", "abs", "sign", "relu", "sin", "cos", "detach"];
      const positive: UnaryOp[] = ["log", "sqrt", "recip"];
      const ints: UnaryOp[] = ["neg", "abs", "sign", "relu", "detach"];
      const b = new IRBuilder();
      const x = b.input("x", [4, 5]);
      const p = b.input("p", [4, 5]);
      const i = b.input("i", [7], "i32");
      const outs: Record<string, Node> = {};
      for (const op of floats) outs[op] = b.unary(op, x);
      for (const op of positive) outs[op] = b.unary(op, p);
      for (const op of ints) outs[`i_${op}`] = b.unary(op, i);
      const xs = numbers(20, 2, -4, 4);
      xs[0] = 0;
      xs[1] = -0;
      return {
        graph: b.graph(outs),
        feeds: {
          x: feed([4, 5], xs),
          p: feed([4, 5], numbers(20, 3, 0.01, 10)),
          i: feed([7], [0, 1, -1, 2147483647, -2147483648, 12345, -99]),
        },
      };
    },
  },
  {
    name: "binary ops on f32 and i32 (wrapping, truncating division, x / 0 = x)",
    build() {
      const ops: BinaryOp[] = ["add", "sub", "mul", "div", "maximum", "minimum", "cmplt", "cmpeq"];
      const b = new IRBuilder();
      const x = b.input("x", [3, 4]);
      const y = b.input("y", [3, 4]);
      const p = b.input("p", [3, 4]);
      const i = b.input("i", [10], "i32");
      const j = b.input("j", [10], "i32");
      const nb = b.input("nb", [6]);
      const ne = b.input("ne", [6]);
      const outs: Record<string, Node> = { pow: b.pow(p, y), powNegative: b.pow(nb, ne) };
      for (const op of ops) {
        outs[op] = b.binary(op, x, y);
        outs[`i_${op}`] = b.binary(op, i, j);
      }
      const xs = numbers(12, 4);
      const ys = numbers(12, 5);
      ys[0] = xs[0]!; // a tie for cmpeq, maximum, minimum
      return {
        graph: b.graph(outs),
        feeds: {
          x: feed([3, 4], xs),
          y: feed([3, 4], ys),
          p: feed([3, 4], numbers(12, 6, 0.1, 3)),
          nb: feed([6], [-2, -2, -1.5, 0, 0, -3]),
          ne: feed([6], [3, 2, -2, 0, 2, 0.5]),
          i: feed([10], [7, -7, 7, -7, 0, 2147483647, -2147483648, -2147483648, 5, 100000]),
          j: feed([10], [2, 2, -2, 0, 0, 1, -1, 2, 5, 100000]),
        },
      };
    },
  },
  {
    name: "where, on f32 and i32 branches",
    build() {
      const b = new IRBuilder();
      const c = b.input("c", [6], "i32");
      const x = b.input("x", [6]);
      const i = b.input("i", [6], "i32");
      return {
        graph: b.graph({ f: b.where(c, x, b.neg(x)), i: b.where(c, i, 3) }),
        feeds: {
          c: feed([6], [0, 1, 2, -1, 0, 0]),
          x: feed([6], numbers(6, 7)),
          i: feed([6], [1, 2, 3, 4, 5, 6]),
        },
      };
    },
  },
  {
    name: "sum and max over every pattern of axes (last, first, middle, scattered, all, empty), on f32 and i32",
    build() {
      const shapes: number[][] = [[5], [3, 4], [2, 3, 4], [2, 1, 3, 5], [3, 0, 2]];
      const b = new IRBuilder();
      const outs: Record<string, Node> = {};
      const feeds: FeedRecord = {};
      shapes.forEach((shape, s) => {
        const x = b.input(`x${s}`, shape);
        const i = b.input(`i${s}`, shape, "i32");
        feeds[`x${s}`] = feed(shape, numbers(sizeOf(shape), 10 + s));
        feeds[`i${s}`] = feed(shape, integers(sizeOf(shape), 20 + s, -(2 ** 30), 2 ** 30));
        const rank = shape.length;
        for (let mask = 1; mask < 1 << rank; mask++) {
          const axes = shape.map((_, a) => a).filter((a) => (mask >> a) & 1);
          for (const kind of ["sum", "max"] as const) {
            outs[`${kind}_${s}_${mask}`] = b[kind](x, axes, true);
            outs[`i${kind}_${s}_${mask}`] = b[kind](i, axes, true);
          }
        }
      });
      return { graph: b.graph(outs), feeds, tol: 1e-6 };
    },
  },
  {
    name: "max propagates NaN and sees −∞",
    build() {
      const b = new IRBuilder();
      const x = b.input("x", [2, 3]);
      return {
        graph: b.graph({ last: b.max(x, 1), first: b.max(x, 0) }),
        feeds: { x: feed([2, 3], [1, NaN, 3, -Infinity, -Infinity, -Infinity]) },
      };
    },
  },
  {
    name: "matmul: small, odd, blocked (k and n beyond one block), batched with broadcasting, k = 0",
    build() {
      const cases: [number[], number[]][] = [
        [[1, 1], [1, 1]],
        [[3, 5], [5, 2]],
        [[4, 4], [4, 4]],
        [[7, 9], [9, 13]],
        [[9, 300], [300, 261]],
        [[2, 3, 4, 5], [5, 6]],
        [[3, 1, 4, 5], [2, 5, 3]],
        [[1, 6, 7], [4, 7, 2]],
        [[3, 0], [0, 4]],
        [[0, 3], [3, 2]],
      ];
      const b = new IRBuilder();
      const outs: Record<string, Node> = {};
      const feeds: FeedRecord = {};
      cases.forEach(([as, bs], c) => {
        outs[`m${c}`] = b.matmul(b.input(`a${c}`, as), b.input(`b${c}`, bs));
        feeds[`a${c}`] = feed(as, numbers(sizeOf(as), 30 + c));
        feeds[`b${c}`] = feed(bs, numbers(sizeOf(bs), 40 + c));
      });
      return { graph: b.graph(outs), feeds, tol: 1e-6 };
    },
  },
  {
    name: "movement: reshape, permute, expand, slice, pad, concat",
    build() {
      const b = new IRBuilder();
      const x = b.input("x", [2, 3, 4]);
      const i = b.input("i", [2, 3], "i32");
      const s = b.input("s", []);
      const r = b.input("r", [3, 1]);
      return {
        graph: b.graph({
          reshape: b.reshape(x, [6, 4]),
          permute: b.permute(x, [2, 0, 1]),
          permuteLast: b.permute(x, [0, 2, 1]),
          expand: b.broadcastTo(r, [2, 3, 5]),
          expandScalar: b.broadcastTo(s, [3, 2]),
          slice: b.slice(x, [1, 0, 1], [2, 3, 4], [1, 2, 2]),
          sliceI: b.slice(i, [0, 1], [2, 3]),
          pad: b.pad(x, [1, 0, 2], [0, 1, 1], { interior: [0, 1, 2], value: -1.5 }),
          padI: b.pad(i, [1, 1], [0, 2], { value: 9 }),
          concat0: b.concat([x, b.neg(x)], 0),
          concat2: b.concat([x, b.slice(x, [0, 0, 0], [2, 3, 1]), x], 2),
          concatI: b.concat([i, i, i], 1),
        }),
        feeds: {
          x: feed([2, 3, 4], numbers(24, 50)),
          i: feed([2, 3], [1, 2, 3, 4, 5, 6]),
          s: feed([], [2.5]),
          r: feed([3, 1], [1, 2, 3]),
        },
      };
    },
  },
  {
    name: "gather, scatter_add (repeats accumulate) and argsort (stable, both directions, NaN last)",
    build() {
      const b = new IRBuilder();
      const x = b.input("x", [3, 4]);
      const xi = b.input("xi", [3, 4], "i32");
      const idx = b.input("idx", [3, 2], "i32");
      const idx0 = b.input("idx0", [2, 4], "i32");
      const u = b.input("u", [3, 2]);
      const ties = b.input("ties", [2, 5]);
      return {
        graph: b.graph({
          gather: b.gather(x, idx, 1),
          gather0: b.gather(x, idx0, 0),
          gatherI: b.gather(xi, idx, 1),
          scatter: b.scatterAdd(x, idx, u, 1),
          scatterI: b.scatterAdd(xi, idx, b.cast(u, "i32"), 1),
          scatter0: b.scatterAdd(x, idx0, b.slice(x, [0, 0], [2, 4]), 0),
          argsort: b.argsort(ties, 1),
          argsortDesc: b.argsort(ties, 1, true),
          argsort0: b.argsort(x, 0, true),
          argsortI: b.argsort(xi, 1),
        }),
        feeds: {
          x: feed([3, 4], numbers(12, 60)),
          xi: feed([3, 4], [5, 1, 5, -3, 0, 0, 0, 0, 9, -9, 8, 7]),
          idx: feed([3, 2], [0, 3, 1, 1, 2, 2]),
          idx0: feed([2, 4], [0, 1, 2, 2, 2, 0, 1, 0]),
          u: feed([3, 2], [1.5, -2.25, 3, 4, -5, 6.5]),
          ties: feed([2, 5], [1, 2, 1, NaN, 2, Infinity, NaN, -Infinity, Infinity, 0]),
        },
      };
    },
  },
  {
    name: "cast: f32 → i32 truncates and saturates (NaN → 0); i32 → f32",
    build() {
      const b = new IRBuilder();
      const x = b.input("x", [8]);
      const i = b.input("i", [3], "i32");
      return {
        graph: b.graph({ toInt: b.cast(x, "i32"), toFloat: b.cast(i, "f32") }),
        feeds: {
          x: feed([8], [1.9, -1.9, 0.5, -0.5, 3e9, -3e9, NaN, 42]),
          i: feed([3], [1, -2, 16777217]),
        },
      };
    },
  },
];
