/**
 * Batch graphs (runtime/ir/batch-graph.ts): instantiation at any batch size,
 * typed by the builder's rules and failing clearly where a size does not
 * fit; the JSON form, whose special numbers survive; and the validator of
 * JSON read from disk.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  BatchGraphError,
  batchGraphFromJson,
  batchGraphProblems,
  batchGraphToJson,
  evalBatchNumber,
  formatBatchNumber,
  instantiateBatchGraph,
  type BatchGraph,
  type BatchNode,
} from "../../runtime/ir/batch-graph.js";
import { graphNodes } from "../../runtime/ir/node.js";
import { verifyGraph } from "../../runtime/ir/verify.js";
import { run } from "../../runtime/backends/reference/evaluate.js";

const B = (...c: number[]) => ({ B: c });

/**
 * x [B, 3] → reshape [3·B] → sum; an iota [B, B]; a const B² + 1 of shape [B];
 * a slice of the first B − 1 rows of x; a causal −∞ and a −0 constant.
 */
const SAMPLE: BatchGraph = {
  version: 1,
  nodes: [
    { op: "input", inputs: [], attrs: { name: "x", shape: [B(0, 1), 3], dtype: "f32" } },
    { op: "reshape", inputs: [0], attrs: { shape: [B(0, 3)] } },
    { op: "sum", inputs: [1], attrs: { axes: [0] } },
    { op: "iota", inputs: [], attrs: { axis: 1, shape: [B(0, 1), B(0, 1)], dtype: "i32" } },
    { op: "const", inputs: [], attrs: { value: B(1, 0, 1), shape: [B(0, 1)], dtype: "f32" } },
    { op: "slice", inputs: [0], attrs: { starts: [0, 0], ends: [B(-1, 1), 3], steps: [1, 1] } },
    { op: "const", inputs: [], attrs: { value: -Infinity, shape: [], dtype: "f32" } },
    { op: "const", inputs: [], attrs: { value: -0, shape: [2], dtype: "f32" } },
  ],
  outputs: [
    { name: "total", node: 2 },
    { name: "iota", node: 3 },
    { name: "square", node: 4 },
    { name: "head", node: 5 },
    { name: "minus_infinity", node: 6 },
    { name: "minus_zero", node: 7 },
  ],
};

/** A graph of one node plus the nodes before it. */
function graphOf(nodes: BatchNode[]): BatchGraph {
  return { version: 1, nodes, outputs: [{ name: "out", node: nodes.length - 1 }] };
}

describe("instantiateBatchGraph", () => {
  it("gives each node the type its polynomials give at B, and computes with it", () => {
    for (const batch of [1, 2, 7]) {
      const graph = instantiateBatchGraph(SAMPLE, batch);
      expect(verifyGraph(graph)).toEqual([]);
      const shapes = Object.fromEntries(graph.outputs.map((o) => [o.name, o.node.shape]));
      expect(shapes).toEqual({ total: [1], iota: [batch, batch], square: [batch], head: [batch - 1, 3], minus_infinity: [], minus_zero: [2] });
      const x = Array.from({ length: batch * 3 }, (_, i) => i + 1);
      const out = run(graph, { x: { shape: [batch, 3], data: x } });
      expect([...out["total"]!.data]).toEqual([(batch * 3 * (batch * 3 + 1)) / 2]);
      expect([...out["square"]!.data]).toEqual(new Array(batch).fill(batch * batch + 1));
      expect([...out["head"]!.data]).toEqual(x.slice(0, (batch - 1) * 3));
      expect([...out["iota"]!.data]).toEqual(Array.from({ length: batch * batch }, (_, i) => i % batch));
      expect(Object.is(out["minus_infinity"]!.data[0], -Infinity)).toBe(true);
      expect(Object.is(out["minus_zero"]!.data[1], -0)).toBe(true);
    }
  });

  it("makes exactly the graph's nodes, with ids in order, even where a small B makes two alike", () => {
    // At B = 1 the two consts are equal; a builder would share them.
    const g = graphOf([
      { op: "const", inputs: [], attrs: { value: B(0, 1), shape: [], dtype: "f32" } },
      { op: "const", inputs: [], attrs: { value: 1, shape: [], dtype: "f32" } },
      { op: "add", inputs: [0, 1], attrs: {} },
    ]);
    const nodes = graphNodes(instantiateBatchGraph(g, 1));
    expect(nodes.map((n) => `${n.id} ${n.op}`)).toEqual(["0 const", "1 const", "2 add"]);
    expect(nodes[2]!.inputs).toEqual([nodes[0], nodes[1]]);
  });

  it("fails with the node, its op and the typing rule's words where B does not fit", () => {
    expect(() => instantiateBatchGraph(SAMPLE, 0)).toThrow(new BatchGraphError("the batch size must be an integer ≥ 1, got 0"));
    expect(() => instantiateBatchGraph(SAMPLE, 2.5)).toThrow(/batch size must be an integer ≥ 1, got 2.5/);
    const negative = graphOf([{ op: "input", inputs: [], attrs: { name: "x", shape: [B(-2, 1), 4], dtype: "f32" } }]);
    expect(() => instantiateBatchGraph(negative, 1)).toThrow(
      new BatchGraphError("at batch size 1, node 0 (input): shape [-1,4] has a dimension that is not a non-negative integer"),
    );
    expect(instantiateBatchGraph(negative, 2).outputs[0]!.node.shape).toEqual([0, 4]);
    const past = graphOf([
      { op: "input", inputs: [], attrs: { name: "x", shape: [B(0, 1)], dtype: "f32" } },
      { op: "slice", inputs: [0], attrs: { starts: [0], ends: [4], steps: [1] } },
    ]);
    expect(() => instantiateBatchGraph(past, 3)).toThrow(/^at batch size 3, node 1 \(slice\) on f32\[3\]: axis 0: range 0\.\.4 is not within 0\.\.3$/);
    expect(instantiateBatchGraph(past, 4).outputs[0]!.node.shape).toEqual([4]);
    const huge = graphOf([{ op: "input", inputs: [], attrs: { name: "x", shape: [B(0, 0, 2 ** 40)], dtype: "f32" } }]);
    expect(() => instantiateBatchGraph(huge, 2 ** 10)).toThrow(/node 0 \(input\): 1099511627776·B² at B = 1024 is not a safe integer/);
  });

  it("gives what the polynomials say at any B, or fails for a negative dim", () => {
    fc.assert(
      fc.property(fc.integer({ min: -6, max: 6 }), fc.integer({ min: -3, max: 3 }), fc.integer({ min: -1, max: 2 }), fc.integer({ min: 1, max: 60 }), (c0, c1, c2, batch) => {
        const dim = c2 !== 0 ? B(c0, c1, c2) : c1 !== 0 ? B(c0, c1) : c0;
        const g = graphOf([{ op: "input", inputs: [], attrs: { name: "x", shape: [dim, 2], dtype: "f32" } }]);
        const want = c0 + c1 * batch + c2 * batch * batch;
        if (want >= 0) expect(instantiateBatchGraph(g, batch).outputs[0]!.node.shape).toEqual([want, 2]);
        else expect(() => instantiateBatchGraph(g, batch)).toThrow(BatchGraphError);
      }),
      { numRuns: 200 },
    );
  });
});

describe("batch numbers", () => {
  it("evaluate and print as polynomials", () => {
    expect(evalBatchNumber(B(-1, 2, 1), 5)).toBe(34);
    expect(evalBatchNumber(0.5, 5)).toBe(0.5);
    expect(formatBatchNumber(B(-1, 2, 1))).toBe("B² + 2·B − 1");
    expect(formatBatchNumber(B(0, 784))).toBe("784·B");
    expect(formatBatchNumber(B(3, -1))).toBe("−B + 3");
    expect(formatBatchNumber(-0)).toBe("-0");
  });
});

describe("batch graphs as JSON", () => {
  it("round-trip, with NaN, ±∞ and −0 intact", () => {
    const g: BatchGraph = {
      ...SAMPLE,
      nodes: [
        ...SAMPLE.nodes,
        { op: "const", inputs: [], attrs: { value: NaN, shape: [], dtype: "f32" } },
        { op: "pad", inputs: [0], attrs: { lo: [0, 1], hi: [B(0, 1), 0], interior: [0, 0], value: Infinity } },
      ],
    };
    const text = batchGraphToJson(g);
    expect(text).toContain('{"$num":"-0"}');
    expect(text).toContain('{"$num":"NaN"}');
    const back = batchGraphFromJson(text);
    expect(back).toEqual(g);
    expect(Object.is(back.nodes[7]!.attrs["value"], -0)).toBe(true);
    expect(Number.isNaN(back.nodes[8]!.attrs["value"])).toBe(true);
    expect(back.nodes[6]!.attrs["value"]).toBe(-Infinity);
    expect(back.nodes[9]!.attrs["value"]).toBe(Infinity);
    expect(batchGraphToJson(back, 1)).toBe(batchGraphToJson(g, 1));
  });

  /** The first problem the validator finds in `g` (a mutated copy of SAMPLE). */
  const problem = (g: unknown): string => {
    const problems = batchGraphProblems(g);
    expect(problems.length).toBeGreaterThan(0);
    return problems[0]!;
  };
  const withNode = (i: number, node: unknown): unknown => ({ ...SAMPLE, nodes: SAMPLE.nodes.map((n, k) => (k === i ? node : n)) });

  it("accept what the validator accepts", () => {
    expect(batchGraphProblems(SAMPLE)).toEqual([]);
  });

  it("are rejected when malformed, each with its reason", () => {
    expect(problem(null)).toBe("a batch graph must be an object");
    expect(problem({ ...SAMPLE, version: 2 })).toBe("version 2 is not supported (expected 1)");
    expect(problem({ version: 1, nodes: {}, outputs: [] })).toBe("nodes must be a list");
    expect(problem(withNode(1, { op: "fold", inputs: [0], attrs: {} }))).toBe('node 1: "fold" is not an op');
    expect(problem(withNode(1, 7))).toBe("node 1 is not an object");
    expect(problem(withNode(1, { op: "reshape", inputs: [1], attrs: { shape: [3] } }))).toBe("node 1 (reshape): operand 0 (1) is not an earlier node");
    expect(problem(withNode(2, { op: "sum", inputs: [0, 1], attrs: { axes: [0] } }))).toBe("node 2 (sum): takes 1 operand(s), has 2");
    expect(problem(withNode(1, { op: "reshape", inputs: [0], attrs: [] }))).toBe("node 1 (reshape): attrs must be an object");
    expect(problem(withNode(1, { op: "reshape", inputs: [0], attrs: { shape: [B(3)] } }))).toBe(
      "node 1 (reshape): shape[0]: a polynomial has 2 or 3 coefficients (degree 1 or 2), got 1",
    );
    expect(problem(withNode(1, { op: "reshape", inputs: [0], attrs: { shape: [B(0, 1.5)] } }))).toBe(
      "node 1 (reshape): shape[0]: a polynomial's coefficients must be safe integers, got [0,1.5]",
    );
    expect(problem(withNode(1, { op: "reshape", inputs: [0], attrs: { shape: [B(0, 3, 0)] } }))).toBe(
      "node 1 (reshape): shape[0]: a polynomial's last coefficient must not be 0, got [0,3,0]",
    );
    expect(problem(withNode(1, { op: "reshape", inputs: [0], attrs: { shape: [{ C: [0, 3] }] } }))).toBe(
      'node 1 (reshape): shape[0]: an object must be a polynomial {"B": [c0, c1, c2?]}, got {"C":[0,3]}',
    );
    expect(problem(withNode(1, { op: "reshape", inputs: [0], attrs: { shape: [null] } }))).toBe(
      "node 1 (reshape): shape[0]: null is not a number, polynomial, string, boolean or list",
    );
    expect(problem(withNode(3, { op: "input", inputs: [], attrs: { name: "x", shape: [2], dtype: "f32" } }))).toBe(
      'node 3 (input): the name "x" is also node 0\'s',
    );
    expect(problem({ ...SAMPLE, outputs: [...SAMPLE.outputs, { name: "total", node: 1 }] })).toBe('two outputs are named "total"');
    expect(problem({ ...SAMPLE, outputs: [{ name: "late", node: 8 }] })).toBe("output 0 names node 8, which does not exist");
    expect(problem({ ...SAMPLE, outputs: [{ name: "", node: 0 }] })).toBe("output 0 needs a non-empty name");
  });

  it("are refused when read, with the reasons", () => {
    expect(() => batchGraphFromJson("{")).toThrow(/^a batch graph must be JSON: /);
    expect(() => batchGraphFromJson('{"version": 1, "nodes": [], "outputs": [{"name": "y", "node": 0}]}')).toThrow(
      new BatchGraphError("invalid batch graph: output 0 names node 0, which does not exist"),
    );
    // Only the four spellings of special numbers are numbers; anything else is an object, and no polynomial.
    expect(() => batchGraphFromJson(batchGraphToJson(SAMPLE).replace('{"$num":"-Infinity"}', '{"$num":"-1e999x"}'))).toThrow(
      /node 6 \(const\): value: an object must be a polynomial/,
    );
  });
});
