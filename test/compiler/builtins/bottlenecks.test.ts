import { describe, expect, it } from "vitest";
import { codes, expectErrors, modelOf } from "../harness.js";

const ae = (bottleneck: string) =>
  `model AE {\n  input x: f32[784]\n  encoder f = dense(64)\n  bottleneck z = ${bottleneck}\n  decoder g = dense(784)\n  loss l = mse(g(z(f(x))), x)\n}`;

describe("bottlenecks", () => {
  it("project the last axis to dim: in*dim + dim", () => {
    for (const b of ["plain(16)", "noisy(16, sigma: 0.1)", "sparse(dim: 16, l1: 0.01)", "normalized(16)"]) {
      const z = modelOf(ae(b)).parts.find((p) => p.name === "z")!;
      expect(z.output!.shape).toEqual([16]);
      expect(z.params).toBe(64 * 16 + 16);
    }
  });

  it("variational predicts a mean and a log-variance: twice the parameters, and a KL term", () => {
    const model = modelOf(ae("variational(dim: 16, beta: 0.5)"));
    expect(model.parts.find((p) => p.name === "z")!.params).toBe(2 * (64 * 16 + 16));
    expect(model.losses[0]!.regularizers).toEqual(["z: 0.5·KL(q(z|x) ‖ N(0, I))"]);
    expect(model.totalParams).toBe(784 * 64 + 64 + 2 * (64 * 16 + 16) + 16 * 784 + 784);
  });

  it("sparse adds an L1 term", () => {
    expect(modelOf(ae("sparse(16, l1: 0.001)")).losses[0]!.regularizers).toEqual(["z: 0.001·|z|₁"]);
  });

  it("ranges: sigma > 0, beta >= 0", () => {
    expect(codes(ae("noisy(16, sigma: 0)"))).toEqual(["RC307"]);
    expect(codes(ae("variational(16, beta: -1)"))).toEqual(["RC307"]);
  });

  it("only a bottleneck part may use a bottleneck, and it must be one", () => {
    expectErrors("model T {\n  input x: f32[8]\n  encoder f = plain(4)\n  output f(x)\n}", [{ code: "RC318", line: 3, column: 15 }]);
    expectErrors(ae("dense(16)"), [{ code: "RC520", line: 4, column: 18 }]);
  });
});
