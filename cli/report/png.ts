import { PNG } from "pngjs";
import { GLYPH_ADVANCE, GLYPH_HEIGHT, GLYPH_WIDTH, glyphFor } from "./font.js";

/** An opaque colour as red, green and blue bytes (0–255). */
export type Rgb = readonly [number, number, number];

/** Encodes 8-bit RGBA pixels (row-major, four bytes per pixel) as a PNG file. */
export function encodePng(width: number, height: number, rgba: Uint8Array): Buffer {
  checkSize(width, height);
  if (rgba.length !== width * height * 4) {
    throw new RangeError(`encodePng: expected ${width * height * 4} bytes for ${width}x${height}, got ${rgba.length}`);
  }
  const png = new PNG({ width, height });
  png.data = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.length);
  return PNG.sync.write(png);
}

/**
 * A small raster to draw reports on: opaque RGBA pixels, integer coordinates
 * with the origin at the top left, and drawing that silently clips at the edges
 * so that callers need not guard every pixel.
 */
export class Canvas {
  /** The pixels, four bytes (RGBA) per pixel, row after row. */
  readonly pixels: Uint8Array;

  /** Makes a canvas filled with the background colour (white unless given). */
  constructor(
    readonly width: number,
    readonly height: number,
    background: Rgb = [255, 255, 255],
  ) {
    checkSize(width, height);
    this.pixels = new Uint8Array(width * height * 4);
    this.fill(background);
  }

  /** Paints every pixel with one colour. */
  fill(color: Rgb): void {
    this.rect(0, 0, this.width, this.height, color);
  }

  /** Paints one pixel; coordinates are rounded, and pixels outside the canvas are ignored. */
  setPixel(x: number, y: number, color: Rgb): void {
    const px = Math.round(x);
    const py = Math.round(y);
    if (px < 0 || py < 0 || px >= this.width || py >= this.height) return;
    const i = (py * this.width + px) * 4;
    this.pixels[i] = color[0];
    this.pixels[i + 1] = color[1];
    this.pixels[i + 2] = color[2];
    this.pixels[i + 3] = 255;
  }

  /** The colour of one pixel (integer coordinates inside the canvas). */
  getPixel(x: number, y: number): Rgb {
    const i = (y * this.width + x) * 4;
    return [this.pixels[i]!, this.pixels[i + 1]!, this.pixels[i + 2]!];
  }

  /**
   * Draws a one-pixel line between two points, both ends included (Bresenham).
   * The line is first clipped to the canvas, so far-away or non-finite ends
   * cost nothing and cannot make the loop run for ever.
   */
  line(x0: number, y0: number, x1: number, y1: number, color: Rgb): void {
    const clipped = clipLine(x0, y0, x1, y1, this.width, this.height);
    if (clipped === null) return;
    let x = Math.round(clipped[0]);
    let y = Math.round(clipped[1]);
    const xe = Math.round(clipped[2]);
    const ye = Math.round(clipped[3]);
    const dx = Math.abs(xe - x);
    const dy = -Math.abs(ye - y);
    const sx = x < xe ? 1 : -1;
    const sy = y < ye ? 1 : -1;
    let err = dx + dy;
    for (;;) {
      this.setPixel(x, y, color);
      if (x === xe && y === ye) return;
      const e2 = 2 * err;
      if (e2 >= dy) {
        err += dy;
        x += sx;
      }
      if (e2 <= dx) {
        err += dx;
        y += sy;
      }
    }
  }

  /** Paints a w×h rectangle whose top-left pixel is (x, y); with `filled` false, only its one-pixel outline. */
  rect(x: number, y: number, w: number, h: number, color: Rgb, filled = true): void {
    const x0 = Math.max(0, Math.round(x));
    const y0 = Math.max(0, Math.round(y));
    const x1 = Math.min(this.width, Math.round(x + w));
    const y1 = Math.min(this.height, Math.round(y + h));
    if (x1 <= x0 || y1 <= y0) return;
    if (!filled) {
      const r = Math.round(x + w) - 1;
      const b = Math.round(y + h) - 1;
      this.line(x, y, r, y, color);
      this.line(x, b, r, b, color);
      this.line(x, y, x, b, color);
      this.line(r, y, r, b, color);
      return;
    }
    for (let py = y0; py < y1; py++) {
      for (let px = x0; px < x1; px++) this.setPixel(px, py, color);
    }
  }

  /**
   * Draws text with the built-in 5×7 font, its top-left corner at (x, y), each
   * font pixel as a scale×scale block. Returns the width drawn, so that callers
   * can place the next piece of text.
   */
  text(x: number, y: number, text: string, color: Rgb, scale = 1): number {
    let cx = Math.round(x);
    const top = Math.round(y);
    const chars = [...text];
    for (const ch of chars) {
      const glyph = glyphFor(ch);
      for (let gy = 0; gy < GLYPH_HEIGHT; gy++) {
        for (let gx = 0; gx < GLYPH_WIDTH; gx++) {
          if (glyph[gy]![gx]) this.rect(cx + gx * scale, top + gy * scale, scale, scale, color);
        }
      }
      cx += GLYPH_ADVANCE * scale;
    }
    return chars.length === 0 ? 0 : (chars.length * GLYPH_ADVANCE - 1) * scale;
  }

  /** Encodes the canvas as a PNG file. */
  toPng(): Buffer {
    return encodePng(this.width, this.height, this.pixels);
  }
}

/**
 * Clips a segment to the canvas plus a one-pixel border (Cohen–Sutherland), so
 * that pixels that round into the canvas are kept; null when nothing is left or
 * an end is not finite.
 */
function clipLine(x0: number, y0: number, x1: number, y1: number, width: number, height: number): [number, number, number, number] | null {
  if (![x0, y0, x1, y1].every(Number.isFinite)) return null;
  const [xmin, ymin, xmax, ymax] = [-1, -1, width, height];
  const outcode = (x: number, y: number): number => (x < xmin ? 1 : 0) | (x > xmax ? 2 : 0) | (y < ymin ? 4 : 0) | (y > ymax ? 8 : 0);
  let c0 = outcode(x0, y0);
  let c1 = outcode(x1, y1);
  // Each round moves one end onto an edge; four edges per end bound the rounds.
  for (let round = 0; round < 8; round++) {
    if ((c0 | c1) === 0) return [x0, y0, x1, y1];
    if ((c0 & c1) !== 0) return null;
    const out = c0 !== 0 ? c0 : c1;
    // Half-differences cannot overflow even for ends near ±1.8e308, and only their ratio matters.
    const hx = x1 / 2 - x0 / 2;
    const hy = y1 / 2 - y0 / 2;
    let x: number;
    let y: number;
    if (out & 8) [x, y] = [x0 + (hx / hy) * (ymax - y0), ymax];
    else if (out & 4) [x, y] = [x0 + (hx / hy) * (ymin - y0), ymin];
    else if (out & 2) [x, y] = [xmax, y0 + (hy / hx) * (xmax - x0)];
    else [x, y] = [xmin, y0 + (hy / hx) * (xmin - x0)];
    if (!Number.isFinite(x) || !Number.isFinite(y)) return null;
    if (out === c0) {
      [x0, y0] = [x, y];
      c0 = outcode(x0, y0);
    } else {
      [x1, y1] = [x, y];
      c1 = outcode(x1, y1);
    }
  }
  return null;
}

function checkSize(width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`image size must be positive integers, got ${width}x${height}`);
  }
}
