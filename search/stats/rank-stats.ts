/**
 * Rank statistics, pure: how well one ranking of candidates predicts another (Spearman's rho, Kendall's
 * tau-b), a seeded bootstrap interval for either, and how many of one ranking's top k another keeps.
 * NaN and undefined values rank lowest, as everywhere in the search.
 */
import { Rng } from '../../common/rng.js';

/**
 * Spearman rank correlation (Pearson on ranks, ties get their average rank). null when fewer than two
 * pairs or when either side has no spread.
 */
export function spearman(a: readonly number[], b: readonly number[]): number | null {
  checkPaired('spearman', a, b);
  if (a.length < 2) return null;
  const ra = averageRanks(a);
  const rb = averageRanks(b);
  const mean = (ra.length + 1) / 2;
  let cov = 0;
  let va = 0;
  let vb = 0;
  for (let i = 0; i < ra.length; i++) {
    const da = (ra[i] as number) - mean;
    const db = (rb[i] as number) - mean;
    cov += da * db;
    va += da * da;
    vb += db * db;
  }
  if (va === 0 || vb === 0) return null;
  return cov / Math.sqrt(va * vb);
}

/**
 * Kendall's tau-b (concordant minus discordant pairs, corrected for ties on either side). null when fewer
 * than two pairs or when either side has no spread. O(n^2): the studies rank tens to hundreds.
 */
export function kendallTau(a: readonly number[], b: readonly number[]): number | null {
  checkPaired('kendallTau', a, b);
  if (a.length < 2) return null;
  let concordant = 0;
  let discordant = 0;
  let tiesA = 0;
  let tiesB = 0;
  for (let i = 0; i < a.length; i++) {
    for (let j = i + 1; j < a.length; j++) {
      const da = Math.sign(comparable(a[i]) - comparable(a[j]) || 0);
      const db = Math.sign(comparable(b[i]) - comparable(b[j]) || 0);
      if (da === 0 && db === 0) continue;
      if (da === 0) tiesA++;
      else if (db === 0) tiesB++;
      else if (da === db) concordant++;
      else discordant++;
    }
  }
  const denominator = Math.sqrt((concordant + discordant + tiesA) * (concordant + discordant + tiesB));
  return denominator === 0 ? null : (concordant - discordant) / denominator;
}

export interface Interval {
  low: number;
  high: number;
}

export interface Estimate {
  value: number | null;
  /** Percentile bootstrap 95% interval; null when too few resamples had a defined value. */
  ci95: Interval | null;
}

/**
 * A statistic of paired values with its percentile bootstrap 95% interval: `resamples` draws of n pairs
 * with replacement, from a seeded stream. Resamples without spread (statistic null) are left out.
 */
export function bootstrapEstimate(
  statistic: (a: readonly number[], b: readonly number[]) => number | null,
  a: readonly number[],
  b: readonly number[],
  options: { resamples: number; seed: number },
): Estimate {
  checkPaired('bootstrapEstimate', a, b);
  const value = statistic(a, b);
  const rng = new Rng(options.seed);
  const values: number[] = [];
  const ra: number[] = new Array(a.length);
  const rb: number[] = new Array(a.length);
  for (let r = 0; r < options.resamples; r++) {
    for (let i = 0; i < a.length; i++) {
      const k = rng.int(a.length);
      ra[i] = a[k] as number;
      rb[i] = b[k] as number;
    }
    const v = statistic(ra, rb);
    if (v !== null) values.push(v);
  }
  // Fewer than half the resamples defined means the sample is too small to say anything.
  if (value === null || values.length < options.resamples / 2) return { value, ci95: null };
  values.sort((x, y) => x - y);
  return { value, ci95: { low: quantile(values, 0.025), high: quantile(values, 0.975) } };
}

/**
 * How many of the `k` best by `reference` are among the `kept` best by `predictor` (higher is better on
 * both; ties broken by index, so the answer is deterministic).
 */
export function topKRetention(
  reference: readonly number[],
  predictor: readonly number[],
  k: number,
  kept: number,
): number {
  checkPaired('topKRetention', reference, predictor);
  const best = new Set(bestIndices(reference, k));
  return bestIndices(predictor, kept).filter((i) => best.has(i)).length;
}

/** Indices of the `count` highest values, highest first (ties: lower index first). */
export function bestIndices(values: readonly number[], count: number): number[] {
  return values
    .map((_, i) => i)
    .sort((x, y) => comparable(values[y]) - comparable(values[x]) || x - y)
    .slice(0, Math.max(0, count));
}

/** 1-based ranks, ascending; ties share their average rank. */
export function averageRanks(values: readonly number[]): number[] {
  const order = values
    .map((_, i) => i)
    .sort((x, y) => ascending(comparable(values[x]), comparable(values[y])));
  const result = new Array<number>(values.length);
  let start = 0;
  while (start < order.length) {
    let end = start;
    const v = comparable(values[order[start] as number]);
    while (end + 1 < order.length && comparable(values[order[end + 1] as number]) === v) end++;
    const rank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) result[order[k] as number] = rank;
    start = end + 1;
  }
  return result;
}

/** Linear interpolation between order statistics (numpy's default), on sorted values. */
function quantile(sorted: readonly number[], q: number): number {
  const position = q * (sorted.length - 1);
  const lower = Math.floor(position);
  const upper = Math.min(sorted.length - 1, lower + 1);
  const weight = position - lower;
  return (sorted[lower] as number) * (1 - weight) + (sorted[upper] as number) * weight;
}

function checkPaired(name: string, a: readonly number[], b: readonly number[]): void {
  if (a.length !== b.length) throw new Error(`${name}: ${a.length} vs ${b.length} values`);
}

function ascending(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function comparable(value: number | undefined): number {
  return value === undefined || Number.isNaN(value) ? Number.NEGATIVE_INFINITY : value;
}
