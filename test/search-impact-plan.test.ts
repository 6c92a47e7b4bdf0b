import { describe, expect, it } from 'vitest';
import { InputError } from '../common/errors.js';
import { canonicalizeArch, parseArch } from '../search/arch.js';
import {
  impactKey,
  planImpactPairs,
  summariseImpact,
  withoutFeedback,
  withoutOp,
} from '../search/stages/impact-plan.js';

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
  const request = { ops: [1, 2, 3, 4] as (1 | 2 | 3 | 4)[], feedback: true, samplesPerOp: 3 };

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

  it('rejects bad settings', () => {
    expect(() => planImpactPairs({ ...request, samplesPerOp: 0 }, 1)).toThrow(InputError);
    expect(() => planImpactPairs({ ...request, ops: [5 as 1] }, 1)).toThrow(InputError);
  });
});

describe('summariseImpact', () => {
  it('takes the mean and the sample std of accWith - accWithout', () => {
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
    const impact = summariseImpact(3, pairs, accuracies);
    expect(impact.meanDelta).toBeCloseTo(0.2, 12);
    expect(impact.std).toBeCloseTo(Math.sqrt(0.02), 12);
    expect(impact).toMatchObject({ op: 3, name: 'conv3x3', n: 2 });
    expect(impact.samples[1]).toEqual({ withArch: 'c', withoutArch: 'b', accWith: 0.6, accWithout: 0.5 });
    expect(summariseImpact(3, pairs.slice(0, 1), accuracies).std).toBe(0);
  });
});
