/**
 * `fitBatchGraph` (compiler/plan/batch-fit.ts) on small lowerings written
 * for the test: the polynomials it finds, the numbers it keeps as they are,
 * and its refusals — a number that is not an integer polynomial of B, a
 * graph whose structure changes with B — each naming the graph, the node,
 * the attribute and the values seen. Also batch norm, whose unbiased
 * variance is the one place lowering divides by n − 1, at B = 1.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CHECK_SIZE, FIT_SIZES, fitBatchGraph } from "../../compiler/plan/batch-fit.js";
import { LowerError } from "../../compiler/lower/context.js";
import { lowerCheckedModel } from "../../compiler/lower/model.js";
import { IRBuilder } from "../../runtime/ir/builder.js";
import type { Graph, Node } from "../../runtime/ir/node.js";
import { instantiateBatchGraph } from "../../runtime/ir/batch-graph.js";
import { run } from "../../runtime/backends/reference/evaluate.js";
import { feedsFor, modelOf } from "../lower/harness.js";

/** A lowering of one input x [B, 4] through `body`, with its output `y`. */
function lowering(body: (b: IRBuilder, x: Node, batch: number) => Node): (batch: number) => Graph {
  return (batch) => {
    const b = new IRBuilder();
    const x = b.input("x", [batch, 4]);
    return b.graph({ y: body(b, x, batch) });
  };
}

/** The LowerError message `fitBatchGraph` throws for `lowerAt`. */
function refusal(lowerAt: (batch: number) => Graph): string {
  try {
    fitBatchGraph(lowerAt, "graph 'tiny'");
  } catch (e) {
    expect(e).toBeInstanceOf(LowerError);
    return (e as Error).message;
  }
  return expect.fail("fitBatchGraph accepted the graph");
}

const [b1, b2, b3] = FIT_SIZES;

describe("fitBatchGraph finds", () => {
  it("each dim, count and in-batch square as a polynomial, and keeps other numbers as they are", () => {
    const fitted = fitBatchGraph(
      lowering((b, x, batch) => {
        const pairs = b.reshape(x, [2 * batch, 2]);
        const scores = b.matmul(b.reshape(x, [batch, 4]), b.transpose(x));
        const eye = b.cast(b.cmpeq(b.iota([batch, batch], 0), b.iota([batch, batch], 1)), "f32");
        const masked = b.where(b.cast(eye, "i32"), -Infinity, scores);
        const total = b.add(b.sum(b.max(masked, 1)), b.mean(pairs));
        return b.add(b.mul(total, 0.5), -0);
      }),
      "graph 'tiny'",
    );
    const text = JSON.stringify(fitted.nodes.map((n) => ({ op: n.op, attrs: n.attrs })), (_k, v: unknown) => (Object.is(v, -0) ? "-0" : v === -Infinity ? "-inf" : v));
    expect(text).toContain('{"op":"input","attrs":{"name":"x","shape":[{"B":[0,1]},4],"dtype":"f32"}}');
    expect(text).toContain('{"op":"reshape","attrs":{"shape":[{"B":[0,2]},2]}}');
    expect(text).toContain('{"op":"iota","attrs":{"axis":0,"shape":[{"B":[0,1]},{"B":[0,1]}],"dtype":"i32"}}');
    // mean over [2B, 2] divides by 4·B; the 0.5, −∞ and −0 stay plain numbers.
    expect(text).toContain('{"op":"const","attrs":{"value":{"B":[0,4]},"shape":[],"dtype":"f32"}}');
    expect(text).toContain('{"op":"const","attrs":{"value":0.5,"shape":[],"dtype":"f32"}}');
    expect(text).toContain('{"op":"const","attrs":{"value":"-inf","shape":[{"B":[0,1]},{"B":[0,1]}],"dtype":"f32"}}');
    expect(text).toContain('{"op":"const","attrs":{"value":"-0","shape":[],"dtype":"f32"}}');
    expect(fitted.outputs).toEqual([{ name: "y", node: fitted.nodes.length - 1 }]);
  });

  it("the integer polynomial of degree ≤ 2 behind any number, exactly", () => {
    fc.assert(
      fc.property(fc.integer({ min: -1000, max: 1000 }), fc.integer({ min: -50, max: 50 }), fc.integer({ min: -3, max: 3 }), (c0, c1, c2) => {
        const fitted = fitBatchGraph(
          lowering((b, x, batch) => b.add(b.sum(x), b.constant(c0 + c1 * batch + c2 * batch * batch))),
          "graph 'tiny'",
        );
        const value = fitted.nodes.find((n) => n.op === "const")!.attrs["value"];
        expect(value).toEqual(c2 !== 0 ? { B: [c0, c1, c2] } : c1 !== 0 ? { B: [c0, c1] } : c0);
      }),
      { numRuns: 100 },
    );
  });
});

describe("fitBatchGraph refuses", () => {
  it("a number that changes with B but is not an integer, such as 1/B", () => {
    const message = refusal(lowering((b, x, batch) => b.mul(x, 1 / batch)));
    expect(message).toBe(
      `graph 'tiny': node 1 (const), attribute value: it changes with the batch size but is not an integer: ${[...FIT_SIZES, CHECK_SIZE].map((n) => `${1 / n} at B = ${n}`).join(", ")}`,
    );
  });

  it("an integer that is no polynomial of B, such as round(0.75·B)", () => {
    const message = refusal(lowering((b, x, batch) => b.sliceAxis(x, 0, 0, Math.round(0.75 * batch))));
    expect(message).toBe(
      `graph 'tiny': node 1 (slice), attribute ends[0]: it is not a polynomial in B with integer coefficients: ${[...FIT_SIZES, CHECK_SIZE].map((n) => `${Math.round(0.75 * n)} at B = ${n}`).join(", ")}`,
    );
  });

  it("a polynomial of degree 3, which the size it is checked at exposes", () => {
    const message = refusal(lowering((b, x, batch) => b.add(b.sum(x), b.constant(batch ** 3))));
    // Through three points, B³ is B³ − (B − b1)(B − b2)(B − b3).
    const fit = `${b1 + b2 + b3}·B² − ${b1 * b2 + b2 * b3 + b1 * b3}·B + ${b1 * b2 * b3}`;
    expect(message).toBe(
      `graph 'tiny': node 3 (const), attribute value: it is not a polynomial in B of degree ≤ 2 (the fit ${fit} misses B = ${CHECK_SIZE}): ${[...FIT_SIZES, CHECK_SIZE].map((n) => `${n ** 3} at B = ${n}`).join(", ")}`,
    );
  });

  it("a graph with more nodes at some sizes", () => {
    const message = refusal(lowering((b, x, batch) => (batch > b2 ? b.relu(x) : x)));
    expect(message).toBe(`graph 'tiny': the graph changes with the batch size: 1 node at B = ${b1}, 2 at B = ${b3}`);
    const inserted = refusal(lowering((b, x, batch) => b.exp(batch > b2 ? b.relu(x) : x)));
    expect(inserted).toBe(`graph 'tiny': the graph changes with the batch size: 2 nodes at B = ${b1}, 3 at B = ${b3}; they first differ at node 1: exp(0) at B = ${b1}, relu(0) at B = ${b3}`);
  });

  it("a graph with another op at some sizes", () => {
    const message = refusal(lowering((b, x, batch) => (batch > b2 ? b.exp(x) : b.log(x))));
    expect(message).toBe(`graph 'tiny': the graph changes with the batch size: node 1 (log) is exp at B = ${b3}`);
  });

  it("a graph whose edges change", () => {
    const message = refusal(lowering((b, x, batch) => {
      const [p, q] = [b.exp(x), b.neg(x)];
      return batch > b2 ? b.sub(p, q) : b.sub(q, p);
    }));
    expect(message).toBe(`graph 'tiny': the graph changes with the batch size: the operands of node 3 (sub) are nodes [2,1] at B = ${b1}, [1,2] at B = ${b3}`);
  });

  it("a non-numeric attribute or an output name that changes", () => {
    expect(refusal(lowering((b, x, batch) => b.argsort(x, 1, batch > b2)))).toBe(
      `graph 'tiny': node 1 (argsort), attribute descending: changes with the batch size: false at B = ${b1}, false at B = ${b2}, true at B = ${b3}, true at B = ${CHECK_SIZE}`,
    );
    const renamed = (batch: number): Graph => {
      const b = new IRBuilder();
      return b.graph({ [batch > b2 ? "late" : "early"]: b.input("x", [batch]) });
    };
    expect(refusal(renamed)).toBe(`graph 'tiny': the graph changes with the batch size: its outputs are early=0 at B = ${b1}, late=0 at B = ${b3}`);
  });

  it("a rank that changes with B", () => {
    expect(refusal(lowering((b, x, batch) => (batch > b2 ? b.reshape(x, [batch, 2, 2]) : b.reshape(x, [batch * 2, 2]))))).toMatch(
      /^graph 'tiny': node 1 \(reshape\), attribute shape: its length changes with the batch size: \[202,2\] at B = 101/,
    );
  });
});

describe("batch norm in training mode", () => {
  const src = `model M {
  input x: f32[3]
  encoder f = batch_norm(momentum: 0.2)
  loss l = mse(f(x), x)
}
`;
  const lowerAt = (batch: number): Graph => lowerCheckedModel(modelOf(src), { batch, mode: "train" }).graph;

  it("fits one graph, which at B = 1 keeps a zero unbiased variance as direct lowering does", () => {
    const fitted = fitBatchGraph(lowerAt, "model 'M'");
    const direct = lowerCheckedModel(modelOf(src), { batch: 1, mode: "train" });
    const feeds = feedsFor(direct);
    const ours = run(instantiateBatchGraph(fitted, 1), feeds);
    const theirs = run(direct.graph, feeds);
    const old = feeds["f.running_var"]!.data;
    // One example: each feature's variance is 0, so r ← 0.8·r.
    expect([...ours["state/f.running_var"]!.data]).toEqual(old.map((v) => 0.8 * v));
    for (const name of Object.keys(theirs)) expect([...ours[name]!.data], name).toEqual([...theirs[name]!.data]);
  });

  it("takes n − 1 from the batch at B = 2 and more", () => {
    const fitted = fitBatchGraph(lowerAt, "model 'M'");
    for (const batch of [2, 5]) {
      const direct = lowerCheckedModel(modelOf(src), { batch, mode: "train" });
      const feeds = feedsFor(direct);
      const x = feeds["x"]!.data;
      const out = run(instantiateBatchGraph(fitted, batch), feeds);
      for (let k = 0; k < 3; k++) {
        const column = Array.from({ length: batch }, (_, r) => x[r * 3 + k]!);
        const mean = column.reduce((s, v) => s + v, 0) / batch;
        const unbiased = column.reduce((s, v) => s + (v - mean) ** 2, 0) / (batch - 1);
        const want = 0.8 * feeds["f.running_var"]!.data[k]! + 0.2 * unbiased;
        expect(Math.abs(out["state/f.running_var"]!.data[k]! - want)).toBeLessThan(1e-12);
      }
    }
  });
});
