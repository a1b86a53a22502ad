import { describe, expect, it } from "vitest";
import { IRBuilder, IRError } from "../../runtime/ir/builder.js";
import { ALL_OPS, OPS, opsIn } from "../../runtime/ir/ops.js";
import { printNodes } from "../../runtime/ir/print.js";
import { evalWith } from "./harness.js";

describe("the op table", () => {
  it("lists every op once, each with a group and an arity", () => {
    expect(new Set(ALL_OPS).size).toBe(ALL_OPS.length);
    for (const op of ALL_OPS) expect(OPS[op].group).toBeTruthy();
    expect(opsIn("reduce")).toEqual(["sum", "max"]);
    expect(opsIn("movement")).toEqual(["reshape", "permute", "expand", "slice", "pad", "concat"]);
  });
});

describe("IRBuilder", () => {
  it("broadcasts elementwise operands with explicit reshape and expand nodes", () => {
    const b = new IRBuilder();
    const x = b.input("x", [2, 3]);
    const y = b.add(x, b.param("bias", [3]));
    expect(printNodes([y])).toBe(
      [
        '%0 = input "x" : f32[2, 3]',
        '%1 = param "bias" : f32[3]',
        "%2 = reshape %1 shape=[1, 3] : f32[1, 3]",
        "%3 = expand %2 shape=[2, 3] : f32[2, 3]",
        "%4 = add %0, %3 : f32[2, 3]",
      ].join("\n"),
    );
    // Both operands may broadcast.
    expect(b.mul(b.input("col", [4, 1]), b.input("row", [1, 5])).shape).toEqual([4, 5]);
  });

  it("turns numbers into constants of the other operand's shape and dtype", () => {
    const b = new IRBuilder();
    const i = b.input("i", [3], "i32");
    const j = b.add(i, 1);
    expect(j.inputs[1]).toMatchObject({ op: "const", dtype: "i32", shape: [3], attrs: { value: 1 } });
    expect(b.where(b.cmplt(i, 2), 0, b.input("x", [3])).dtype).toBe("f32");
    // A broadcast constant stays a constant rather than an expand chain.
    expect(b.broadcastTo(b.constant(2), [2, 2]).op).toBe("const");
  });

  it("shares structurally equal nodes", () => {
    const b = new IRBuilder();
    const x = b.input("x", [2]);
    expect(b.exp(x)).toBe(b.exp(x));
    expect(b.add(x, 1)).toBe(b.add(x, 1));
    expect(b.constant(-Infinity)).toBe(b.constant(-Infinity));
    expect(b.constant(-Infinity)).not.toBe(b.constant(Infinity));
    expect(b.input("x", [2])).toBe(x);
    expect(b.leaf("x")).toBe(x);
  });

  it("skips no-ops", () => {
    const b = new IRBuilder();
    const x = b.input("x", [2, 3]);
    expect(b.reshape(x, [2, 3])).toBe(x);
    expect(b.permute(x, [0, 1])).toBe(x);
    expect(b.broadcastTo(x, [2, 3])).toBe(x);
    expect(b.slice(x, [0, 0], [2, 3])).toBe(x);
    expect(b.pad(x, [0, 0], [0, 0])).toBe(x);
    expect(b.concat([x], 0)).toBe(x);
    expect(b.cast(x, "f32")).toBe(x);
    expect(b.sum(x, [])).toBe(x);
    expect(b.nodes).toHaveLength(1);
  });

  it("reductions drop axes unless asked to keep them; mean divides by the count", () => {
    const b = new IRBuilder();
    const x = b.input("x", [2, 3, 4]);
    expect(b.sum(x, 1).shape).toEqual([2, 4]);
    expect(b.sum(x, [-1, 0], true).shape).toEqual([1, 3, 1]);
    expect(b.max(x).shape).toEqual([]);
    const m = evalWith((bb) => bb.mean(bb.literal([1, 2, 3, 6], [2, 2]), 0));
    expect(m.data).toEqual([2, 4]);
  });

  it("movement helpers: reshape with -1, transpose, squeeze, unsqueeze, sliceAxis, topk", () => {
    const b = new IRBuilder();
    const x = b.input("x", [2, 3, 4]);
    expect(b.reshape(x, [-1, 4]).shape).toEqual([6, 4]);
    expect(b.transpose(x).shape).toEqual([2, 4, 3]);
    expect(b.unsqueeze(x, -1).shape).toEqual([2, 3, 4, 1]);
    expect(b.squeeze(b.unsqueeze(x, 0), 0)).toBe(x);
    expect(b.sliceAxis(x, -1, -2, 4).shape).toEqual([2, 3, 2]);
    const top = evalWith((bb) => bb.topk(bb.literal([1, 9, 3, 9, 5], [5]), 3).values);
    expect(top.data).toEqual([9, 9, 5]);
    const idx = evalWith((bb) => bb.topk(bb.literal([1, 9, 3, 9, 5], [5]), 3).indices);
    expect(idx.data).toEqual([1, 3, 4]);
  });

  it("rejects misuse with the operands' types in the message", () => {
    const b = new IRBuilder();
    const x = b.input("x", [2, 3]);
    const i = b.input("i", [2, 3], "i32");
    expect(() => b.add(x, b.input("y", [4]))).toThrow("add: shapes [2, 3] and [4] do not broadcast");
    expect(() => b.add(x, i)).toThrow("add(%0: f32[2, 3], %1: i32[2, 3]): operands have dtypes f32 and i32; cast one");
    expect(() => b.exp(i)).toThrow("exp(%1: i32[2, 3]): is defined on f32 only, operand 0 is i32");
    expect(() => b.matmul(x, x)).toThrow("inner dimensions differ: [2, 3] × [2, 3]");
    expect(() => b.reshape(x, [4, 2])).toThrow("cannot reshape [2, 3] (6 elements) to [4, 2] (8)");
    expect(() => b.permute(x, [0, 0])).toThrow("is not a permutation");
    expect(() => b.sum(x, 2)).toThrow("sum: axis 2 is out of range for rank 2");
    expect(() => b.gather(x, b.input("j", [2, 3]), 1)).toThrow("indices must be i32");
    expect(() => b.where(x, x, x)).toThrow("the condition must be i32");
    expect(() => b.slice(x, [0, 2], [2, 1])).toThrow("axis 1: range 2..1 is not within 0..3");
    expect(() => b.add(1, 2)).toThrow(IRError);
  });

  it("rejects duplicate leaf names and foreign nodes", () => {
    const b = new IRBuilder();
    b.param("w", [2]);
    expect(() => b.param("w", [3])).toThrow('param "w": the name is already used by param %0: f32[2]');
    expect(() => b.input("w", [2])).toThrow(/already used/);
    const other = new IRBuilder().input("z", [2]);
    expect(() => b.neg(other)).toThrow("node %0 (input) belongs to another IRBuilder");
  });

  it("makes frozen nodes", () => {
    const b = new IRBuilder();
    const r = b.reshape(b.input("x", [2, 3]), [3, 2]);
    expect(Object.isFrozen(r)).toBe(true);
    expect(Object.isFrozen(r.shape)).toBe(true);
    expect(Object.isFrozen(r.inputs)).toBe(true);
    expect(Object.isFrozen(r.attrs)).toBe(true);
    expect(() => {
      (r.shape as number[])[0] = 7;
    }).toThrow(TypeError);
  });

  it("hands out distinct random streams", () => {
    const b = new IRBuilder();
    expect([b.newStream(), b.newStream(), b.newStream()]).toEqual([0, 1, 2]);
    const seed = b.input("seed", [], "i32");
    expect(() => b.uniform([2], { seed, step: b.input("x", [2], "i32"), stream: 0 })).toThrow("step must be an i32 scalar, got i32[2]");
  });
});
