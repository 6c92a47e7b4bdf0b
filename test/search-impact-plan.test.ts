import { describe, expect, it } from 'vitest';
import { InputError } from '../common/errors.js';
import { canonicalizeArch, parseArch } from '../search/space/arch.js';
import { studentTCdf, studentTQuantile, tInterval } from '../search/stats/t-interval.js';
import {
  impactKey,
  planImpactPairs,
  summariseImpact,
  withoutFeedback,
  withoutOp,
} from '../search/strategy/impact-plan.js';

const hasFeedback = (arch: string) =>
  parseArch(arch).some((row, i) => row.some((op, j) => i > j && op !== 0));

describe('withoutOp / withoutFeedback', () => {
  it('removes the op and prunes what it alone kept alive', () => {
    // 0 -skip-> 2 -conv3x3-> 3 and 0 -conv1x1-> 3: without skip node 2 is unreachable.
    expect(withoutOp('0012 0000 0003 0000', 1)).toBe('0002 0000 0000 0000');
    // Without conv3x3 node 2 cannot reach 3; 0->3 carried conv3x3 and becomes skip (neutral).
    expect(withoutOp('0013 0000 0003 0000', 3)).toBe('0001 0000 0000 0000');
    // A skip on 0->3 becomes avgpool3x3, the parameter-free stand-in for skip.
    expect(withoutOp('0001 0000 0000 0000', 1)).toBe('0004 0000 0000 0000');
  });

  it('drops every feedback edge and keeps the forward cell', () => {
    expect(withoutFeedback('0302 0030 3003 0000')).toBe(canonicalizeArch(parseArch('0302 0030 0003 0000')));
  });
});

describe('planImpactPairs', () => {
  // Looks at 2 and 3 pairs: 3 are drawn per subject.
  const request = { ops: [1, 2, 3, 4] as (1 | 2 | 3 | 4)[], feedback: true, samplesPerLook: [2, 3] };

  it('is seeded', () => {
    expect(planImpactPairs(request, 4)).toEqual(planImpactPairs(request, 4));
    expect(planImpactPairs(request, 4)).not.toEqual(planImpactPairs(request, 5));
  });

  it('pairs forward cells containing each op with their canonical variant without it', () => {
    const pairs = planImpactPairs(request, 4);
    for (const op of [1, 2, 3, 4] as const) {
      const mine = pairs.filter((p) => p.subject === op);
      expect(mine).toHaveLength(3);
      expect(new Set(mine.map((p) => p.withArch)).size).toBe(3);
      for (const p of mine) {
        expect(p.cellType).toBe('forward');
        expect(p.withArch.replace(/ /g, '')).toContain(String(op));
        // Canonical forms may route a path through a skip node (same computation), so only ops other
        // than skip can be checked for absence in the string.
        if (op !== 1) expect(p.withoutArch.replace(/ /g, '')).not.toContain(String(op));
        for (const arch of [p.withArch, p.withoutArch]) {
          expect(canonicalizeArch(parseArch(arch, 'forward'))).toBe(arch);
        }
      }
    }
  });

  it('pairs backward cells with feedback against the same cells without it', () => {
    const feedback = planImpactPairs(request, 4).filter((p) => p.subject === 'feedback');
    expect(feedback).toHaveLength(3);
    for (const p of feedback) {
      expect(p.cellType).toBe('backward');
      expect(hasFeedback(p.withArch)).toBe(true);
      expect(hasFeedback(p.withoutArch)).toBe(false);
      expect(p.withoutArch).toBe(withoutFeedback(p.withArch));
    }
  });

  it('draws the first look of a longer design as the first pairs of each subject', () => {
    const longer = planImpactPairs({ ...request, samplesPerLook: [2, 3, 6] }, 4);
    for (const subject of [1, 2, 3, 4, 'feedback'] as const) {
      const mine = planImpactPairs(request, 4).filter((p) => p.subject === subject);
      expect(longer.filter((p) => p.subject === subject).slice(0, 3)).toEqual(mine);
    }
  });

  it('rejects bad settings, naming the field and the allowed values', () => {
    for (const [looks, field] of [
      [[], 'samplesPerLook'],
      [[0], 'samplesPerLook[0]'],
      [[3, 3], 'samplesPerLook[1]'],
      [[3, 2.5], 'samplesPerLook[1]'],
    ] as const) {
      expect(() => planImpactPairs({ ...request, samplesPerLook: [...looks] }, 1)).toThrow(
        expect.objectContaining({ field, message: expect.stringMatching(/increasing integers >= 1/) }),
      );
    }
    expect(() => planImpactPairs({ ...request, ops: [5 as 1] }, 1)).toThrow(InputError);
  });
});

describe('summariseImpact', () => {
  it('takes the mean, the sample std and the interval at the given level of accWith - accWithout', () => {
    const pairs = [
      { subject: 3 as const, cellType: 'forward' as const, withArch: 'a', withoutArch: 'b' },
      { subject: 3 as const, cellType: 'forward' as const, withArch: 'c', withoutArch: 'b' },
    ];
    const accuracies = {
      [impactKey('forward', 'a')]: 0.8,
      [impactKey('forward', 'b')]: 0.5,
      [impactKey('forward', 'c')]: 0.6,
    };
    // Gains 0.3 and 0.1: mean 0.2, sample std sqrt((0.01 + 0.01) / 1).
    const impact = summariseImpact(3, pairs, accuracies, 0.95, 'last look');
    expect(impact.meanDelta).toBeCloseTo(0.2, 12);
    expect(impact.std).toBeCloseTo(Math.sqrt(0.02), 12);
    expect(impact).toMatchObject({ op: 3, name: 'conv3x3', n: 2, stop: 'last look' });
    expect(impact.samples[1]).toEqual({ withArch: 'c', withoutArch: 'b', accWith: 0.6, accWithout: 0.5 });
    // 95% interval: 0.2 ± t(0.975, 1) · sqrt(0.02) / sqrt(2) = 0.2 ± 12.7062 · 0.1.
    expect(impact.ci?.level).toBe(0.95);
    expect(impact.ci?.low).toBeCloseTo(0.2 - 1.270620474, 8);
    expect(impact.ci?.high).toBeCloseTo(0.2 + 1.270620474, 8);
    const single = summariseImpact(3, pairs.slice(0, 1), accuracies, 0.95, 'last look');
    expect(single.std).toBe(0);
    expect(single.ci).toBeNull();
  });

  it('gives the 95% Student-t interval of the mean gain over five pairs', () => {
    const gains = [-0.05, -0.03, -0.04, -0.02, -0.06];
    const pairs = gains.map((_, k) => ({
      subject: 2 as const,
      cellType: 'forward' as const,
      withArch: `w${k}`,
      withoutArch: 'b',
    }));
    const accuracies: Record<string, number> = { [impactKey('forward', 'b')]: 0.5 };
    gains.forEach((g, k) => {
      accuracies[impactKey('forward', `w${k}`)] = 0.5 + g;
    });
    const impact = summariseImpact(2, pairs, accuracies, 0.95, 'clear of 0');
    // Mean -0.04, sample std sqrt(0.001 / 4) = 0.0158114, SE 0.00707107, t(0.975, 4) = 2.776445.
    expect(impact.n).toBe(5);
    expect(impact.meanDelta).toBeCloseTo(-0.04, 12);
    expect(impact.std).toBeCloseTo(0.0158113883, 9);
    expect(impact.ci?.low).toBeCloseTo(-0.0596324, 6);
    expect(impact.ci?.high).toBeCloseTo(-0.0203676, 6);
    // At 98.33% (95% over 3 looks), t(0.991667, 4) = 3.960786 (mpmath, by quadrature of the density).
    const strict = summariseImpact(2, pairs, accuracies, 1 - 0.05 / 3, 'clear of 0');
    expect(strict.ci?.low).toBeCloseTo(-0.04 - 3.960786 * 0.00707107, 6);
    // The stage file carries exactly these fields per operation.
    expect(Object.keys(JSON.parse(JSON.stringify(impact))).sort()).toEqual([
      'ci',
      'meanDelta',
      'n',
      'name',
      'op',
      'samples',
      'std',
      'stop',
    ]);
  });
});

describe('Student t', () => {
  it('has the textbook 97.5% quantiles', () => {
    expect(studentTQuantile(0.975, 1)).toBeCloseTo(12.706, 3);
    expect(studentTQuantile(0.975, 4)).toBeCloseTo(2.776, 3);
    expect(studentTQuantile(0.975, 9)).toBeCloseTo(2.262, 3);
    expect(studentTQuantile(0.975, 29)).toBeCloseTo(2.045, 3);
    expect(studentTQuantile(0.975, 120)).toBeCloseTo(1.98, 3);
    // Closed forms: df 1 (Cauchy) tan(pi (p - 1/2)); df 2 (2p - 1) / sqrt(2p (1 - p)).
    expect(studentTQuantile(0.975, 1)).toBeCloseTo(Math.tan(0.475 * Math.PI), 9);
    expect(studentTQuantile(0.975, 2)).toBeCloseTo(0.95 / Math.sqrt(2 * 0.975 * 0.025), 9);
    expect(studentTQuantile(0.975, 1e7)).toBeCloseTo(1.959964, 5);
    expect(studentTQuantile(0.995, 10)).toBeCloseTo(3.169273, 5);
    expect(studentTQuantile(0.9, 3)).toBeCloseTo(1.637744, 5);
  });

  it('is symmetric, inverts the distribution function, and rejects bad arguments', () => {
    expect(studentTQuantile(0.5, 7)).toBe(0);
    expect(studentTQuantile(0.025, 4)).toBeCloseTo(-studentTQuantile(0.975, 4), 12);
    for (const [p, df] of [
      [0.975, 3],
      [0.8, 12],
      [0.01, 2.5],
    ] as const) {
      expect(studentTCdf(studentTQuantile(p, df), df)).toBeCloseTo(p, 10);
    }
    expect(studentTCdf(0, 5)).toBeCloseTo(0.5, 12);
    expect(() => studentTQuantile(1, 4)).toThrow(RangeError);
    expect(() => studentTQuantile(0.975, 0)).toThrow(RangeError);
  });

  it('gives the interval of a mean at a level, none for fewer than two samples', () => {
    const ci = tInterval(1, 2, 5, 0.95);
    expect(ci?.level).toBe(0.95);
    expect(ci?.low).toBeCloseTo(1 - (2.776445105 * 2) / Math.sqrt(5), 8);
    expect(ci?.high).toBeCloseTo(1 + (2.776445105 * 2) / Math.sqrt(5), 8);
    expect(tInterval(1, 2, 11, 0.99)?.high).toBeCloseTo(1 + (3.169273 * 2) / Math.sqrt(11), 5);
    expect(tInterval(0.3, 0, 1, 0.95)).toBeNull();
    expect(tInterval(0, 0, 0, 0.95)).toBeNull();
    expect(() => tInterval(0, 1, 5, 1)).toThrow(RangeError);
  });
});
