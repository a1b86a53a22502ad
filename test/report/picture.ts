import { PNG } from "pngjs";

/** A decoded PNG with helpers for asking where colours are. */
export interface Picture {
  readonly width: number;
  readonly height: number;
  /** The RGB colour at (x, y), as "r,g,b" so that colours compare with ===. */
  at(x: number, y: number): string;
  /** Every pixel whose colour is `rgb`, as [x, y] pairs in row order. */
  where(rgb: readonly number[]): [number, number][];
  /** The smallest rectangle holding every pixel for which `test` holds, or null. */
  bounds(test: (color: string) => boolean): { x0: number; y0: number; x1: number; y1: number } | null;
}

/** Decodes a PNG produced by cli/report, checking that it is a well-formed opaque RGBA image. */
export function decode(png: Buffer): Picture {
  const image = PNG.sync.read(png);
  const { width, height, data } = image;
  const at = (x: number, y: number): string => {
    const i = (y * width + x) * 4;
    return `${data[i]},${data[i + 1]},${data[i + 2]}`;
  };
  return {
    width,
    height,
    at,
    where(rgb) {
      const [r, g, b] = rgb as [number, number, number];
      const out: [number, number][] = [];
      // Compared as bytes, not as strings: pictures have hundreds of thousands of pixels.
      for (let i = 0; i < width * height; i++) {
        if (data[4 * i] === r && data[4 * i + 1] === g && data[4 * i + 2] === b) out.push([i % width, Math.floor(i / width)]);
      }
      return out;
    },
    bounds(test) {
      let box: { x0: number; y0: number; x1: number; y1: number } | null = null;
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          if (!test(at(x, y))) continue;
          box = box
            ? { x0: Math.min(box.x0, x), y0: Math.min(box.y0, y), x1: Math.max(box.x1, x), y1: Math.max(box.y1, y) }
            : { x0: x, y0: y, x1: x, y1: y };
        }
      }
      return box;
    },
  };
}

/** The key `Picture.at` uses for a colour. */
export function key(rgb: readonly number[]): string {
  return rgb.join(",");
}
