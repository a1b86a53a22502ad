/**
 * Convolutions and pooling against direct loops: conv2d as a sum over the
 * kernel window (zero outside the image), conv_transpose2d as each input pixel
 * scattering a weighted kernel, pooling over its windows.
 */
import { describe, expect, it } from "vitest";
import { at, expectClose, feedsFor, lowerSrc, runLowered, type T } from "./harness.js";

function applyLayer(layer: string, input: string) {
  const lowered = lowerSrc(`model T {\n  input x: f32${input}\n  part p = ${layer}\n  output p(x)\n}\n`);
  const feeds = feedsFor(lowered);
  return { lowered, feeds, y: runLowered(lowered, feeds)["prediction"]!, x: feeds["x"]! };
}

/** A value of x, 0 outside the image. */
function pixel(x: T, b: number, c: number, i: number, j: number): number {
  return i < 0 || j < 0 || i >= x.shape[2]! || j >= x.shape[3]! ? 0 : at(x, b, c, i, j);
}

function naiveConv(x: T, w: T, bias: T | null, stride: number, padding: string): T {
  const [batch, c, h, wd] = x.shape as number[] as [number, number, number, number];
  const [f, , k] = w.shape as number[] as [number, number, number];
  const out = (n: number) => (padding === "same" ? Math.ceil(n / stride) : Math.floor((n - k) / stride) + 1);
  const [ho, wo] = [out(h), out(wd)];
  const top = padding === "same" ? Math.floor(Math.max((ho - 1) * stride + k - h, 0) / 2) : 0;
  const left = padding === "same" ? Math.floor(Math.max((wo - 1) * stride + k - wd, 0) / 2) : 0;
  const data: number[] = [];
  for (let b = 0; b < batch; b++)
    for (let o = 0; o < f; o++)
      for (let y = 0; y < ho; y++)
        for (let z = 0; z < wo; z++) {
          let s = bias ? bias.data[o]! : 0;
          for (let ch = 0; ch < c; ch++)
            for (let i = 0; i < k; i++)
              for (let j = 0; j < k; j++) s += pixel(x, b, ch, y * stride + i - top, z * stride + j - left) * at(w, o, ch, i, j);
          data.push(s);
        }
  return { shape: [batch, f, ho, wo], data };
}

function naiveConvTranspose(x: T, w: T, bias: T | null, stride: number, padding: string): T {
  const [batch, c, h, wd] = x.shape as number[] as [number, number, number, number];
  const [, f, k] = w.shape as number[] as [number, number, number];
  const [fh, fw] = [(h - 1) * stride + k, (wd - 1) * stride + k];
  const full = new Array<number>(batch * f * fh * fw).fill(0);
  for (let b = 0; b < batch; b++)
    for (let ch = 0; ch < c; ch++)
      for (let a = 0; a < h; a++)
        for (let e = 0; e < wd; e++)
          for (let o = 0; o < f; o++)
            for (let i = 0; i < k; i++)
              for (let j = 0; j < k; j++) full[((b * f + o) * fh + a * stride + i) * fw + e * stride + j]! += at(x, b, ch, a, e) * at(w, ch, o, i, j);
  const [ho, wo] = padding === "same" ? [h * stride, wd * stride] : [fh, fw];
  const top = padding === "same" && k >= stride ? Math.floor((k - stride) / 2) : 0;
  const data: number[] = [];
  for (let b = 0; b < batch; b++)
    for (let o = 0; o < f; o++)
      for (let y = 0; y < ho; y++)
        for (let z = 0; z < wo; z++) {
          const [sy, sz] = [y + top, z + top];
          data.push((sy < fh && sz < fw ? full[((b * f + o) * fh + sy) * fw + sz]! : 0) + (bias ? bias.data[o]! : 0));
        }
  return { shape: [batch, f, ho, wo], data };
}

describe("conv2d", () => {
  const cases: [string, string][] = [
    ["conv2d(filters: 3)", "[2, 5, 5]"],
    ["conv2d(filters: 3, stride: 2)", "[2, 5, 5]"],
    ["conv2d(filters: 2, kernel: 2, stride: 2)", "[2, 5, 4]"],
    ["conv2d(filters: 2, kernel: 4, stride: 3)", "[1, 7, 6]"],
    ["conv2d(filters: 3, kernel: 3, padding: valid)", "[2, 5, 6]"],
    ["conv2d(filters: 2, kernel: 2, stride: 2, padding: valid, bias: false)", "[3, 5, 5]"],
  ];
  for (const [layer, input] of cases) {
    it(`${layer} on ${input}`, () => {
      const { lowered, feeds, y, x } = applyLayer(layer, input);
      const bias = lowered.params.some((p) => p.name === "p.bias") ? feeds["p.bias"]! : null;
      const stride = Number(/stride: (\d+)/.exec(layer)?.[1] ?? 1);
      const expected = naiveConv(x, feeds["p.weight"]!, bias, stride, layer.includes("valid") ? "valid" : "same");
      expect(y.shape).toEqual(expected.shape);
      expectClose(y.data, expected.data);
    });
  }

  it("stores the weight [F, C, k, k] with U(1/√(C·k²)) and a zero bias", () => {
    const { lowered } = applyLayer("conv2d(filters: 4, kernel: 3)", "[2, 5, 5]");
    const w = lowered.params.find((p) => p.name === "p.weight")!;
    expect(w.shape).toEqual([4, 2, 3, 3]);
    expect(w.init).toEqual({ kind: "uniform", bound: 1 / Math.sqrt(18) });
    expect(lowered.params.find((p) => p.name === "p.bias")!.init).toEqual({ kind: "constant", value: 0 });
  });
});

describe("conv_transpose2d", () => {
  const cases: [string, string][] = [
    ["conv_transpose2d(filters: 3, stride: 2)", "[2, 3, 3]"],
    ["conv_transpose2d(filters: 2)", "[2, 3, 4]"],
    ["conv_transpose2d(filters: 2, kernel: 4, stride: 2)", "[1, 3, 3]"],
    ["conv_transpose2d(filters: 2, kernel: 2, stride: 3)", "[2, 2, 3]"],
    ["conv_transpose2d(filters: 2, kernel: 3, stride: 2, padding: valid, bias: false)", "[2, 3, 2]"],
  ];
  for (const [layer, input] of cases) {
    it(`${layer} on ${input}`, () => {
      const { lowered, feeds, y, x } = applyLayer(layer, input);
      const bias = lowered.params.some((p) => p.name === "p.bias") ? feeds["p.bias"]! : null;
      const stride = Number(/stride: (\d+)/.exec(layer)?.[1] ?? 1);
      const expected = naiveConvTranspose(x, feeds["p.weight"]!, bias, stride, layer.includes("valid") ? "valid" : "same");
      expect(y.shape).toEqual(expected.shape);
      expectClose(y.data, expected.data);
    });
  }

  it("stores the weight [C, F, k, k] with U(1/√(F·k²))", () => {
    const { lowered } = applyLayer("conv_transpose2d(filters: 4, kernel: 3)", "[2, 3, 3]");
    const w = lowered.params.find((p) => p.name === "p.weight")!;
    expect(w.shape).toEqual([2, 4, 3, 3]);
    expect(w.init).toEqual({ kind: "uniform", bound: 1 / Math.sqrt(36) });
  });
});

describe("pooling", () => {
  function naivePool(x: T, kind: "max" | "avg", size: number, stride: number): number[] {
    const [batch, c, h, w] = x.shape as number[] as [number, number, number, number];
    const [ho, wo] = [Math.floor((h - size) / stride) + 1, Math.floor((w - size) / stride) + 1];
    const out: number[] = [];
    for (let b = 0; b < batch; b++)
      for (let ch = 0; ch < c; ch++)
        for (let y = 0; y < ho; y++)
          for (let z = 0; z < wo; z++) {
            const values: number[] = [];
            for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) values.push(at(x, b, ch, y * stride + i, z * stride + j));
            out.push(kind === "max" ? Math.max(...values) : values.reduce((s, v) => s + v, 0) / values.length);
          }
    return out;
  }

  for (const [layer, kind, size, stride] of [
    ["max_pool", "max", 2, 2],
    ["avg_pool", "avg", 2, 2],
    ["max_pool(size: 3, stride: 2)", "max", 3, 2],
    ["avg_pool(size: 2, stride: 1)", "avg", 2, 1],
  ] as const) {
    it(`${layer}`, () => {
      const { y, x } = applyLayer(layer, "[2, 5, 5]");
      expectClose(y.data, naivePool(x, kind, size, stride));
    });
  }
});
