/**
 * Bottlenecks against hand computations: the projection, the noise of
 * `noisy` and `variational` (from the stream `noise/<part>` at the step), the
 * KL and L1 terms, and when those terms are added (training mode, once per
 * application the selected losses depend on, not for frozen parts).
 */
import { describe, expect, it } from "vitest";
import { normalAt, streamOf } from "../../runtime/rng/index.js";
import { expectClose, feedsFor, lowerSrc, naiveLinear, runLowered, type T } from "./harness.js";

const model = (kind: string, extra = "") =>
  `model T {\n  input x: f32[6]\n  bottleneck z = ${kind}\n  decoder g = dense(6)\n  loss r = mse(g(z(x)), x)\n  output z(x)\n${extra}}\n`;

function run(src: string, options: Parameters<typeof lowerSrc>[1] = {}) {
  const lowered = lowerSrc(src, options);
  const feeds = feedsFor(lowered);
  const out = runLowered(lowered, feeds);
  return { lowered, feeds, out, z: out["prediction"]!, x: feeds["x"]! };
}

const eps = (i: number, name = "z") => normalAt(5, streamOf("noise", name), i, 3);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Σ over each example's elements of f, averaged over the batch of 2. */
function perExample(t: T, f: (v: number, i: number) => number): number {
  const n = t.data.length / 2;
  return mean([0, 1].map((b) => t.data.slice(b * n, (b + 1) * n).reduce((s, v, j) => s + f(v, b * n + j), 0)));
}

describe("bottlenecks", () => {
  it("plain: the projection, stored [dim, in]", () => {
    const { lowered, feeds, z, x } = run(model("plain(dim: 3)"));
    expect(lowered.params.filter((p) => p.owner === "z").map((p) => `${p.name} [${p.shape}]`)).toEqual(["z.weight [3,6]", "z.bias [3]"]);
    expectClose(z.data, naiveLinear(x, feeds["z.weight"]!, feeds["z.bias"]!).data);
  });

  it("noisy: u + sigma·ε in training mode, u in inference mode", () => {
    const train = run(model("noisy(dim: 3, sigma: 0.25)"));
    const u = naiveLinear(train.x, train.feeds["z.weight"]!, train.feeds["z.bias"]!).data;
    expectClose(train.z.data, u.map((v, i) => v + 0.25 * eps(i)));
    const test = run(model("noisy(dim: 3, sigma: 0.25)"), { mode: "eval" });
    expectClose(test.z.data, naiveLinear(test.x, test.feeds["z.weight"]!, test.feeds["z.bias"]!).data);
  });

  it("variational: z = μ + σ⊙ε, and beta·KL averaged over the batch joins the loss", () => {
    const { lowered, feeds, out, z, x } = run(model("variational(dim: 3, beta: 0.5)"));
    expect(lowered.params.filter((p) => p.owner === "z").map((p) => p.name)).toEqual(["z.mu.weight", "z.mu.bias", "z.logvar.weight", "z.logvar.bias"]);
    const mu = naiveLinear(x, feeds["z.mu.weight"]!, feeds["z.mu.bias"]!);
    const logvar = naiveLinear(x, feeds["z.logvar.weight"]!, feeds["z.logvar.bias"]!);
    expectClose(z.data, mu.data.map((m, i) => m + Math.exp(0.5 * logvar.data[i]!) * eps(i)));
    const kl = perExample(mu, (m, i) => 0.5 * (m * m + Math.exp(logvar.data[i]!) - logvar.data[i]! - 1));
    expectClose(out["term/z.kl"]!.data, [0.5 * kl]);
    expectClose(out["loss"]!.data, [out["loss/r"]!.data[0]! + 0.5 * kl]);
  });

  it("variational in inference mode: z = μ and no term", () => {
    const { feeds, out, z, x } = run(model("variational(dim: 3)"), { mode: "eval" });
    expectClose(z.data, naiveLinear(x, feeds["z.mu.weight"]!, feeds["z.mu.bias"]!).data);
    expect(Object.keys(out).filter((k) => k.startsWith("term/"))).toEqual([]);
    expect(out["loss"]!.data).toEqual(out["loss/r"]!.data);
  });

  it("sparse: z = u and l1·Σ|z| averaged over the batch", () => {
    const { feeds, out, z, x } = run(model("sparse(dim: 4, l1: 0.01)"));
    const u = naiveLinear(x, feeds["z.weight"]!, feeds["z.bias"]!);
    expectClose(z.data, u.data);
    expectClose(out["term/z.l1"]!.data, [0.01 * perExample(u, Math.abs)]);
  });

  it("normalized: u on the unit sphere", () => {
    const { feeds, z, x } = run(model("normalized(dim: 3)"));
    const u = naiveLinear(x, feeds["z.weight"]!, feeds["z.bias"]!).data;
    const norm = (b: number) => Math.hypot(...u.slice(3 * b, 3 * b + 3));
    expectClose(z.data, u.map((v, i) => v / norm(Math.floor(i / 3))));
  });

  it("adds a term once per application the selected losses depend on", () => {
    const src = `model T {
  input x: f32[6]
  input y: f32[6]
  bottleneck z = sparse(dim: 3, l1: 0.1)
  decoder g = dense(6)
  loss both = mse(g(z(x)), x) + mse(g(z(y)), y)
  loss one = mse(g(z(x)), x)
  loss none = mse(x, y)
  loss twice = mse(g(z(x)), x) + mse(g(z(x)), x)
}
`;
    expect(Object.keys(runLowered(lowerSrc(src), feedsFor(lowerSrc(src)))).filter((k) => k.startsWith("term/")).sort()).toEqual(["term/z.l1", "term/z.l1@2"]);
    const one = lowerSrc(src, { objectives: ["one"] });
    expect(Object.keys(one.outputs.terms)).toEqual(["z.l1"]);
    const none = lowerSrc(src, { objectives: ["none"] });
    expect(Object.keys(none.outputs.terms)).toEqual([]);
    // The same value twice is one application's value: one term.
    expect(Object.keys(lowerSrc(src, { objectives: ["twice"] }).outputs.terms)).toHaveLength(1);
  });

  it("a frozen bottleneck adds no noise and no term, unless it runs in training mode", () => {
    const src = model("variational(dim: 3)");
    const frozen = run(src, { frozen: new Set(["z"]) });
    expectClose(frozen.z.data, naiveLinear(frozen.x, frozen.feeds["z.mu.weight"]!, frozen.feeds["z.mu.bias"]!).data);
    expect(Object.keys(frozen.lowered.outputs.terms)).toEqual([]);
    expect(frozen.lowered.params.filter((p) => p.owner === "z").every((p) => !p.trainable)).toBe(true);
    const trainMode = lowerSrc(src, { frozen: new Set(["z"]), partModes: new Map([["z", "train" as const]]) });
    expect(Object.keys(trainMode.outputs.terms)).toEqual(["z.kl"]);
    expect(trainMode.params.filter((p) => p.owner === "z").every((p) => !p.trainable)).toBe(true);
  });
});
