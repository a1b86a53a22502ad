import { textWidth, GLYPH_HEIGHT } from "./font.js";
import { Canvas, type Rgb } from "./png.js";
import { linearAxis, logAxis, tickLabel, type Axis } from "./ticks.js";

/** One line on the chart: a phase of a pipeline and its losses by global optimizer step. */
export interface LossSeries {
  readonly name: string;
  readonly points: readonly { readonly step: number; readonly loss: number }[];
}

/** How to draw a loss chart. */
export interface LossCurveOptions {
  /** Drawn centred above the chart. */
  readonly title?: string;
  /** Picture width in pixels (default 800). */
  readonly width?: number;
  /** Picture height in pixels (default 480). */
  readonly height?: number;
  /**
   * Log-scale y axis. When left out, the axis is logarithmic exactly when every
   * loss is positive and the losses span more than two decades (max/min > 100),
   * since a linear axis would then flatten everything after the first drop.
   */
  readonly logY?: boolean;
}

/**
 * Above this many points a series is drawn as its raw losses in a pale tint
 * with an exponential moving average on top, because per-batch noise would
 * otherwise hide the trend.
 */
export const SMOOTHING_THRESHOLD = 50;

// Tableau's ten categorical colours: distinguishable from each other, and
// none is the black of the axes or the grey of the grid.
const palette: readonly Rgb[] = [
  [31, 119, 180],
  [255, 127, 14],
  [44, 160, 44],
  [214, 39, 40],
  [148, 103, 189],
  [140, 86, 75],
  [227, 119, 194],
  [127, 127, 127],
  [188, 189, 34],
  [23, 190, 207],
];

/** The colour of the i-th series (the palette repeats after ten). */
export function seriesColor(i: number): Rgb {
  return palette[i % palette.length]!;
}

const black: Rgb = [0, 0, 0];
const gridGrey: Rgb = [230, 230, 230];
const frameGrey: Rgb = [160, 160, 160];
const tickLength = 4;
const lineHeight = GLYPH_HEIGHT + 5;

/**
 * Draws training losses as a line chart and returns it as a PNG: x is the global
 * optimizer step, y the loss; one colour per series with a legend to the right
 * of the plot (so it never covers data), round-numbered ticks, and a
 * smoothing line over noisy series. Points whose step or loss is not finite are
 * skipped, as are losses ≤ 0 on a log axis; with no points at all the picture
 * shows empty axes and says "no data".
 */
export function lossCurvePng(series: readonly LossSeries[], options: LossCurveOptions = {}): Buffer {
  const width = options.width ?? 800;
  const height = options.height ?? 480;
  const finite = series.map((s) =>
    s.points.filter((p) => Number.isFinite(p.step) && Number.isFinite(p.loss)).sort((a, b) => a.step - b.step),
  );
  const all = finite.flat();
  const logY = options.logY ?? chooseLogScale(all.map((p) => p.loss));
  const plotted = logY ? finite.map((ps) => ps.filter((p) => p.loss > 0)) : finite;
  const flat = plotted.flat();

  const xAxis = flat.length === 0 ? linearAxis(0, 1, 6, true) : linearAxis(min(flat, (p) => p.step), max(flat, (p) => p.step), 8, true);
  const ys = flat.map((p) => (logY ? Math.log10(p.loss) : p.loss));
  const yAxis = chooseYAxis(ys, logY);
  const yLabels = yAxis.ticks.map((t) => (logY ? tickLabel(Number((10 ** t).toPrecision(6))) : tickLabel(t, tickStep(yAxis))));
  const xLabels = xAxis.ticks.map((t) => tickLabel(t, tickStep(xAxis)));

  // The margins are sized from what they hold, so long labels never overlap the plot.
  const legendWidth = series.length === 0 ? 0 : 34 + max(series, (s) => textWidth(s.name));
  const left = 8 + max(yLabels, (l) => textWidth(l)) + tickLength + 4;
  const right = Math.max(12, Math.ceil(textWidth(xLabels[xLabels.length - 1]!) / 2) + 4) + (legendWidth > 0 ? legendWidth + 12 : 0);
  const top = (options.title ? 30 : 8) + lineHeight;
  const bottom = tickLength + 4 + lineHeight + lineHeight + 4;
  const plot = { x0: left, y0: top, x1: Math.max(left + 10, width - right), y1: Math.max(top + 10, height - bottom) };
  const px = (x: number): number => plot.x0 + fraction(x, xAxis) * (plot.x1 - plot.x0);
  const py = (y: number): number => plot.y1 - fraction(y, yAxis) * (plot.y1 - plot.y0);

  const canvas = new Canvas(width, height);
  if (options.title) {
    const scale = textWidth(options.title, 2) <= width - 16 ? 2 : 1;
    canvas.text(Math.max(4, (width - textWidth(options.title, scale)) / 2), 8, options.title, black, scale);
  }

  // Grid first, so that data and axes are drawn over it.
  for (const t of xAxis.ticks) canvas.line(px(t), plot.y0, px(t), plot.y1, gridGrey);
  for (const t of yAxis.ticks) canvas.line(plot.x0, py(t), plot.x1, py(t), gridGrey);

  plotted.forEach((points, i) => {
    drawSeries(
      canvas,
      points.map((p) => [px(p.step), py(logY ? Math.log10(p.loss) : p.loss)] as const),
      seriesColor(i),
    );
  });
  if (flat.length === 0) {
    const msg = "no data";
    canvas.text((plot.x0 + plot.x1 - textWidth(msg)) / 2, (plot.y0 + plot.y1 - GLYPH_HEIGHT) / 2, msg, frameGrey);
  }

  canvas.line(plot.x0, plot.y1, plot.x1, plot.y1, black);
  canvas.line(plot.x0, plot.y0, plot.x0, plot.y1, black);
  xAxis.ticks.forEach((t, i) => {
    const x = px(t);
    canvas.line(x, plot.y1, x, plot.y1 + tickLength, black);
    canvas.text(x - textWidth(xLabels[i]!) / 2, plot.y1 + tickLength + 3, xLabels[i]!, black);
  });
  yAxis.ticks.forEach((t, i) => {
    const y = py(t);
    canvas.line(plot.x0 - tickLength, y, plot.x0, y, black);
    canvas.text(plot.x0 - tickLength - 3 - textWidth(yLabels[i]!), y - 3, yLabels[i]!, black);
  });
  const xTitle = "step";
  canvas.text((plot.x0 + plot.x1 - textWidth(xTitle)) / 2, plot.y1 + tickLength + 3 + lineHeight + 2, xTitle, black);
  canvas.text(Math.max(4, plot.x0 - textWidth("loss") / 2), plot.y0 - lineHeight, logY ? "loss (log)" : "loss", black);

  if (legendWidth > 0) drawLegend(canvas, series, plot.x1 + 12, plot.y0, legendWidth);
  return canvas.toPng();
}

/** The y axis for the plotted values (log10 of the losses on a log axis); [0, 1] or one decade when there are none. */
function chooseYAxis(ys: readonly number[], logY: boolean): Axis {
  if (ys.length === 0) return logY ? logAxis(0.1, 1) : linearAxis(0, 1);
  const lo = min(ys, (y) => y);
  const hi = max(ys, (y) => y);
  return logY ? logAxis(10 ** lo, 10 ** hi) : linearAxis(lo, hi);
}

/** Whether the losses call for a log axis: all positive and spanning more than two decades. */
function chooseLogScale(losses: readonly number[]): boolean {
  if (losses.length < 2 || losses.some((l) => l <= 0)) return false;
  // Spreading a large array into Math.max would overflow the stack on long runs.
  return max(losses, (l) => l) / min(losses, (l) => l) > 100;
}

/** Draws one series from its points in pixel coordinates. */
function drawSeries(canvas: Canvas, points: readonly (readonly [number, number])[], color: Rgb): void {
  if (points.length === 1) {
    const [x, y] = points[0]!;
    canvas.rect(Math.round(x) - 2, Math.round(y) - 2, 5, 5, color);
    return;
  }
  if (points.length <= SMOOTHING_THRESHOLD) {
    polyline(canvas, points, color, true);
    return;
  }
  polyline(canvas, points, tint(color, 0.35), false);
  polyline(canvas, smooth(points), color, true);
}

/**
 * An exponential moving average of the y coordinates, started at the first
 * point. The span grows with the number of points so that the smoothing looks
 * the same whatever the logging frequency. Smoothing pixel coordinates means
 * that on a log axis the average is taken of log-losses, which follows the
 * trend instead of being pulled up by the occasional spike.
 */
function smooth(points: readonly (readonly [number, number])[]): (readonly [number, number])[] {
  const span = Math.max(5, Math.round(points.length / 30));
  const alpha = 2 / (span + 1);
  let ema = points[0]![1];
  return points.map(([x, y]) => {
    ema += alpha * (y - ema);
    return [x, ema] as const;
  });
}

function polyline(canvas: Canvas, points: readonly (readonly [number, number])[], color: Rgb, thick: boolean): void {
  for (let i = 1; i < points.length; i++) {
    const [x0, y0] = points[i - 1]!;
    const [x1, y1] = points[i]!;
    canvas.line(x0, y0, x1, y1, color);
    // A second line one pixel lower makes a 2-pixel stroke that stays visible in thumbnails.
    if (thick) canvas.line(x0, y0 + 1, x1, y1 + 1, color);
  }
}

function drawLegend(canvas: Canvas, series: readonly LossSeries[], x: number, y: number, width: number): void {
  canvas.rect(x, y, width, series.length * lineHeight + 8, frameGrey, false);
  series.forEach((s, i) => {
    const rowY = y + 6 + i * lineHeight;
    canvas.rect(x + 6, rowY + 2, 16, 3, seriesColor(i));
    canvas.text(x + 28, rowY, s.name, black);
  });
}

function tint(color: Rgb, amount: number): Rgb {
  return color.map((c) => Math.round(255 - (255 - c) * amount)) as unknown as Rgb;
}

/** Where a value lies on an axis, 0 at lo and 1 at hi; computed on halves so that huge ranges do not overflow. */
function fraction(v: number, axis: Axis): number {
  return (v / 2 - axis.lo / 2) / (axis.hi / 2 - axis.lo / 2);
}

function tickStep(axis: Axis): number | undefined {
  return axis.ticks.length > 1 ? axis.ticks[1]! - axis.ticks[0]! : undefined;
}

function min<T>(items: readonly T[], f: (t: T) => number): number {
  return items.reduce((m, t) => Math.min(m, f(t)), Infinity);
}

function max<T>(items: readonly T[], f: (t: T) => number): number {
  return items.reduce((m, t) => Math.max(m, f(t)), -Infinity);
}
