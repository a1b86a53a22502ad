/**
 * Masks, lowered and run: which positions each strategy hides (recomputed
 * here from the shared generator's uniforms), exact counts per example for any
 * seed and step, independent draws per example, visible patches in position
 * order carrying their positions, `unmask` restoring order with the inverse
 * permutation, and the unmasked form where masks are off.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { streamOf, uniformAt } from "../../runtime/rng/index.js";
import { at, expectClose, feedsFor, fill, lowerSrc, naiveLinear, noise, runLowered, type T } from "./harness.js";

/** The hidden positions of example b: the `hidden` of lowest uniform (ties by position), as the spec draws them. */
function expectedHidden(mask: string, seed: number, step: number, b: number, n: number, hidden: number): Set<number> {
  const stream = streamOf("mask", mask);
  const u = Array.from({ length: n }, (_, p) => uniformAt(seed, stream, b * n + p, step));
  const order = u.map((_, p) => p).sort((p, q) => u[p]! - u[q]! || p - q);
  return new Set(order.slice(0, hidden));
}

const patchMae = (sees: string, extra = "") => `model M {
  input image: f32[1, 4, 6]
  mask m = random_patches(image, size: 2, ratio: 0.5, encoder_sees: ${sees})
  encoder f = dense(3)
  let seen = m.input
  let hidden = m.masked
${extra}  loss l = mse(m.input -> flatten, m.input -> flatten)
}
`;

/** patchify by hand: [C, H, W] of example b → patch n, element k. */
function patchValue(x: T, b: number, n: number, k: number, s: number, gw: number): number {
  const [ch, i, j] = [Math.floor(k / (s * s)), Math.floor(k / s) % s, k % s];
  return at(x, b, ch, Math.floor(n / gw) * s + i, (n % gw) * s + j);
}

describe("random_patches, encoder_sees: visible", () => {
  const src = patchMae("visible", "  decoder g = unmask(m)\n  let restored = g(f(m.input))\n");
  const lowered = lowerSrc(src, { values: ["seen", "hidden", "restored"] });
  const feeds = feedsFor(lowered);
  const out = runLowered(lowered, feeds);
  const x = feeds["image"]!;
  const [n, nMasked, gw] = [6, 3, 3];

  it("hides exactly round(ratio·N) patches per example, drawn from mask/m at the step", () => {
    const masked = out["value/hidden"]!;
    expect(masked.shape).toEqual([2, 1, 4, 6]);
    for (let b = 0; b < 2; b++) {
      const hidden = expectedHidden("m", 5, 3, b, n, nMasked);
      for (let i = 0; i < 4; i++)
        for (let j = 0; j < 6; j++) expect(at(masked, b, 0, i, j)).toBe(hidden.has(Math.floor(i / 2) * gw + Math.floor(j / 2)) ? 1 : 0);
    }
  });

  it("m.input holds the visible patches in increasing position order", () => {
    const seen = out["value/seen"]!;
    expect(seen.shape).toEqual([2, 3, 4]);
    for (let b = 0; b < 2; b++) {
      const hidden = expectedHidden("m", 5, 3, b, n, nMasked);
      const visible = [...Array(n).keys()].filter((p) => !hidden.has(p));
      visible.forEach((p, row) => [0, 1, 2, 3].forEach((k) => expect(at(seen, b, row, k)).toBe(patchValue(x, b, p, k, 2, gw))));
    }
  });

  it("unmask puts row k at the k-th visible position and the token at hidden ones", () => {
    const restored = out["value/restored"]!;
    expect(restored.shape).toEqual([2, 6, 3]);
    const encoded = naiveLinear(out["value/seen"]!, feeds["f.weight"]!, feeds["f.bias"]!);
    const token = feeds["g.token"]!;
    for (let b = 0; b < 2; b++) {
      const hidden = expectedHidden("m", 5, 3, b, n, nMasked);
      let row = 0;
      for (let p = 0; p < n; p++) {
        const expected = hidden.has(p) ? token.data : [0, 1, 2].map((d) => at(encoded, b, row, d));
        if (!hidden.has(p)) row++;
        expectClose([0, 1, 2].map((d) => at(restored, b, p, d)), expected);
      }
    }
  });

  it("with the mask off, the encoder sees all patches and unmask passes them through", () => {
    const off = lowerSrc(patchMae("visible", "  decoder g = unmask(m)\n  output g(f(m.input))\n"));
    const f = feedsFor(off);
    const y = runLowered(off, f)["prediction"]!;
    expect(y.shape).toEqual([2, 6, 3]);
    const patches = fill([2, 6, 4], (i) => patchValue(f["image"]!, Math.floor(i / 24), Math.floor(i / 4) % 6, i % 4, 2, gw));
    expectClose(y.data, naiveLinear(patches, f["f.weight"]!, f["f.bias"]!).data);
  });

  it("positional adds the table rows of the visible patches' original positions", () => {
    const pos = lowerSrc(patchMae("visible", "  part p = positional(length: 6)\n  let placed = p(m.input)\n"), { values: ["seen", "placed"] });
    const f = feedsFor(pos);
    const o = runLowered(pos, f);
    const table = f["p.weight"]!;
    for (let b = 0; b < 2; b++) {
      const visible = [...Array(n).keys()].filter((p) => !expectedHidden("m", 5, 3, b, n, nMasked).has(p));
      visible.forEach((p, row) =>
        [0, 1, 2, 3].forEach((k) => expect(at(o["value/placed"]!, b, row, k)).toBeCloseTo(at(o["value/seen"]!, b, row, k) + at(table, p, k), 12)),
      );
    }
  });

  it("counts are exact and draws independent per example, for any seed and step", () => {
    const big = lowerSrc(`model M {\n  input image: f32[2, 8, 8]\n  mask m = random_patches(image, size: 2, ratio: 0.3)\n  decoder g = unmask(m)\n  let hidden = m.masked\n  let restored = g(m.input)\n  loss l = mse(m.input -> flatten, m.input -> flatten)\n}\n`, { batch: 4, values: ["hidden", "restored"], prediction: false });
    const image = fill([4, 2, 8, 8], (i) => noise(i));
    const token = fill([8], (i) => 10 + i);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 0, max: 10000 }), (seed, step) => {
        const out = runLowered(big, { image, "g.token": token, seed: { shape: [], data: [seed] }, step: { shape: [], data: [step] } });
        const hidden = out["value/hidden"]!;
        // unmask restores order with the inverse permutation: every visible patch back in place, the token elsewhere.
        for (let b = 0; b < 4; b++) {
          const set = expectedHidden("m", seed, step, b, 16, 5);
          for (let p = 0; p < 16; p++)
            for (let k = 0; k < 8; k++) expect(at(out["value/restored"]!, b, p, k)).toBe(set.has(p) ? token.data[k] : patchValue(image, b, p, k, 2, 4));
        }
        const sets = [0, 1, 2, 3].map((b) => {
          const set: number[] = [];
          for (let p = 0; p < 16; p++) if (at(hidden, b, 0, Math.floor(p / 4) * 2, (p % 4) * 2) === 1) set.push(p);
          // Every pixel of a patch, in every channel, is hidden with it.
          for (const p of set) expect(at(hidden, b, 1, Math.floor(p / 4) * 2 + 1, (p % 4) * 2 + 1)).toBe(1);
          return set;
        });
        for (let b = 0; b < 4; b++) {
          expect(sets[b]!.length).toBe(5); // round(0.3 · 16) = round(4.8)
          expect(new Set(sets[b])).toEqual(expectedHidden("m", seed, step, b, 16, 5));
        }
        return true;
      }),
      { numRuns: 25 },
    );
    // Over many steps, each patch is hidden about 30% of the time, and examples differ.
    let same = 0;
    const counts = new Array<number>(16).fill(0);
    for (let step = 0; step < 200; step++) {
      const sets = [0, 1].map((b) => [...expectedHidden("m", 9, step, b, 16, 5)].sort().join());
      if (sets[0] === sets[1]) same++;
      for (const p of expectedHidden("m", 9, step, 0, 16, 5)) counts[p]!++;
    }
    expect(same).toBeLessThan(3);
    for (const c of counts) expect(c / 200).toBeGreaterThan(0.15), expect(c / 200).toBeLessThan(0.45);
  });
});

describe("random_patches, encoder_sees: mask_token", () => {
  it("replaces each hidden patch by the mask's learned token", () => {
    const lowered = lowerSrc(patchMae("mask_token"), { values: ["seen"] });
    const token = lowered.params.find((p) => p.name === "m.token")!;
    expect(token).toMatchObject({ shape: [4], owner: "m", kind: "weight", trainable: true, init: { kind: "normal", std: 0.02 } });
    const feeds = feedsFor(lowered);
    const seen = runLowered(lowered, feeds)["value/seen"]!;
    expect(seen.shape).toEqual([2, 6, 4]);
    for (let b = 0; b < 2; b++) {
      const hidden = expectedHidden("m", 5, 3, b, 6, 3);
      for (let p = 0; p < 6; p++)
        for (let k = 0; k < 4; k++) expect(at(seen, b, p, k)).toBe(hidden.has(p) ? feeds["m.token"]!.data[k] : patchValue(feeds["image"]!, b, p, k, 2, 3));
    }
  });
});

describe("other strategies", () => {
  it("tokens: exactly round(ratio·L) ids become mask_token", () => {
    const lowered = lowerSrc(`model M {\n  input t: tokens(length: 10, vocab: 20, special: [mask])\n  mask m = tokens(t, ratio: 0.25, mask_token: mask)\n  let seen = m.input\n  let target = m.target\n  let hidden = m.masked\n  encoder f = embedding(vocab: 20, dim: 2)\n  loss l = mse(f(m.input), f(m.target))\n}\n`, { values: ["seen", "target", "hidden"] });
    const feeds = feedsFor(lowered, {}, (i) => i % 19);
    const out = runLowered(lowered, feeds);
    for (let b = 0; b < 2; b++) {
      const hidden = expectedHidden("m", 5, 3, b, 10, 3);
      for (let p = 0; p < 10; p++) {
        expect(at(out["value/hidden"]!, b, p)).toBe(hidden.has(p) ? 1 : 0);
        expect(at(out["value/seen"]!, b, p)).toBe(hidden.has(p) ? 19 : at(feeds["t"]!, b, p));
        expect(at(out["value/target"]!, b, p)).toBe(at(feeds["t"]!, b, p));
      }
    }
  });

  it("features: exactly round(ratio·n) elements become 0", () => {
    const lowered = lowerSrc(`model M {\n  input x: f32[2, 5]\n  mask m = features(x, ratio: 0.3)\n  let seen = m.input\n  let hidden = m.masked\n  loss l = mse(m.input, m.target) on m.masked\n}\n`, { values: ["seen", "hidden"] });
    const feeds = feedsFor(lowered);
    const out = runLowered(lowered, feeds);
    for (let b = 0; b < 2; b++) {
      const hidden = expectedHidden("m", 5, 3, b, 10, 3);
      for (let e = 0; e < 10; e++) {
        expect(out["value/hidden"]!.data[b * 10 + e]).toBe(hidden.has(e) ? 1 : 0);
        expect(out["value/seen"]!.data[b * 10 + e]).toBe(hidden.has(e) ? 0 : feeds["x"]!.data[b * 10 + e]);
      }
    }
    // The loss on the hidden elements: (0 − x)² averaged over them.
    const expected = [0, 1].flatMap((b) => [...expectedHidden("m", 5, 3, b, 10, 3)].map((e) => feeds["x"]!.data[b * 10 + e]! ** 2));
    expectClose(out["loss"]!.data, [expected.reduce((s, v) => s + v, 0) / expected.length]);
  });

  it("channels: the kept channels in the order listed, the others in increasing order", () => {
    const lowered = lowerSrc(`model M {\n  input image: f32[4, 2, 2]\n  mask m = channels(image, keep: [2, 0])\n  let seen = m.input\n  let target = m.target\n  let hidden = m.masked\n  loss l = mse(m.target, m.target)\n}\n`, { values: ["seen", "target", "hidden"] });
    const feeds = feedsFor(lowered);
    const out = runLowered(lowered, feeds);
    const x = feeds["image"]!;
    const pick = (list: number[]) => [0, 1].flatMap((b) => list.flatMap((c) => [0, 1, 2, 3].map((k) => x.data[(b * 4 + c) * 4 + k]!)));
    expect(out["value/seen"]!.data).toEqual(pick([2, 0]));
    expect(out["value/target"]!.data).toEqual(pick([1, 3]));
    expect(out["value/hidden"]!.data).toEqual(new Array(16).fill(1));
  });

  it("next_token: input x[0..L−2], target x[1..L−1]", () => {
    const lowered = lowerSrc(`model M {\n  input t: tokens(length: 5, vocab: 9)\n  mask m = next_token(t)\n  let seen = m.input\n  let target = m.target\n  encoder f = embedding(vocab: 9, dim: 2)\n  loss l = mse(f(m.input), f(m.target))\n}\n`, { values: ["seen", "target"] });
    const feeds = feedsFor(lowered, {}, (i) => (i * 3) % 9);
    const out = runLowered(lowered, feeds);
    const t = feeds["t"]!.data;
    expect(out["value/seen"]!.data).toEqual([...t.slice(0, 4), ...t.slice(5, 9)]);
    expect(out["value/target"]!.data).toEqual([...t.slice(1, 5), ...t.slice(6, 10)]);
  });
});
