import { describe, expect, it } from 'vitest';
import type { OpCode } from '../search/arch.types.js';
import { enhanceSpace } from '../search/stages/enhance.js';
import type { ImpactResult, OpImpact } from '../search/stages/types.js';

const evidence = (op: OpCode | 'feedback', meanDelta: number, std: number, n: number): OpImpact => ({
  op,
  name: String(op),
  meanDelta,
  std,
  n,
  samples: [],
});
const impact = (impacts: OpImpact[]): ImpactResult => ({
  seed: 1,
  datasetFingerprint: 'x',
  impacts,
  wallMs: 0,
});

describe('enhanceSpace', () => {
  it('drops an op only when its mean gain is below zero by more than one standard error', () => {
    const space = enhanceSpace(
      impact([
        evidence(1, 0.05, 0.02, 4),
        evidence(2, -0.03, 0.02, 4), // SE 0.01: -0.03 < -0.01 -> harms, dropped
        evidence(3, 0.1, 0.05, 4),
        evidence(4, -0.01, 0.04, 4), // SE 0.02: -0.01 > -0.02 -> kept
      ]),
    );
    expect(space.ops).toEqual([1, 3, 4]);
    expect(space.cellType).toBe('forward');
    expect(space.decisions.find((d) => d.subject === 'conv1x1')).toMatchObject({ kept: false });
    expect(space.rule).toMatch(/standard error/);
  });

  it('keeps ops with too little or no evidence', () => {
    const space = enhanceSpace(impact([evidence(2, -0.5, 0, 1)]));
    expect(space.ops).toEqual([1, 2, 3, 4]);
    expect(space.decisions.find((d) => d.subject === 'avgpool3x3')?.reason).toMatch(/not analysed/);
  });

  it('always keeps skip and at least one convolution (the better one)', () => {
    const space = enhanceSpace(
      impact([
        evidence(1, -0.2, 0.01, 3),
        evidence(2, -0.1, 0.01, 3),
        evidence(3, -0.3, 0.01, 3),
        evidence(4, -0.2, 0.01, 3),
      ]),
    );
    expect(space.ops).toEqual([1, 2]);
    expect(space.decisions.find((d) => d.subject === 'skip')?.reason).toMatch(/always kept/);
    expect(space.decisions.find((d) => d.subject === 'conv1x1')?.reason).toMatch(/at least one convolution/);
  });

  it('adopts feedback (backward cells) only when it clearly helps', () => {
    const ops = [evidence(1, 0, 0.1, 3), evidence(3, 0, 0.1, 3)];
    expect(enhanceSpace(impact([...ops, evidence('feedback', 0.05, 0.02, 4)])).cellType).toBe('backward');
    expect(enhanceSpace(impact([...ops, evidence('feedback', 0.005, 0.02, 4)])).cellType).toBe('forward');
    expect(enhanceSpace(impact(ops)).cellType).toBe('forward');
  });

  it('with requireGain keeps only ops that clearly help', () => {
    const space = enhanceSpace(
      impact([
        evidence(1, 0.05, 0.02, 4),
        evidence(2, 0.005, 0.02, 4),
        evidence(3, 0.1, 0.05, 4),
        evidence(4, 0, 0, 4),
      ]),
      { requireGain: true },
    );
    expect(space.ops).toEqual([1, 3]);
  });
});
