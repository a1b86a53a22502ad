/**
 * Augmented views against a per-pixel computation from the shared
 * generator's numbers: shift (zero fill), flip, channel drop and noise, in
 * that order, each view from its own streams; views off in the prediction.
 */
import { describe, expect, it } from "vitest";
import { normalAt, quantizeProbability, streamOf, uniformAt } from "../../runtime/rng/index.js";
import { at, expectClose, feedsFor, lowerSrc, runLowered, type T } from "./harness.js";

const options = "shift: 1, flip: true, channel_drop: 0.3, noise: 0.1";
const src = `model V {
  input image: f32[2, 4, 5]
  views a, b = augment(image, ${options})
  encoder f = flatten
  let first = a
  let second = b
  loss l = mse(f(a), f(b))
  output f(a)
}
`;

/** One view of example `b` computed pixel by pixel. */
function naiveView(x: T, view: string, batch: number, shift: number, flips: boolean, drop: number, sigma: number): number[] {
  const [, c, h, w] = x.shape as [number, number, number, number];
  const u = (what: string, i: number) => uniformAt(5, streamOf("view", `${view}.${what}`), i, 3);
  const offset = (v: number) => {
    let below = 0;
    for (let t = 1; t <= 2 * shift; t++) if (v < quantizeProbability(t / (2 * shift + 1))) below++;
    return shift - below;
  };
  const out: number[] = [];
  for (let b = 0; b < batch; b++) {
    const [dy, dx] = [offset(u("shift", 2 * b)), offset(u("shift", 2 * b + 1))];
    const flip = flips && u("flip", b) < 0.5;
    for (let ch = 0; ch < c; ch++) {
      const dropped = u("channels", b * c + ch) < quantizeProbability(drop);
      for (let i = 0; i < h; i++)
        for (let j = 0; j < w; j++) {
          const jj = flip ? w - 1 - j : j;
          const [si, sj] = [i - dy, jj - dx];
          let v = si < 0 || sj < 0 || si >= h || sj >= w ? 0 : at(x, b, ch, si, sj);
          if (dropped) v = 0;
          const flat = ((b * c + ch) * h + i) * w + j;
          out.push(v + sigma * normalAt(5, streamOf("view", `${view}.noise`), flat, 3));
        }
    }
  }
  return out;
}

describe("augment", () => {
  const lowered = lowerSrc(src, { values: ["first", "second"] });
  const feeds = feedsFor(lowered);
  const out = runLowered(lowered, feeds);

  it("each view: shift with zero fill, flip, channel drop, noise — from its own streams", () => {
    expectClose(out["value/first"]!.data, naiveView(feeds["image"]!, "a", 2, 1, true, 0.3, 0.1));
    expectClose(out["value/second"]!.data, naiveView(feeds["image"]!, "b", 2, 1, true, 0.3, 0.1));
    expect(out["value/first"]!.data).not.toEqual(out["value/second"]!.data);
  });

  it("a larger shift, and options at their defaults change nothing", () => {
    const wide = lowerSrc(src.replace(options, "shift: 3"), { values: ["first"] });
    const f = feedsFor(wide);
    expectClose(runLowered(wide, f)["value/first"]!.data, naiveView(f["image"]!, "a", 2, 3, false, 0, 0));
    const plain = lowerSrc(src.replace(`, ${options}`, ""), { values: ["first", "second"] });
    const o = runLowered(plain, feedsFor(plain));
    expect(o["value/first"]!.data).toEqual(feeds["image"]!.data);
    expect(o["value/second"]!.data).toEqual(feeds["image"]!.data);
  });

  it("views are off in the prediction", () => {
    expect(out["prediction"]!.data).toEqual(feeds["image"]!.data);
  });

  it("noise alone works on any shape", () => {
    const rows = lowerSrc(`model R {\n  input row: f32[6]\n  views a, b = augment(row, noise: 0.5)\n  let first = a\n  loss l = mse(a, b)\n}\n`, { values: ["first"] });
    const f = feedsFor(rows);
    const expected = f["row"]!.data.map((v, i) => v + 0.5 * normalAt(5, streamOf("view", "a.noise"), i, 3));
    expectClose(runLowered(rows, f)["value/first"]!.data, expected);
  });
});
