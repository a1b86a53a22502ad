/** Small statistics for the generator's sanity tests. */

/** The arithmetic mean. */
export function mean(xs: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < xs.length; i++) sum += xs[i]!;
  return sum / xs.length;
}

/** The population variance. */
export function variance(xs: ArrayLike<number>): number {
  const m = mean(xs);
  let sum = 0;
  for (let i = 0; i < xs.length; i++) sum += (xs[i]! - m) ** 2;
  return sum / xs.length;
}

/** Pearson's correlation coefficient of two equally long samples. */
export function correlation(xs: ArrayLike<number>, ys: ArrayLike<number>): number {
  const mx = mean(xs);
  const my = mean(ys);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < xs.length; i++) {
    const dx = xs[i]! - mx;
    const dy = ys[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxy / Math.sqrt(sxx * syy);
}

/**
 * Pearson's chi-square statistic of values in [0, 1) against the uniform
 * distribution, over `buckets` equal buckets.
 */
export function chiSquareUniform(us: ArrayLike<number>, buckets: number): number {
  const counts = new Array<number>(buckets).fill(0);
  for (let i = 0; i < us.length; i++) counts[Math.floor(us[i]! * buckets)]!++;
  const expected = us.length / buckets;
  return counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
}

/** 0.999 quantile of the chi-square distribution with 15 degrees of freedom (16 buckets). */
export const CHI2_15_P999 = 37.697;

/** The standard normal CDF, from erfc (Numerical Recipes' erfcc, error below 1.2e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * x);
  const erfc =
    t *
    Math.exp(
      -x * x -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return z >= 0 ? 1 - erfc / 2 : erfc / 2;
}
