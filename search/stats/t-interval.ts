/**
 * Student-t quantiles and the t confidence interval of a mean. Pure.
 *
 * The quantile inverts the t distribution exactly (to ~1e-12), not from a table: for t >= 0 the upper tail
 * is P(T > t) = I_x(df/2, 1/2) / 2 with x = df / (df + t^2), I the regularised incomplete beta function
 * (continued fraction, modified Lentz), and the tail is solved for t by bisection.
 */

/** A confidence interval [low, high]. */
export interface Interval {
  low: number;
  high: number;
}

/** A confidence interval and its coverage, e.g. 0.95. */
export interface LeveledInterval extends Interval {
  level: number;
}

/** The mean and the sample standard deviation (n - 1 in the denominator; 0 for fewer than 2 values). */
export function meanAndSampleStd(values: readonly number[]): { mean: number; std: number } {
  const n = values.length;
  const mean = n === 0 ? 0 : values.reduce((a, b) => a + b, 0) / n;
  const std = n < 2 ? 0 : Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1));
  return { mean, std };
}

/**
 * The Student-t interval of a mean at coverage `level` from n samples with sample standard deviation std:
 * mean ± tHalfWidth(level, std, n). null for n < 2 (no spread, so no interval).
 */
export function tInterval(mean: number, std: number, n: number, level: number): LeveledInterval | null {
  if (!Number.isInteger(n) || n < 2) return null;
  const half = tHalfWidth(level, std, n);
  return { level, low: mean - half, high: mean + half };
}

/** Half the width of a two-sided t interval: t((1 + level) / 2, n - 1) · std / sqrt(n), for n >= 2. */
export function tHalfWidth(level: number, std: number, n: number): number {
  if (!(level > 0 && level < 1)) throw new RangeError(`level = ${level} is not a coverage in (0, 1)`);
  return studentTQuantile((1 + level) / 2, n - 1) * (std / Math.sqrt(n));
}

/** The p-quantile of Student's t distribution with df degrees of freedom (0 < p < 1, df > 0). */
export function studentTQuantile(p: number, df: number): number {
  checkDf(df);
  if (!(p > 0 && p < 1)) throw new RangeError(`p = ${p} is not a probability in (0, 1)`);
  if (p === 0.5) return 0;
  if (p < 0.5) return -studentTQuantile(1 - p, df);
  const tail = 1 - p;
  // Bracket the quantile: the upper tail falls from 1/2 at t = 0 towards 0.
  let lo = 0;
  let hi = 1;
  while (upperTail(hi, df) > tail) {
    lo = hi;
    hi *= 2;
  }
  for (let i = 0; i < 200 && hi - lo > 1e-13 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (upperTail(mid, df) > tail) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** P(T <= t) for Student's t distribution with df degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  checkDf(df);
  if (Number.isNaN(t)) return Number.NaN;
  return t >= 0 ? 1 - upperTail(t, df) : upperTail(-t, df);
}

/** P(T > t) for t >= 0. */
function upperTail(t: number, df: number): number {
  if (t === Number.POSITIVE_INFINITY) return 0;
  const t2 = t * t;
  return 0.5 * regularisedBeta(df / (df + t2), t2 / (df + t2), df / 2, 0.5);
}

function checkDf(df: number): void {
  if (!(df > 0) || !Number.isFinite(df))
    throw new RangeError(`df = ${df} is not a positive degrees of freedom`);
}

/** I_x(a, b), given x and y = 1 - x (passed apart so neither loses precision near 0 or 1). */
function regularisedBeta(x: number, y: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (y <= 0) return 1;
  const front = Math.exp(lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(y));
  if (x < (a + 1) / (a + b + 2)) return (front * betaContinuedFraction(x, a, b)) / a;
  return 1 - (front * betaContinuedFraction(y, b, a)) / b;
}

/** The continued fraction of I_x(a, b) (Numerical Recipes' betacf), by the modified Lentz method. */
function betaContinuedFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  const eps = 1e-16;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 1000; m++) {
    const m2 = 2 * m;
    // Even step.
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    // Odd step.
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < eps) break;
  }
  return h;
}

const LANCZOS = [
  0.9999999999998099, 676.5203681218851, -1259.1392167224028, 771.3234287776531, -176.6150291621406,
  12.507343278686905, -0.13857109526572012, 9.984369578019572e-6, 1.5056327351493116e-7,
];

/** ln Γ(z) for z > 0 (Lanczos, g = 7; relative error ~1e-15). */
function lnGamma(z: number): number {
  if (z < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * z)) - lnGamma(1 - z);
  const w = z - 1;
  let sum = LANCZOS[0] as number;
  for (let i = 1; i < LANCZOS.length; i++) sum += (LANCZOS[i] as number) / (w + i);
  const t = w + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (w + 0.5) * Math.log(t) - t + Math.log(sum);
}
