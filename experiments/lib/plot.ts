/**
 * Plots as PNG with pngjs: a line plot of accuracy against labels per class
 * (log scale), a scatter plot of 2-D points coloured by label, and picture
 * strips. The only text drawn is numbers (a 3x5 pixel font, scaled); RESULTS.md
 * gives each picture's axes and legend. The attention picture writes its text's
 * characters along its edges with the 5x7 font of repr's own reports.
 */
import { PNG } from "pngjs";
import { Canvas as TextCanvas } from "../../cli/report/png.js";

export type Rgb = readonly [number, number, number];

/** Ten distinct colours (Tableau's palette), for methods or classes. */
export const PALETTE: readonly Rgb[] = [
  [31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189],
  [140, 86, 75], [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207],
];

export const PALETTE_NAMES = ["blue", "orange", "green", "red", "purple", "brown", "pink", "grey", "olive", "cyan"];

/** Digits 0-9 and '%' in a 3x5 pixel font: five rows of three bits, top row first. */
const GLYPHS: Record<string, readonly number[]> = {
  "0": [7, 5, 5, 5, 7], "1": [2, 6, 2, 2, 7], "2": [7, 1, 7, 4, 7], "3": [7, 1, 7, 1, 7], "4": [5, 5, 7, 1, 1],
  "5": [7, 4, 7, 1, 7], "6": [7, 4, 7, 5, 7], "7": [7, 1, 1, 1, 1], "8": [7, 5, 7, 5, 7], "9": [7, 5, 7, 1, 7],
  "%": [5, 1, 2, 4, 5],
};

class Canvas {
  readonly png: PNG;
  constructor(readonly width: number, readonly height: number) {
    this.png = new PNG({ width, height });
    this.png.data.fill(255);
  }
  set(x: number, y: number, c: Rgb): void {
    x = Math.round(x);
    y = Math.round(y);
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const o = (y * this.width + x) * 4;
    this.png.data[o] = c[0];
    this.png.data[o + 1] = c[1];
    this.png.data[o + 2] = c[2];
    this.png.data[o + 3] = 255;
  }
  disc(x: number, y: number, r: number, c: Rgb): void {
    for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) if (dx * dx + dy * dy <= r * r) this.set(x + dx, y + dy, c);
  }
  line(x0: number, y0: number, x1: number, y1: number, c: Rgb, thick = 1): void {
    const n = Math.max(1, Math.ceil(Math.hypot(x1 - x0, y1 - y0)));
    for (let i = 0; i <= n; i++) {
      const x = x0 + ((x1 - x0) * i) / n;
      const y = y0 + ((y1 - y0) * i) / n;
      if (thick <= 1) this.set(x, y, c);
      else this.disc(x, y, thick >> 1, c);
    }
  }
  /** Draws `text` (digits and '%') with its top-left corner at (x, y), each font pixel `scale` pixels wide. */
  text(x: number, y: number, text: string, scale = 2, c: Rgb = [0, 0, 0]): void {
    [...text].forEach((ch, k) => {
      const rows = GLYPHS[ch];
      if (!rows) return;
      rows.forEach((bits, r) => {
        for (let b = 0; b < 3; b++) {
          if (!(bits & (4 >> b))) continue;
          for (let dy = 0; dy < scale; dy++) for (let dx = 0; dx < scale; dx++) this.set(x + (k * 4 + b) * scale + dx, y + r * scale + dy, c);
        }
      });
    });
  }
  encode(): Buffer {
    return PNG.sync.write(this.png);
  }
}

export interface Series {
  readonly colour: Rgb;
  /** (labels per class, accuracy in percent, sd) */
  readonly points: readonly { x: number; y: number; sd: number }[];
}

/**
 * Accuracy (0-100%, grid lines every 10%) against labels per class on a log
 * axis from `xs[0]` to `xs[last]` (grid lines at each of xs); error bars are ±1 sd.
 */
export function accuracyPlot(series: readonly Series[], xs: readonly number[]): Buffer {
  const W = 640, H = 480, L = 60, R = 30, T = 30, B = 50;
  const c = new Canvas(W, H);
  const lx = (x: number): number => L + ((Math.log10(x) - Math.log10(xs[0]!)) / (Math.log10(xs.at(-1)!) - Math.log10(xs[0]!) || 1)) * (W - L - R);
  const ly = (y: number): number => H - B - (y / 100) * (H - T - B);
  const grid: Rgb = [225, 225, 225];
  for (let p = 0; p <= 100; p += 10) c.line(L, ly(p), W - R, ly(p), p % 50 === 0 ? [170, 170, 170] : grid);
  for (const x of xs) {
    c.line(lx(x), T, lx(x), H - B, [170, 170, 170]);
    c.text(lx(x) - String(x).length * 4, H - B + 10, String(x));
  }
  for (const p of [0, 50, 100]) c.text(L - 8 - `${p}%`.length * 8, ly(p) - 5, `${p}%`);
  c.line(L, H - B, W - R, H - B, [0, 0, 0]);
  c.line(L, T, L, H - B, [0, 0, 0]);
  for (const s of series) {
    const pts = [...s.points].sort((a, b) => a.x - b.x);
    for (let i = 1; i < pts.length; i++) c.line(lx(pts[i - 1]!.x), ly(pts[i - 1]!.y), lx(pts[i]!.x), ly(pts[i]!.y), s.colour, 3);
    for (const p of pts) {
      c.line(lx(p.x), ly(p.y - p.sd), lx(p.x), ly(p.y + p.sd), s.colour, 1);
      c.disc(lx(p.x), ly(p.y), 5, s.colour);
    }
  }
  return c.encode();
}

/** A scatter plot of 2-D points, coloured by label, scaled to fill the picture. */
export function scatterPlot(points: Float32Array, labels: ArrayLike<number>): Buffer {
  const W = 600, H = 600, M = 20;
  const c = new Canvas(W, H);
  const n = points.length / 2;
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (let i = 0; i < n; i++) {
    x0 = Math.min(x0, points[2 * i]!);
    x1 = Math.max(x1, points[2 * i]!);
    y0 = Math.min(y0, points[2 * i + 1]!);
    y1 = Math.max(y1, points[2 * i + 1]!);
  }
  const sx = (W - 2 * M) / (x1 - x0 || 1), sy = (H - 2 * M) / (y1 - y0 || 1);
  for (let i = 0; i < n; i++) c.disc(M + (points[2 * i]! - x0) * sx, H - M - (points[2 * i + 1]! - y0) * sy, 2, PALETTE[labels[i]! % 10]!);
  return c.encode();
}

/** Rows of RGB tiles (each `size`x`size`, bytes RGB per pixel) with a 2-pixel white gap, scaled up by `zoom`. */
export function tileRows(rows: readonly (readonly Uint8Array[])[], size: number, zoom = 3): Buffer {
  const cols = Math.max(...rows.map((r) => r.length));
  const cell = size * zoom + 2;
  const c = new Canvas(cols * cell + 2, rows.length * cell + 2);
  rows.forEach((row, r) =>
    row.forEach((tile, k) => {
      for (let y = 0; y < size * zoom; y++) {
        for (let x = 0; x < size * zoom; x++) {
          const s = (Math.floor(y / zoom) * size + Math.floor(x / zoom)) * 3;
          c.set(2 + k * cell + x, 2 + r * cell + y, [tile[s]!, tile[s + 1]!, tile[s + 2]!]);
        }
      }
    }),
  );
  return c.encode();
}

/**
 * Attention weights `[heads, L, L]` of one text as a picture: one square per
 * head, two to a row, the query position down and the key position across,
 * each character written along both edges (a space as `_`, a newline as `/`).
 * A cell is darker for more weight; each row (query) is scaled to its own
 * largest weight, so the rows late in the text, spread over many keys, show
 * where their weight goes as clearly as the first ones.
 */
export function attentionPicture(weights: ArrayLike<number>, heads: number, text: string): Buffer {
  const L = [...text].length;
  if (weights.length !== heads * L * L) throw new Error(`attentionPicture: ${weights.length} weights are not ${heads} heads of ${L}x${L}`);
  const chars = [...text].map((ch) => (ch === " " ? "_" : ch === "\n" ? "/" : ch));
  const cell = 9;
  const margin = 12; // the characters along the top and left of each square
  const gap = 16;
  const title = 12;
  const side = margin + L * cell;
  const cols = Math.min(heads, 2);
  const rows = Math.ceil(heads / cols);
  const c = new TextCanvas(cols * side + (cols - 1) * gap + 4, rows * (title + side) + (rows - 1) * gap + 4);
  for (let h = 0; h < heads; h++) {
    const x0 = 2 + (h % cols) * (side + gap);
    const top = 2 + Math.floor(h / cols) * (title + side + gap);
    const y0 = top + title;
    c.text(x0 + margin, top, `head ${h + 1}`, [0, 0, 0]);
    for (let i = 0; i < L; i++) {
      c.text(x0 + margin + i * cell + 2, y0 + 2, chars[i]!, [90, 90, 90]);
      c.text(x0 + 3, y0 + margin + i * cell + 1, chars[i]!, [90, 90, 90]);
    }
    for (let q = 0; q < L; q++) {
      let max = 0;
      for (let k = 0; k < L; k++) max = Math.max(max, weights[(h * L + q) * L + k]!);
      for (let k = 0; k < L; k++) {
        const v = max > 0 ? weights[(h * L + q) * L + k]! / max : 0;
        // White (no weight) to dark blue (the row's largest).
        const colour: Rgb = [Math.round(255 - v * 247), Math.round(255 - v * 207), Math.round(255 - v * 120)];
        c.rect(x0 + margin + k * cell, y0 + margin + q * cell, cell - 1, cell - 1, colour);
      }
    }
  }
  return c.toPng();
}
