/**
 * Number formatting shared by the progress display and the metrics table.
 * Everything here is a pure function of its arguments, so the output of
 * `repr train` is byte-for-byte reproducible in tests.
 */

/**
 * A number with `digits` significant digits: fixed notation for magnitudes
 * from 1e-4 up to 1e6 (where people read it most easily), exponent notation
 * (`1.235e+6`, `2.500e-5`) outside that range. Trailing zeros are kept, so a
 * column of losses keeps its width while it falls. NaN and infinities are
 * written `nan`, `inf`, `-inf`.
 */
export function formatSignificant(value: number, digits = 4): string {
  if (Number.isNaN(value)) return "nan";
  if (!Number.isFinite(value)) return value > 0 ? "inf" : "-inf";
  if (value === 0) return "0";
  // Rounding can carry into the next power of ten (9.9996 → 10.00), so the
  // exponent is taken from the rounded value, not the raw one.
  const exponent = Number(value.toExponential(digits - 1).split("e")[1]);
  if (exponent < -4 || exponent >= 6) return value.toExponential(digits - 1);
  return value.toFixed(Math.max(0, digits - 1 - exponent));
}

/**
 * A duration for people: `49s`, `3m05s`, `1h02m`, `2d03h`, rounded to the
 * second and showing two units at most. Negative, NaN or infinite durations
 * (an ETA that is not known yet) are written `--`.
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const pad = (n: number): string => String(n).padStart(2, "0");
  if (s < 3600) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${pad(Math.floor(s / 60) % 60)}m`;
  return `${Math.floor(s / 86400)}d${pad(Math.floor(s / 3600) % 24)}h`;
}

/**
 * A rate such as `23.1 steps/s`: three significant digits, whole numbers from
 * 100 up, and `k`/`M` suffixes from ten thousand up so that a fast data loader
 * does not push the rest of the line off the screen. An unknown rate (zero
 * elapsed time, NaN) is written `--`.
 */
export function formatRate(perSecond: number, unit: string): string {
  return `${formatRateValue(perSecond)} ${unit}/s`;
}

function formatRateValue(v: number): string {
  if (!Number.isFinite(v) || v < 0) return "--";
  if (v === 0) return "0";
  if (v >= 1e7) return `${threeDigits(v / 1e6)}M`;
  if (v >= 1e4) return `${threeDigits(v / 1e3)}k`;
  return threeDigits(v);
}

function threeDigits(v: number): string {
  if (Math.round(v) >= 100) return String(Math.round(v));
  const exponent = Number(v.toExponential(2).split("e")[1]);
  return v.toFixed(Math.max(0, 2 - exponent));
}
