import { describe, expect, it } from 'vitest';
import { Rng } from '../common/rng.js';
import { nextImpactJobs } from '../search/strategy/impact.js';
import { followLooks, lookLevel } from '../search/strategy/impact-looks.js';
import { type ImpactPair, impactKey } from '../search/strategy/impact-plan.js';

/** Pairs of one subject whose "without" cells are all `base`, trained at 0.5, with these gains. */
function subjectWithGains(subject: ImpactPair['subject'], count: number) {
  return Array.from({ length: count }, (_, k) => ({
    subject,
    cellType: 'forward' as const,
    withArch: `${subject}-w${k}`,
    withoutArch: 'base',
  }));
}

function accuraciesOf(pairs: readonly ImpactPair[], gains: readonly number[]): Record<string, number> {
  const accuracies: Record<string, number> = { [impactKey('forward', 'base')]: 0.5 };
  gains.forEach((gain, k) => {
    accuracies[impactKey('forward', (pairs[k] as ImpactPair).withArch)] = 0.5 + gain;
  });
  return accuracies;
}

describe('followLooks', () => {
  const looks = [3, 5, 8];
  const pairs = subjectWithGains(2, 8);

  it('asks for the first look of every subject before anything is trained', () => {
    const both = [...pairs, ...subjectWithGains(3, 8)];
    const { subjects, pending } = followLooks(both, looks, {});
    expect(pending).toEqual([...pairs.slice(0, 3), ...both.slice(8, 11)]);
    expect(subjects.map((s) => s.stop)).toEqual([null, null]);
    // The shared "without" cell is one training, and the next round needs it once.
    expect(nextImpactJobs(both, looks, {}).map((j) => j.key)).toEqual(
      ['2-w0', 'base', '2-w1', '2-w2', '3-w0', '3-w1', '3-w2'].map((arch) => impactKey('forward', arch)),
    );
  });

  it('stops a subject whose interval clears 0 at a look', () => {
    // Gains of 10 +- 1 points: the 98.3% interval at 3 pairs is far from 0.
    const { subjects, pending } = followLooks(pairs, looks, accuraciesOf(pairs, [0.1, 0.11, 0.09]));
    expect(pending).toEqual([]);
    expect(subjects).toEqual([{ subject: 2, pairs: pairs.slice(0, 3), stop: 'clear of 0' }]);
  });

  it('stops a subject that could not clear 0 even at the last look', () => {
    // Mean 0.33 points, sd 5.5: at 8 pairs the half-width would be 5.9 points.
    const { subjects, pending } = followLooks(pairs, looks, accuraciesOf(pairs, [0.05, -0.06, 0.02]));
    expect(pending).toEqual([]);
    expect(subjects[0]?.stop).toBe('cannot clear 0');
    expect(subjects[0]?.pairs).toHaveLength(3);
  });

  it('goes on to the next look when more pairs could clear 0, asking only for the new pairs', () => {
    // Mean 4 points, sd 3: not clear at 3 pairs (half-width 14.7), could be at 8 (3.2).
    const gains = [0.01, 0.04, 0.07];
    const { subjects, pending } = followLooks(pairs, looks, accuraciesOf(pairs, gains));
    expect(subjects[0]?.stop).toBeNull();
    expect(pending).toEqual(pairs.slice(3, 5));
    // Trained up to the look: decided from the first 5 pairs, not from more that happen to be there.
    const five = followLooks(pairs, looks, accuraciesOf(pairs, [...gains, 0.05, 0.03, -0.2, -0.2, -0.2]));
    expect(five.subjects[0]).toMatchObject({ stop: 'clear of 0' });
    expect(five.subjects[0]?.pairs).toHaveLength(5);
  });

  it('ends at the last look, and at the pairs a subject has when it drew fewer', () => {
    const gains = [0.01, 0.04, 0.07, 0.0, 0.06, -0.02, 0.08, 0.0];
    expect(followLooks(pairs, looks, accuraciesOf(pairs, gains)).subjects[0]).toMatchObject({
      stop: 'last look',
    });
    // With 4 pairs drawn, the looks are 3 and 4. Mean 5.33 points, sd 1.53: not clear at 3 pairs
    // (half-width 6.8), could be at 4 (3.8).
    const few = pairs.slice(0, 4);
    gains.splice(0, 4, 0.04, 0.05, 0.07, -0.1);
    const { subjects, pending } = followLooks(few, looks, accuraciesOf(few, gains.slice(0, 3)));
    expect(pending).toEqual([few[3]]);
    expect(subjects[0]?.stop).toBeNull();
    const done = followLooks(few, looks, accuraciesOf(few, gains.slice(0, 4)));
    expect(done.subjects[0]).toMatchObject({ stop: 'last look' });
    expect(done.subjects[0]?.pairs).toHaveLength(4);
  });

  it('goes on after a look of one pair, which has no spread to judge from', () => {
    const { subjects, pending } = followLooks(pairs, [1, 2], accuraciesOf(pairs, [0.3]));
    expect(subjects[0]?.stop).toBeNull();
    expect(pending).toEqual([pairs[1]]);
  });

  it('acts on a subject with no effect at most 5% of the time over all its looks', () => {
    // Bonferroni over the looks keeps the chance of a 'clear of 0' under the null at or below 5%; one 95%
    // interval at every look would not (about 9% for these looks).
    const rng = new Rng(7);
    const normal = () => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
    const trials = 4000;
    let acted = 0;
    let actedAt95 = 0;
    for (let trial = 0; trial < trials; trial++) {
      const gains = Array.from({ length: 8 }, () => normal() * 0.03);
      const accuracies = accuraciesOf(pairs, gains);
      if (followLooks(pairs, looks, accuracies).subjects[0]?.stop === 'clear of 0') acted++;
      // The same data at 95% per look: what the design would risk without the split.
      if (
        looks.some((n) => {
          const deltas = gains.slice(0, n);
          const mean = deltas.reduce((a, b) => a + b, 0) / n;
          const sd = Math.sqrt(deltas.reduce((a, d) => a + (d - mean) ** 2, 0) / (n - 1));
          const t = { 3: 4.303, 5: 2.776, 8: 2.365 }[n] as number;
          return Math.abs(mean) > (t * sd) / Math.sqrt(n);
        })
      )
        actedAt95++;
    }
    expect(acted / trials).toBeLessThanOrEqual(0.05);
    expect(actedAt95 / trials).toBeGreaterThan(0.07);
  });

  it('uses one level, 95% split over the looks', () => {
    expect(lookLevel([5])).toBe(0.95);
    expect(lookLevel([3, 5, 8])).toBeCloseTo(1 - 0.05 / 3, 12);
  });
});
