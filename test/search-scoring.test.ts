import { describe, expect, it } from 'vitest';
import { InputError } from '../common/errors.js';
import { loadDataset } from '../datasets/index.js';
import { sampleBatches } from '../datasets/split.js';
import {
  mergeShards,
  type SahdScorer,
  type ScoreResume,
  scoreCandidates,
  shardCandidates,
  UNUSABLE_SCORE,
} from '../search/predictors/scoring.js';
import { formatArch } from '../search/space/arch.js';
import type { Arch } from '../snn/cell-matrix.js';
import { initBackend } from '../snn/index.js';
import { TINY_CONFIG } from './support/configs.js';

const tiny = TINY_CONFIG;
const CANDIDATES = [
  '0001 0000 0000 0000',
  '0003 0000 0000 0000',
  '0002 0000 0000 0000',
  '0102 0003 0000 0000',
  '0301 0003 0000 0000',
  '0032 0000 0004 0000',
  '0112 0003 0004 0000',
];

/** A stand-in scorer whose value depends only on the matrix and the seed it is given; counts calls. */
function countingScorer(): { scorer: SahdScorer; calls: string[] } {
  const calls: string[] = [];
  const scorer: SahdScorer = async (arch: Arch, _config, _batches, _batchSize, seed) => {
    calls.push(formatArch(arch));
    return (seed % 100_003) / 100_003 + formatArch(arch).split('3').length;
  };
  return { scorer, calls };
}

const input = (candidates: string[]) => ({ candidates, config: tiny, batches: [], batchSize: 4 });

describe('shardCandidates / mergeShards', () => {
  it('splits into contiguous ranges differing by at most one and joins them back', () => {
    const list = Array.from({ length: 10 }, (_, i) => i);
    const shards = shardCandidates(list, 4);
    expect(shards).toEqual([
      [0, 1, 2],
      [3, 4, 5],
      [6, 7],
      [8, 9],
    ]);
    expect(mergeShards(shards)).toEqual(list);
    expect(shardCandidates([1, 2], 4)).toEqual([[1], [2], [], []]);
    expect(() => shardCandidates(list, 0)).toThrow(InputError);
  });
});

describe('scoreCandidates with a counting scorer', () => {
  it('gives the same scores for 1, 2 and 4 shards and for any order', async () => {
    const { scorer } = countingScorer();
    const whole = (await scoreCandidates(input(CANDIDATES), { seed: 11 }, scorer)).scores;
    for (const count of [1, 2, 4]) {
      const parts = await Promise.all(
        shardCandidates(CANDIDATES, count).map(
          async (shard) => (await scoreCandidates(input(shard), { seed: 11 }, scorer)).scores,
        ),
      );
      expect(mergeShards(parts)).toEqual(whole);
    }
    const reversed = (await scoreCandidates(input([...CANDIDATES].reverse()), { seed: 11 }, scorer)).scores;
    expect(reversed).toEqual([...whole].reverse());
    const otherSeed = (await scoreCandidates(input(CANDIDATES), { seed: 12 }, scorer)).scores;
    expect(otherSeed).not.toEqual(whole);
  });

  it('resumes after an interruption without rescoring and ends with the same scores', async () => {
    const { scorer, calls } = countingScorer();
    const whole = (await scoreCandidates(input(CANDIDATES), { seed: 3 }, scorer)).scores;
    calls.length = 0;

    const controller = new AbortController();
    let saved: ScoreResume | undefined;
    const interrupted = scoreCandidates(
      input(CANDIDATES),
      {
        seed: 3,
        signal: controller.signal,
        onProgress: (p) => {
          saved = JSON.parse(JSON.stringify(p.resume));
          if (p.done === 3) controller.abort();
        },
      },
      scorer,
    );
    await expect(interrupted).rejects.toThrow();
    expect(saved?.next).toBe(3);
    const resumed = await scoreCandidates(input(CANDIDATES), { seed: 3, resume: saved }, scorer);
    expect(resumed.scores).toEqual(whole);
    expect(calls).toEqual(CANDIDATES);
  });

  it('stores a non-finite score as UNUSABLE_SCORE and rejects a broken resume point', async () => {
    const singular: SahdScorer = async () => Number.NEGATIVE_INFINITY;
    const { scores } = await scoreCandidates(input(CANDIDATES.slice(0, 2)), { seed: 1 }, singular);
    expect(scores).toEqual([UNUSABLE_SCORE, UNUSABLE_SCORE]);
    expect(JSON.parse(JSON.stringify(scores))).toEqual(scores);
    await expect(
      scoreCandidates(input(CANDIDATES), { seed: 1, resume: { next: 2, scores: [1] } }, singular),
    ).rejects.toThrow(/resume point/);
  });
});

describe('scoreCandidates with the real SAHD runtime', () => {
  it('gives identical scores for 1, 2 and 4 shards on a tiny config', async () => {
    await initBackend();
    const dataset = await loadDataset('synthetic', { seed: 5, limit: { train: 40, test: 10 } });
    const batches = sampleBatches(dataset.train, { batchSize: 8, count: 2, seed: 9 });
    const real = { candidates: CANDIDATES.slice(0, 4), config: tiny, batches, batchSize: 8 };
    const whole = (await scoreCandidates(real, { seed: 21 })).scores;
    expect(whole.every((s) => Number.isFinite(s))).toBe(true);
    expect(new Set(whole).size).toBeGreaterThan(1);
    for (const count of [2, 4]) {
      const parts: number[][] = [];
      for (const shard of shardCandidates(real.candidates, count)) {
        parts.push((await scoreCandidates({ ...real, candidates: shard }, { seed: 21 })).scores);
      }
      expect(mergeShards(parts)).toEqual(whole);
    }
  });
});
