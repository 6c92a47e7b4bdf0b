import { describe, expect, it } from 'vitest';
import {
  averageRanks,
  bestIndices,
  bootstrapEstimate,
  kendallTau,
  spearman,
  topKRetention,
} from '../search/stats/rank-stats.js';

describe('kendallTau', () => {
  it('is 1 and -1 on the same and the reversed order', () => {
    expect(kendallTau([1, 2, 3, 4], [10, 20, 30, 40])).toBe(1);
    expect(kendallTau([1, 2, 3, 4], [4, 3, 2, 1])).toBe(-1);
  });

  it('is tau-b with ties (scipy.stats.kendalltau gives these values)', () => {
    // 5 concordant, 1 discordant of 6 pairs: (5 - 1) / 6.
    expect(kendallTau([1, 2, 3, 4], [1, 3, 2, 4])).toBeCloseTo(4 / 6, 12);
    // x = [1,2,2,3], y = [1,2,3,3]: C = 4, D = 0, ties only in x 1, only in y 1: 4 / sqrt(5 * 5).
    expect(kendallTau([1, 2, 2, 3], [1, 2, 3, 3])).toBeCloseTo(0.8, 12);
  });

  it('ranks NaN and -Infinity lowest and is null without spread', () => {
    expect(kendallTau([Number.NaN, 1, 2], [0, 1, 2])).toBe(1);
    expect(kendallTau([Number.NEGATIVE_INFINITY, 1, 2], [0, 1, 2])).toBe(1);
    expect(kendallTau([3, 3, 3], [1, 2, 3])).toBeNull();
    expect(kendallTau([1], [1])).toBeNull();
  });
});

describe('spearman and ranks', () => {
  it('average ranks share ties', () => {
    expect(averageRanks([10, 30, 20, 30])).toEqual([1, 3.5, 2, 3.5]);
    expect(spearman([1, 2, 3], [3, 2, 1])).toBeCloseTo(-1, 12);
  });
});

describe('bootstrapEstimate', () => {
  const a = Array.from({ length: 40 }, (_, i) => i);
  const noisy = a.map((x) => x + ((x * 7919) % 13) - 6);

  it('is reproducible from its seed and brackets the sample value', () => {
    const one = bootstrapEstimate(spearman, a, noisy, { resamples: 500, seed: 7 });
    const two = bootstrapEstimate(spearman, a, noisy, { resamples: 500, seed: 7 });
    expect(one).toEqual(two);
    expect(one.ci95).not.toBeNull();
    expect(one.ci95?.low).toBeLessThanOrEqual(one.value as number);
    expect(one.ci95?.high).toBeGreaterThanOrEqual(one.value as number);
    expect(one.ci95?.high).toBeLessThanOrEqual(1);
    const other = bootstrapEstimate(spearman, a, noisy, { resamples: 500, seed: 8 });
    expect(other.ci95).not.toEqual(one.ci95);
  });

  it('gives a wide interval around zero for unrelated values and none when too few', () => {
    const unrelated = a.map((x) => (x * 37) % 40);
    const estimate = bootstrapEstimate(kendallTau, a, unrelated, { resamples: 500, seed: 1 });
    expect(estimate.ci95?.low).toBeLessThan(0.05);
    expect(estimate.ci95?.high).toBeGreaterThan(-0.05);
    expect(bootstrapEstimate(kendallTau, [1, 2, 3], [5, 5, 5], { resamples: 100, seed: 1 }).ci95).toBeNull();
  });
});

describe('topKRetention', () => {
  it('counts the reference top k among the predictor best kept', () => {
    const reference = [9, 8, 7, 6, 5, 4];
    const predictor = [1, 8, 7, 9, 5, 4];
    expect(bestIndices(predictor, 3)).toEqual([3, 1, 2]);
    // Reference top 2: {0, 1}; predictor best 3: {3, 1, 2}.
    expect(topKRetention(reference, predictor, 2, 3)).toBe(1);
    expect(topKRetention(reference, predictor, 2, 6)).toBe(2);
    expect(topKRetention(reference, reference, 3, 3)).toBe(3);
  });
});
