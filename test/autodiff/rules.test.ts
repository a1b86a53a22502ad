import { describe, expect, it } from "vitest";
import { grad } from "../../compiler/autodiff/grad.js";
import { RULES } from "../../compiler/autodiff/rules.js";
import { evaluate } from "../../runtime/backends/reference/evaluate.js";
import { IRBuilder, IRError } from "../../runtime/ir/builder.js";
import { topoSort, type Node } from "../../runtime/ir/node.js";
import { ALL_OPS, OPS } from "../../runtime/ir/ops.js";

describe("the autodiff table", () => {
  it("has, for every op, a VJP rule or an explicit mark", () => {
    const missing = ALL_OPS.filter((op) => {
      const rule = RULES[op] as object | undefined;
      return rule === undefined || !("vjp" in rule || "notDifferentiable" in rule || "leaf" in rule);
    });
    expect(missing).toEqual([]);
  });

  it("marks exactly the ops without operands as leaves, and says why an op is not differentiable", () => {
    for (const op of ALL_OPS) {
      const rule = RULES[op];
      expect("leaf" in rule, op).toBe(OPS[op].group === "leaf");
      if ("notDifferentiable" in rule) expect(rule.notDifferentiable.length, op).toBeGreaterThan(10);
    }
  });

  it("has no entry for an op that does not exist", () => {
    expect(Object.keys(RULES).sort()).toEqual([...ALL_OPS].sort());
  });
});

/** A two-layer network: loss = Σ relu(x·W1 + b1)·W2. */
function network() {
  const b = new IRBuilder();
  const x = b.input("x", [4, 3]);
  const w1 = b.param("w1", [3, 5]);
  const b1 = b.param("b1", [5]);
  const w2 = b.param("w2", [5, 2]);
  const loss = b.sum(b.matmul(b.relu(b.add(b.matmul(x, w1), b1)), w2));
  return { b, x, w1, b1, w2, loss };
}

/** The nodes `grad` added: those of the gradients' graphs that the forward graph lacks. */
function added(forward: Node, grads: readonly Node[]): Node[] {
  const before = new Set(topoSort([forward]));
  return topoSort(grads).filter((n) => !before.has(n));
}

describe("grad", () => {
  it("prunes: a parameter not differentiated costs no gradient computation", () => {
    const only2 = network();
    const new2 = added(only2.loss, grad(only2.b, only2.loss, [only2.w2]));
    // dW2 = hᵀ·g: one matmul; nothing flows back through relu to w1, b1 or x.
    expect(new2.filter((n) => n.op === "matmul")).toHaveLength(1);
    expect(new2.some((n) => n.op === "cmplt")).toBe(false);
    expect(new2.some((n) => n.shape.join() === "3,5" || n.shape.join() === "4,3")).toBe(false);

    const all = network();
    const newAll = added(all.loss, grad(all.b, all.loss, [all.w1, all.b1, all.w2]));
    // dW2, dh = g·W2ᵀ and dW1 = xᵀ·dz; but never dx = dz·W1ᵀ, since x is not differentiated.
    expect(newAll.filter((n) => n.op === "matmul")).toHaveLength(3);
    expect(newAll.some((n) => n.shape.join() === "4,3")).toBe(false);
  });

  it("gives zero for what the loss does not depend on, and stops at detach", () => {
    const b = new IRBuilder();
    const x = b.input("x", [2]);
    const y = b.input("y", [2]);
    const loss = b.sum(b.mul(x, b.detach(b.exp(x))));
    const [gx, gy] = grad(b, loss, [x, y]);
    const values = evaluate([gx!, gy!], { x: { shape: [2], data: [0, 1] }, y: { shape: [2], data: [5, 5] } });
    expect([...values.get(gx!)!.data]).toEqual([1, Math.E]);
    expect([...values.get(gy!)!.data]).toEqual([0, 0]);
  });

  it("differentiates with respect to inner nodes and accepts a cotangent", () => {
    const b = new IRBuilder();
    const x = b.input("x", [3]);
    const h = b.mul(x, 2);
    const out = b.mul(h, h);
    const [gh, gx] = grad(b, out, [h, x], { cotangent: b.literal([1, 0, -1], [3]) });
    const values = evaluate([gh!, gx!], { x: { shape: [3], data: [1, 2, 3] } });
    expect([...values.get(gh!)!.data]).toEqual([4, 0, -12]);
    expect([...values.get(gx!)!.data]).toEqual([8, 0, -24]);
  });

  it("rejects a non-scalar loss without cotangent, and integer values", () => {
    const b = new IRBuilder();
    const x = b.input("x", [3]);
    expect(() => grad(b, x, [x])).toThrow("grad: the loss %0: f32[3] is not a scalar; pass a cotangent");
    const i = b.input("i", [3], "i32");
    expect(() => grad(b, b.sum(x), [i])).toThrow(IRError);
    expect(() => grad(b, b.sum(i), [x])).toThrow(/must be f32/);
  });
});
