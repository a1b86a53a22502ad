import { describe, expect, it } from "vitest";
import { DEFAULT_MASK_COLOR, imageGridPng, type GridImage } from "../../cli/report/image-grid.js";
import { decode, key, type Picture } from "./picture.js";

const white = key([255, 255, 255]);
const byte = (v: number): number => Math.round(v * 255);
const grayKey = (v: number): string => key([byte(v), byte(v), byte(v)]);

/** The box of everything that is not page white: with an empty title, that is the images. */
function inkBox(p: Picture): { x0: number; y0: number; x1: number; y1: number } {
  return p.bounds((c) => c !== white)!;
}

/** Checks that each image pixel (ix, iy) became a scale×scale block of the expected colour. */
function expectBlocks(p: Picture, x0: number, y0: number, scale: number, expected: readonly (readonly string[])[]): void {
  expected.forEach((row, iy) =>
    row.forEach((color, ix) => {
      for (let dy = 0; dy < scale; dy++) {
        for (let dx = 0; dx < scale; dx++) expect(p.at(x0 + ix * scale + dx, y0 + iy * scale + dy), `pixel ${ix},${iy}`).toBe(color);
      }
    }),
  );
}

const one = (image: GridImage, scale = 3): Picture => decode(imageGridPng([{ title: "", images: [image] }], { scale }));

describe("imageGridPng", () => {
  it("upscales a grayscale image by nearest neighbour", () => {
    const p = one({ shape: [1, 2, 3], data: [0, 0.2, 0.4, 0.6, 0.8, 0.1] });
    const box = inkBox(p);
    expect([box.x1 - box.x0 + 1, box.y1 - box.y0 + 1]).toEqual([9, 6]);
    expectBlocks(p, box.x0, box.y0, 3, [
      [grayKey(0), grayKey(0.2), grayKey(0.4)],
      [grayKey(0.6), grayKey(0.8), grayKey(0.1)],
    ]);
  });

  it("draws [C=3, H, W] as colour and [H, W] as gray", () => {
    // Channel planes: red, green, blue. Pixel 0 is red, pixel 1 is blue.
    const rgb = one({ shape: [3, 1, 2], data: [1, 0, 0, 0, 0, 1] }, 2);
    const box = inkBox(rgb);
    expectBlocks(rgb, box.x0, box.y0, 2, [[key([255, 0, 0]), key([0, 0, 255])]]);
    const gray = one({ shape: [1, 2], data: [0.2, 0.4] }, 2);
    const g = inkBox(gray);
    expectBlocks(gray, g.x0, g.y0, 2, [[grayKey(0.2), grayKey(0.4)]]);
  });

  it("clamps values to [0, 1]", () => {
    const p = one({ shape: [1, 4], data: [-1, 2, Number.NEGATIVE_INFINITY, 0.5] }, 1);
    const x = p.bounds((c) => c === key([0, 0, 0]))!.x0;
    const y = p.bounds((c) => c === key([0, 0, 0]))!.y0;
    expect([p.at(x, y), p.at(x + 1, y), p.at(x + 2, y), p.at(x + 3, y)]).toEqual([grayKey(0), white, grayKey(0), grayKey(0.5)]);
  });

  it("paints NaN pixels, and only them, in the mask colour", () => {
    const hidden = new Set([0, 5, 6, 15]);
    const data = Array.from({ length: 16 }, (_, i) => (hidden.has(i) ? Number.NaN : 0.1 + i / 40));
    const scale = 2;
    const p = one({ shape: [1, 4, 4], data }, scale);
    const box = inkBox(p);
    const masked = p.where(DEFAULT_MASK_COLOR).map(([x, y]) => `${x},${y}`).sort();
    const expected = [...hidden]
      .flatMap((i) => {
        const [ix, iy] = [i % 4, Math.floor(i / 4)];
        return [0, 1].flatMap((dy) => [0, 1].map((dx) => `${box.x0 + ix * scale + dx},${box.y0 + iy * scale + dy}`));
      })
      .sort();
    expect(masked).toEqual(expected);
  });

  it("takes the mask colour as an option, and masks an RGB pixel when any channel is NaN", () => {
    const red = [200, 0, 0] as const;
    const p = decode(imageGridPng([{ title: "", images: [{ shape: [3, 1, 2], data: [0.5, 0.5, Number.NaN, 0.5, 0.5, 0.5] }] }], { scale: 1, maskColor: red }));
    const box = inkBox(p);
    // Planes R = [0.5, 0.5], G = [NaN, 0.5], B = [0.5, 0.5]: the first pixel lost its green.
    expect([p.at(box.x0, box.y0), p.at(box.x0 + 1, box.y0)]).toEqual([key(red), grayKey(0.5)]);
  });

  it("guesses the shape of flat images", () => {
    const mnist = one({ shape: [784], data: new Array(784).fill(0.5) }, 1);
    const m = inkBox(mnist);
    expect([m.x1 - m.x0 + 1, m.y1 - m.y0 + 1]).toEqual([28, 28]);
    // 768 = 3·16·16: a colour image, channel planes first.
    const rgb = one({ shape: [768], data: Array.from({ length: 768 }, (_, i) => (i < 256 ? 1 : 0)) }, 1);
    const r = inkBox(rgb);
    expect([r.x1 - r.x0 + 1, r.y1 - r.y0 + 1]).toEqual([16, 16]);
    expect(rgb.at(r.x0 + 5, r.y0 + 5)).toBe(key([255, 0, 0]));
    // 10 is neither: rows of ⌈√10⌉ = 4 pixels, the last row cut short.
    const odd = one({ shape: [10], data: new Array(10).fill(0) }, 1);
    const o = inkBox(odd);
    expect([o.x1 - o.x0 + 1, o.y1 - o.y0 + 1]).toEqual([4, 3]);
    expect(odd.where([0, 0, 0])).toHaveLength(10);
  });

  it("drops a leading batch of one", () => {
    const p = one({ shape: [1, 1, 2, 2], data: [0.1, 0.2, 0.3, 0.4] }, 1);
    const box = inkBox(p);
    expectBlocks(p, box.x0, box.y0, 1, [
      [grayKey(0.1), grayKey(0.2)],
      [grayKey(0.3), grayKey(0.4)],
    ]);
  });

  it("shows other channel counts as grayscale tiles side by side", () => {
    const p = one({ shape: [2, 1, 2], data: [0.1, 0.2, 0.3, 0.4] }, 1);
    const box = inkBox(p);
    expect([box.x1 - box.x0 + 1, box.y1 - box.y0 + 1]).toEqual([5, 1]);
    expectBlocks(p, box.x0, box.y0, 1, [[grayKey(0.1), grayKey(0.2), white, grayKey(0.3), grayKey(0.4)]]);
  });

  it("lays out rows with their titles on the left and a gap between cells", () => {
    // 3×3 at scale 3 is taller than the 7-pixel font, so the images set the row height.
    const image = (v: number): GridImage => ({ shape: [1, 3, 3], data: new Array(9).fill(v) });
    const p = decode(
      imageGridPng(
        [
          { title: "input", images: [image(0.2), image(0.3)] },
          { title: "reconstruction", images: [image(0.4), image(0.5)] },
        ],
        { scale: 3, gap: 2 },
      ),
    );
    const cells = [0.2, 0.3, 0.4, 0.5].map((v) => p.bounds((c) => c === grayKey(v))!);
    for (const c of cells) expect([c.x1 - c.x0 + 1, c.y1 - c.y0 + 1]).toEqual([9, 9]);
    // Same columns in both rows, one gap apart; the second row one gap below the first.
    expect(cells[1]!.x0 - cells[0]!.x1 - 1).toBe(2);
    expect(cells[2]!.x0).toBe(cells[0]!.x0);
    expect(cells[3]!.x0).toBe(cells[1]!.x0);
    expect(cells[2]!.y0 - cells[0]!.y1 - 1).toBe(2);
    // The titles are black text left of the images, the longer one wider.
    const title = p.bounds((c) => c === key([0, 0, 0]))!;
    expect(title.x1).toBeLessThan(cells[0]!.x0);
    expect(title.x1 - title.x0 + 1).toBeGreaterThan(12 * 6);
    expect(p.width).toBe(cells[1]!.x1 + 1 + 4);
  });

  it("draws an empty grid as a valid picture", () => {
    const p = decode(imageGridPng([]));
    expect(p.width).toBeGreaterThan(0);
    expect(p.height).toBeGreaterThan(0);
    const q = decode(imageGridPng([{ title: "none", images: [] }]));
    expect(q.where([0, 0, 0]).length).toBeGreaterThan(10);
  });

  it("rejects a shape that does not fit the data", () => {
    expect(() => imageGridPng([{ title: "", images: [{ shape: [1, 28, 28], data: new Array(783).fill(0) }] }])).toThrow(RangeError);
    expect(() => imageGridPng([{ title: "", images: [{ shape: [2, 2, 2, 2], data: new Array(16).fill(0) }] }])).toThrow(RangeError);
    expect(() => imageGridPng([], { scale: 0 })).toThrow(RangeError);
  });
});
