import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { grad } from "../../compiler/autodiff/grad.js";
import { IRBuilder } from "../../runtime/ir/builder.js";
import { makeGraph, makeNode, type Node } from "../../runtime/ir/node.js";
import type { Op } from "../../runtime/ir/ops.js";
import { assertValid, verify, verifyGraph } from "../../runtime/ir/verify.js";
import { buildGraph, graphSpec } from "../autodiff/random-graph.js";

/** Two f32[2, 3] leaves made by hand, ids 0 and 1. */
function leaves(): [Node, Node] {
  return [
    makeNode(0, "input", [], { name: "x", shape: [2, 3], dtype: "f32" }, [2, 3], "f32"),
    makeNode(1, "param", [], { name: "w", shape: [2, 3], dtype: "f32" }, [2, 3], "f32"),
  ];
}

/** The single problem `verify` reports for `node`. */
function problemOf(node: Node): string {
  const problems = verify([node]);
  expect(problems).toHaveLength(1);
  return problems[0]!;
}

describe("the verifier accepts", () => {
  it("whatever the builder and grad make, on random graphs", () => {
    fc.assert(
      fc.property(graphSpec, (spec) => {
        const { b, loss, leaves: xs } = buildGraph(spec);
        grad(b, loss, xs);
        expect(verify(b.nodes)).toEqual([]);
      }),
      { numRuns: 50, seed: 3 },
    );
  });

  it("a graph with random draws on distinct streams", () => {
    const b = new IRBuilder();
    const seed = b.input("seed", [], "i32");
    const step = b.input("step", [], "i32");
    const g = b.graph({
      u: b.uniform([2], { seed, step, stream: b.newStream() }),
      n: b.normal([2], { seed, step, stream: b.newStream() }),
    });
    expect(verifyGraph(g)).toEqual([]);
    expect(() => assertValid(g)).not.toThrow();
  });
});

describe("the verifier rejects", () => {
  it("a node whose type is not what its operands give", () => {
    const [x, w] = leaves();
    expect(problemOf(makeNode(2, "add", [x, w], {}, [6], "f32"))).toBe(
      "%2 (add): has type f32[6], but its operands and attributes give f32[2, 3]",
    );
    expect(problemOf(makeNode(2, "cmplt", [x, w], {}, [2, 3], "f32"))).toMatch(/gives? i32\[2, 3\]/);
  });

  it("operands that do not type-check, and bad attributes", () => {
    const [x] = leaves();
    const i = makeNode(1, "const", [], { value: 1, shape: [3], dtype: "i32" }, [3], "i32");
    expect(problemOf(makeNode(2, "add", [x, i], {}, [2, 3], "f32"))).toBe(
      "%2 (add): operands have shapes [2, 3] and [3]; they must be equal (broadcast explicitly)",
    );
    expect(problemOf(makeNode(2, "permute", [x], { perm: [0, 0] }, [2, 2], "f32"))).toMatch(/not a permutation/);
    expect(problemOf(makeNode(2, "sum", [x], { axes: [1, 0] }, [1, 1], "f32"))).toMatch(/increasing and distinct/);
    expect(problemOf(makeNode(2, "slice", [x], { starts: [0, 0], ends: [2, 4], steps: [1, 1] }, [2, 4], "f32"))).toMatch(
      /axis 1: range 0..4 is not within 0..3/,
    );
    expect(problemOf(makeNode(0, "literal", [], { data: [1, 2], shape: [3], dtype: "f32" }, [3], "f32"))).toMatch(
      /has 2 number\(s\) for shape \[3\]/,
    );
    expect(problemOf(makeNode(0, "const", [], { value: NaN, shape: [], dtype: "f32" }, [], "f32"))).toMatch(/value must be a number/);
    expect(problemOf(makeNode(2, "reshape", [x], { shape: [4] } as never, [4], "f32"))).toMatch(/cannot reshape/);
  });

  it("unknown ops and wrong operand counts", () => {
    const [x, w] = leaves();
    expect(problemOf(makeNode(2, "frobnicate" as Op, [x], {} as never, [2, 3], "f32") as Node)).toBe("%2 (frobnicate): is not an op of the op table");
    expect(problemOf(makeNode(2, "neg", [x, w], {}, [2, 3], "f32"))).toBe("%2 (neg): takes 1 operand(s), got 2");
    expect(problemOf(makeNode(2, "concat", [], { axis: 0 }, [0], "f32"))).toMatch(/takes at least 1 operand/);
  });

  it("operands that come after their user, and repeated ids", () => {
    const [x, w] = leaves();
    expect(problemOf(makeNode(0, "exp", [w], {}, [2, 3], "f32"))).toMatch(/operand 0 \(%1\) does not come before it/);
    const twin = makeNode(1, "exp", [x], {}, [2, 3], "f32");
    expect(verify([makeNode(2, "add", [twin, w], {}, [2, 3], "f32")])).toEqual(expect.arrayContaining([expect.stringMatching(/shares its id/)]));
  });

  it("nodes that are not frozen", () => {
    const [x] = leaves();
    const loose = { id: 2, op: "exp", inputs: [x], attrs: {}, shape: [2, 3], dtype: "f32" } as Node;
    expect(problemOf(loose)).toBe("%2 (exp): is not frozen (nodes are immutable)");
  });

  it("two leaves with one name", () => {
    const [x] = leaves();
    const again = makeNode(1, "param", [], { name: "x", shape: [2, 3], dtype: "f32" }, [2, 3], "f32");
    expect(problemOf(makeNode(2, "add", [x, again], {}, [2, 3], "f32"))).toBe('%1 (param): reuses the name "x" of %0 (input)');
  });

  it("two draws from one stream", () => {
    const seed = makeNode(0, "input", [], { name: "seed", shape: [], dtype: "i32" }, [], "i32");
    const u = makeNode(1, "uniform", [seed, seed], { stream: 4, shape: [2] }, [2], "f32");
    const n = makeNode(2, "normal", [seed, seed], { stream: 4, shape: [2] }, [2], "f32");
    expect(problemOf(makeNode(3, "add", [u, n], {}, [2], "f32"))).toMatch(/%2 \(normal\): draws from stream 4 like %1/);
  });

  it("graphs with repeated or empty output names, listing every problem", () => {
    const [x] = leaves();
    const g = { outputs: [...makeGraph({ a: x }).outputs, { name: "a", node: x }, { name: "", node: x }] };
    expect(verifyGraph(g)).toEqual(['two outputs are named "a"', "an output has an empty name"]);
    expect(() => assertValid(g, "fusion")).toThrow(/internal: invalid IR after fusion:\n {2}two outputs are named "a"\n {2}an output has an empty name/);
  });
});
