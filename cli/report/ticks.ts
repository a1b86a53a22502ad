/**
 * Axis ticks at round numbers (multiples of 1, 2 or 5 times a power of ten on
 * a linear axis, powers of ten on a log axis), and their labels. Charts extend
 * their data range to the outermost ticks, so every axis starts and ends on a
 * labelled value.
 */

/** An axis: its data range [lo, hi] and the tick values inside it, ascending. */
export interface Axis {
  readonly lo: number;
  readonly hi: number;
  readonly ticks: readonly number[];
}

/** Ranges narrower than this are widened: a twentieth of one is still a normal float, far from underflow. */
const TINIEST_RANGE = 1e-290;

/**
 * A linear axis covering [min, max] with about `count` ticks at round values.
 * An empty range (min = max) is widened around the value so it still has ticks.
 * With `integer`, tick steps are whole numbers (optimizer steps have no halves).
 */
export function linearAxis(min: number, max: number, count = 6, integer = false): Axis {
  // Clamping to ±1e300 keeps every difference below finite overflow; no chart
  // needs to tell 1e300 from 1e308.
  let a = Math.min(1e300, Math.max(-1e300, min));
  let b = Math.min(1e300, Math.max(-1e300, max));
  // A range below float resolution (1 and 1 + 2^-52) counts as empty: its ticks
  // could not be told apart, and counting them would never end. So does one
  // among subnormal numbers (0 to 5e-324), whose step would underflow to 0.
  if (!(b - a > Math.max(Math.abs(a), Math.abs(b)) * 1e-9) || b - a < TINIEST_RANGE) {
    const pad = Math.abs(a) < TINIEST_RANGE ? 1 : Math.abs(a) * 0.1;
    a -= pad;
    b += pad;
  }
  let step = niceStep((b - a) / Math.max(1, count - 1));
  if (integer) step = Math.max(1, Math.round(step));
  // The slack of 1e-9 steps keeps a value that is a tick up to rounding
  // (0.7000000000000001) from getting a whole extra step of axis.
  const first = Math.floor(a / step + 1e-9);
  // An axis has at least two ticks, even when an integer step outgrows the range.
  const last = Math.max(first + 1, Math.ceil(b / step - 1e-9));
  const ticks: number[] = [];
  // Ticks are integers times the step, rounded to the step's decimals, so they
  // do not accumulate rounding error (0.1 + 0.2 ≠ 0.3) that would show in labels.
  for (let i = first; i <= last; i++) ticks.push(cleanFloat(i * step));
  return { lo: ticks[0]!, hi: ticks[ticks.length - 1]!, ticks };
}

/**
 * A log-10 axis covering [min, max] (both > 0), in log10 units: lo and hi are
 * whole decades and the ticks are log10 of the tick values. Powers of ten are
 * ticked; when the range spans at most two decades, 2× and 5× are ticked too
 * so the axis has enough labels to read.
 */
export function logAxis(min: number, max: number): Axis {
  // "+ 0" turns the -0 that Math.ceil(-0.5) gives into 0.
  const lo = Math.floor(Math.log10(min) + 1e-9) + 0;
  let hi = Math.ceil(Math.log10(max) - 1e-9) + 0;
  if (hi <= lo) hi = lo + 1;
  const ticks: number[] = [];
  const dense = hi - lo <= 2;
  // Over many decades every decade's label would collide; tick every few instead.
  const stride = Math.max(1, Math.ceil((hi - lo) / 10));
  hi = lo + Math.ceil((hi - lo) / stride) * stride;
  for (let d = lo; d <= hi; d += stride) {
    ticks.push(d);
    if (dense && d < hi) ticks.push(d + Math.log10(2), d + Math.log10(5));
  }
  return { lo, hi, ticks };
}

/**
 * The label of a tick value: as few decimals as the tick spacing needs on a
 * linear axis (`step` given), and short exponent notation (`1e-3`, `2e+6`) for
 * very small or very large values, since labels must fit beside the axis.
 */
export function tickLabel(value: number, step?: number): string {
  if (value === 0) return "0";
  const abs = Math.abs(value);
  if (abs < 1e-3 || abs >= 1e6) {
    const [mantissa, exponent] = value.toExponential(2).split("e") as [string, string];
    return `${mantissa.replace(/\.?0+$/, "")}e${exponent}`;
  }
  const decimals = step === undefined ? decimalsOf(value) : decimalsOf(step);
  return value.toFixed(decimals);
}

/** The largest round number (1, 2 or 5 times a power of ten) at most about `raw`. */
function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(raw));
  const f = raw / power;
  const nice = f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10;
  return nice * power;
}

/** How many decimals a number needs to be written exactly, up to 20 (up to a relative error of 1e-6). */
function decimalsOf(v: number): number {
  if (v === 0) return 0;
  for (let d = 0; d < 20; d++) {
    const scaled = Math.abs(v) * 10 ** d;
    const whole = Math.round(scaled);
    if (whole >= 1 && Math.abs(scaled - whole) < 1e-6 * scaled) return d;
  }
  return 20;
}

function cleanFloat(v: number): number {
  // Twelve significant digits drop the float noise of i × step; "+ 0" turns -0 into 0.
  return Number(v.toPrecision(12)) + 0;
}
