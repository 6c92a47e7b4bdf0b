import { describe, expect, it } from 'vitest';
import type { Candidate } from '../search/space/candidates.js';
import { spearman } from '../search/stats/rank-stats.js';
import { paretoFront } from '../search/strategy/pareto.js';
import { PROFILES } from '../search/strategy/profiles.js';
import { buildSearchResult, survivorIndices } from '../search/strategy/select.js';
import { resolvePreset } from '../snn/presets.js';

const point = (arch: string, weightBytes: number, score: number) => ({ arch, weightBytes, score });

describe('paretoFront', () => {
  it('keeps exactly the points no other beats on both bytes and score', () => {
    const points = [
      point('a', 100, 5), // dominated by d (fewer bytes, higher score)
      point('b', 50, 3),
      point('c', 200, 9),
      point('d', 80, 6),
      point('e', 200, 8), // dominated by c (same bytes, higher score)
      point('f', 300, 9), // dominated by c (fewer bytes, same score)
    ];
    expect(paretoFront(points).map((p) => p.arch)).toEqual(['b', 'd', 'c']);
  });

  it('keeps equal points, in arch order, and does not depend on input order', () => {
    const points = [point('z', 10, 1), point('y', 10, 1), point('x', 5, 0), point('w', 20, Number.NaN)];
    const front = paretoFront(points).map((p) => p.arch);
    expect(front).toEqual(['x', 'y', 'z']);
    expect(paretoFront([...points].reverse()).map((p) => p.arch)).toEqual(front);
    expect(paretoFront([])).toEqual([]);
  });
});

describe('spearman', () => {
  it('is 1 for the same order, -1 for the reverse, and uses average ranks for ties', () => {
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 40])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    // ranks a = [1, 2.5, 2.5, 4], b = [1, 2, 3, 4]: cov 4.5, var a 4.5, var b 5 -> 4.5 / sqrt(22.5).
    expect(spearman([1, 5, 5, 9], [1, 2, 3, 4])).toBeCloseTo(4.5 / Math.sqrt(22.5), 12);
    expect(spearman([1], [2])).toBeNull();
    expect(spearman([3, 3, 3], [1, 2, 3])).toBeNull();
  });
});

const candidate = (arch: string, weightBytes: number): Candidate => ({
  arch,
  weightBits: 32,
  params: weightBytes / 4,
  weightBytes,
  storedBytes: weightBytes,
  ramBytes: 0,
  neurons: 10,
  stateBytes: 40,
});

describe('selection', () => {
  const candidates = [candidate('a', 400), candidate('b', 800), candidate('c', 400), candidate('d', 1200)];

  it('takes the best first-pass scores as survivors, ties by arch, in candidate order', () => {
    expect(survivorIndices(candidates, [1, 3, 3, 0], 2)).toEqual([1, 2]);
    expect(survivorIndices(candidates, [2, 3, 3, 0], 3)).toEqual([0, 1, 2]);
    expect(survivorIndices(candidates, [5, Number.NaN, 1, 0], 1)).toEqual([0]);
    expect(() => survivorIndices(candidates, [1], 1)).toThrow();
  });

  it('builds top-K, the front, counters and the first-pass agreement', () => {
    const result = buildSearchResult({
      seed: 7,
      mode: 'spikenas',
      config: resolvePreset('fmnist-tiny'),
      budgetBytes: 2000,
      weightBits: [32],
      wallMs: 5,
      topK: 2,
      generation: { generated: 10, invalid: 3, duplicate: 2, overBudget: 1 },
      candidates,
      firstPass: PROFILES.quick.firstPass,
      firstPassScores: [1, 2, 3, 4],
      fullScores: [null, 20, 30, 40],
    });
    expect(result.firstPass).toEqual(PROFILES.quick.firstPass);
    expect(result.topK.map((c) => [c.arch, c.score])).toEqual([
      ['d', 40],
      ['c', 30],
    ]);
    // c (400 B, 30) beats b (800 B, 20); d (1200 B, 40) has the best score.
    expect(result.pareto.map((c) => c.arch)).toEqual(['c', 'd']);
    expect(result.counters).toEqual({
      generated: 10,
      invalid: 3,
      duplicate: 2,
      overBudget: 1,
      scored: 3,
      prefiltered: 4,
    });
    expect(result.prefilterAgreement).toBeCloseTo(1, 12);
  });

  it('lists a matrix scored twice (snasnet baseline) once; no agreement without a first pass', () => {
    const result = buildSearchResult({
      seed: 1,
      mode: 'snasnet',
      config: resolvePreset('fmnist-tiny'),
      budgetBytes: null,
      weightBits: [32],
      wallMs: 1,
      topK: 10,
      generation: { generated: 3, invalid: 0, duplicate: 1, overBudget: 0 },
      candidates: [candidate('a', 400), candidate('a', 400), candidate('b', 100)],
      firstPass: null,
      firstPassScores: null,
      fullScores: [2, 2, 1],
    });
    expect(result.topK.map((c) => c.arch)).toEqual(['a', 'b']);
    expect(result.counters.scored).toBe(3);
    expect(result.counters.prefiltered).toBe(0);
    expect(result.prefilterAgreement).toBeNull();
  });
});
