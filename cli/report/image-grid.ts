import { GLYPH_HEIGHT, textWidth } from "./font.js";
import { Canvas, type Rgb } from "./png.js";

/** An image as a tensor: its shape and its values, row-major, nominally in [0, 1]. */
export interface GridImage {
  readonly shape: readonly number[];
  readonly data: ArrayLike<number>;
}

/** One row of the grid: a title drawn on the left, then the images left to right. */
export interface GridRow {
  readonly title: string;
  readonly images: readonly GridImage[];
}

/** How to draw an image grid. */
export interface ImageGridOptions {
  /** Each image pixel becomes a scale×scale block (nearest neighbour; default 3). */
  readonly scale?: number;
  /** The colour of NaN pixels, the ones a mask hid (default {@link DEFAULT_MASK_COLOR}). */
  readonly maskColor?: Rgb;
  /** Pixels between cells and between rows (default 2). */
  readonly gap?: number;
}

/**
 * The default colour of masked (NaN) pixels: a mid grey-blue. It is not a grey,
 * so no value of a grayscale image can be mistaken for it, and it is dark enough
 * to stand out on white digits and light enough to stand out on a black background.
 */
export const DEFAULT_MASK_COLOR: Rgb = [96, 120, 168];

const page: Rgb = [255, 255, 255];
const ink: Rgb = [0, 0, 0];
const margin = 4;

/**
 * Draws rows of images (for instance "input", "masked input", "reconstruction")
 * as one PNG, with each row's title on the left.
 *
 * Shapes: `[C, H, W]` with C = 1 is grayscale and C = 3 is RGB; any other C
 * (2, 4, 64 feature maps, …) is drawn as C grayscale tiles side by side with a
 * one-pixel gap, since no single colour mapping is right for all of them.
 * `[H, W]` is grayscale; leading dimensions of size 1 (a batch of one) are
 * dropped. A flat `[N]` is taken as a square grayscale image when N is a
 * square (784 → 28×28), else as a square RGB image when N/3 is a square
 * (768 → 3×16×16), else as rows of ⌈√N⌉ pixels with the last row left blank
 * where it runs out.
 *
 * Values are clamped to [0, 1] (so +∞ is white and −∞ black); NaN marks a pixel
 * the mask hid and is drawn in the mask colour; in an RGB image a pixel is
 * masked when any of its channels is NaN.
 *
 * A shape whose size differs from the data's length, or that is not one of the
 * above, is a bug in the caller and throws a RangeError.
 */
export function imageGridPng(rows: readonly GridRow[], options: ImageGridOptions = {}): Buffer {
  const scale = options.scale ?? 3;
  const gap = options.gap ?? 2;
  if (!Number.isInteger(scale) || scale < 1) throw new RangeError(`imageGridPng: scale must be a positive integer, got ${scale}`);
  if (!Number.isInteger(gap) || gap < 0) throw new RangeError(`imageGridPng: gap must be a non-negative integer, got ${gap}`);
  const maskColor = options.maskColor ?? DEFAULT_MASK_COLOR;

  const cells = rows.map((row) => row.images.map((image) => toRaster(image)));
  const titleWidth = Math.max(0, ...rows.map((r) => textWidth(r.title)));
  const labelColumn = titleWidth > 0 ? titleWidth + 8 : 0;
  const rowWidths = cells.map((row) => row.reduce((w, c, i) => w + (i > 0 ? gap : 0) + c.width * scale, 0));
  const rowHeights = cells.map((row) => Math.max(GLYPH_HEIGHT, ...row.map((c) => c.height * scale)));
  const width = 2 * margin + labelColumn + Math.max(0, ...rowWidths);
  const height = 2 * margin + rowHeights.reduce((h, r, i) => h + (i > 0 ? gap : 0) + r, 0);

  const canvas = new Canvas(width, height, page);
  let y = margin;
  rows.forEach((row, r) => {
    canvas.text(margin, y + Math.floor((rowHeights[r]! - GLYPH_HEIGHT) / 2), row.title, ink);
    let x = margin + labelColumn;
    for (const cell of cells[r]!) {
      drawRaster(canvas, cell, x, y, scale, maskColor);
      x += cell.width * scale + gap;
    }
    y += rowHeights[r]! + gap;
  });
  return canvas.toPng();
}

/** A decided picture: its size in image pixels and each pixel's colour, or null for page background. */
interface Raster {
  readonly width: number;
  readonly height: number;
  readonly pixel: (x: number, y: number) => Rgb | "masked" | null;
}

/** Decides how an image tensor is shown (see {@link imageGridPng}) and checks its size. */
function toRaster(image: GridImage): Raster {
  const size = image.shape.reduce((a, b) => a * b, 1);
  if (image.shape.some((d) => !Number.isInteger(d) || d < 0) || size !== image.data.length) {
    throw new RangeError(`imageGridPng: shape [${image.shape.join(", ")}] does not fit ${image.data.length} values`);
  }
  let shape = [...image.shape];
  while (shape.length > 3 && shape[0] === 1) shape = shape.slice(1);
  const data = image.data;
  if (shape.length === 1) {
    const n = shape[0]!;
    const side = Math.round(Math.sqrt(n));
    const rgbSide = Math.round(Math.sqrt(n / 3));
    if (side * side === n) shape = [1, side, side];
    else if (n % 3 === 0 && 3 * rgbSide * rgbSide === n) shape = [3, rgbSide, rgbSide];
    else {
      const w = Math.max(1, Math.ceil(Math.sqrt(n)));
      return { width: w, height: Math.ceil(n / w), pixel: (x, y) => (y * w + x < n ? gray(data[y * w + x]!) : null) };
    }
  }
  if (shape.length === 2) shape = [1, ...shape];
  if (shape.length !== 3) {
    throw new RangeError(`imageGridPng: cannot show shape [${image.shape.join(", ")}] as an image`);
  }
  const [c, h, w] = shape as [number, number, number];
  const plane = h * w;
  if (c === 3) {
    return { width: w, height: h, pixel: (x, y) => rgb(data[y * w + x]!, data[plane + y * w + x]!, data[2 * plane + y * w + x]!) };
  }
  // One channel, or several shown as grayscale tiles with a one-pixel page-coloured gap between them.
  const tileWidth = w + 1;
  return {
    width: c === 0 ? 0 : c * tileWidth - 1,
    height: h,
    pixel: (x, y) => {
      const channel = Math.floor(x / tileWidth);
      const tx = x % tileWidth;
      return tx === w ? null : gray(data[channel * plane + y * w + tx]!);
    },
  };
}

function drawRaster(canvas: Canvas, raster: Raster, x0: number, y0: number, scale: number, maskColor: Rgb): void {
  for (let y = 0; y < raster.height; y++) {
    for (let x = 0; x < raster.width; x++) {
      const color = raster.pixel(x, y);
      if (color === null) continue;
      canvas.rect(x0 + x * scale, y0 + y * scale, scale, scale, color === "masked" ? maskColor : color);
    }
  }
}

function gray(v: number): Rgb | "masked" {
  if (Number.isNaN(v)) return "masked";
  const b = toByte(v);
  return [b, b, b];
}

function rgb(r: number, g: number, b: number): Rgb | "masked" {
  if (Number.isNaN(r) || Number.isNaN(g) || Number.isNaN(b)) return "masked";
  return [toByte(r), toByte(g), toByte(b)];
}

function toByte(v: number): number {
  return Math.round(Math.min(1, Math.max(0, v)) * 255);
}
