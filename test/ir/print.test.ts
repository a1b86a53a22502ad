import { describe, expect, it } from "vitest";
import { IRBuilder } from "../../runtime/ir/builder.js";
import { printDot, printGraph } from "../../runtime/ir/print.js";

function sample() {
  const b = new IRBuilder();
  const x = b.input("x", [2, 3]);
  const w = b.param("w", [3, 4]);
  const h = b.matmul(x, w);
  const loss = b.sum(b.mul(h, h));
  const idx = b.literal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [10], "i32");
  return { b, graph: b.graph({ loss, idx }) };
}

describe("the text form", () => {
  it("prints one line per node and a return line", () => {
    expect(printGraph(sample().graph)).toBe(
      [
        '%0 = input "x" : f32[2, 3]',
        '%1 = param "w" : f32[3, 4]',
        "%2 = matmul %0, %1 : f32[2, 4]",
        "%3 = mul %2, %2 : f32[2, 4]",
        "%4 = sum %3 axes=[0, 1] : f32[1, 1]",
        "%5 = reshape %4 shape=[] : f32[]",
        "%6 = literal [0, 1, 2, 3, 4, 5, 6, 7, … (10 values)] : i32[10]",
        "return loss = %5, idx = %6",
      ].join("\n"),
    );
  });

  it("renumbers densely on request", () => {
    const b = new IRBuilder();
    b.input("unused", [1]);
    const y = b.exp(b.input("x", [1]));
    expect(printGraph(b.graph({ y }), { renumber: true })).toBe('%0 = input "x" : f32[1]\n%1 = exp %0 : f32[1]\nreturn y = %1');
  });

  it("prints every kind of attribute", () => {
    const b = new IRBuilder();
    const x = b.input("x", [4]);
    const seed = b.input("seed", [], "i32");
    const lines = printGraph(
      b.graph({
        p: b.pad(x, [1], [0], { interior: [1], value: -0 }),
        u: b.uniform([2], { seed, step: seed, stream: 5 }),
        s: b.argsort(x, 0, true),
        c: b.constant(-Infinity, [1]),
        i: b.iota([2, 2], 1),
      }),
    ).split("\n");
    expect(lines).toContain("%2 = pad %0 lo=[1] hi=[0] interior=[1] value=-0 : f32[8]");
    expect(lines).toContain("%3 = uniform %1, %1 stream=5 : f32[2]");
    expect(lines).toContain("%4 = argsort %0 axis=0 descending=true : i32[4]");
    expect(lines).toContain("%5 = const -Infinity : f32[1]");
    expect(lines).toContain("%6 = iota axis=1 : i32[2, 2]");
  });

  it("draws DOT with escaped labels, operand order and outputs", () => {
    const b = new IRBuilder();
    const x = b.input('a "quoted" \\ name', [2]);
    const dot = printDot(b.graph({ y: b.sub(x, b.exp(x)) }));
    expect(dot).toContain('n0 [label="%0 input \\"a \\\\\\"quoted\\\\\\" \\\\\\\\ name\\"\\nf32[2]", style=filled, fillcolor=lightblue];');
    expect(dot).toContain('n0 -> n2 [label="0"];');
    expect(dot).toContain('n1 -> n2 [label="1"];');
    expect(dot).toContain("n2 -> out0;");
    expect(dot.startsWith("digraph ir {")).toBe(true);
  });
});
