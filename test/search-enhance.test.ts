import { describe, expect, it } from 'vitest';
import { describeRule, enhanceSpace } from '../search/strategy/enhance.js';
import type { ImpactResult, OpImpact } from '../search/strategy/impact-plan.js';
import type { OpCode } from '../snn/cell-matrix.js';

/** Evidence with a given 95% interval (the rule reads ci; the interval's arithmetic is tested elsewhere). */
const evidence = (
  op: OpCode | 'feedback',
  meanDelta: number,
  ci: [number, number] | null,
  n = 5,
): OpImpact => ({
  op,
  name: String(op),
  meanDelta,
  std: 0.02,
  n,
  ci: ci === null ? null : { level: 0.95, low: ci[0], high: ci[1] },
  stop: 'last look',
  samples: [],
});
const impact = (impacts: OpImpact[]): ImpactResult => ({
  seed: 1,
  datasetFingerprint: 'x',
  samplesPerLook: [5],
  impacts,
  wallMs: 0,
});
const decision = (space: ReturnType<typeof enhanceSpace>, subject: string) =>
  space.decisions.find((d) => d.subject === subject);

describe('enhanceSpace', () => {
  it('drops an op only when its whole 95% interval is below 0', () => {
    const space = enhanceSpace(
      impact([
        evidence(1, 0.05, [0.02, 0.08]),
        evidence(2, -0.05, [-0.0748, -0.0252]), // whole interval below 0: dropped
        evidence(3, 0.1, [0.05, 0.15]),
        // Mean below 0 (and below it by more than one standard error), but the interval contains 0: kept.
        evidence(4, -0.03, [-0.0797, 0.0197]),
      ]),
    );
    expect(space.ops).toEqual([1, 3, 4]);
    expect(space.cellType).toBe('forward');
    expect(decision(space, 'conv1x1')).toEqual({
      subject: 'conv1x1',
      kept: false,
      reason: 'mean gain -5.00 points, 95% CI [-7.48, -2.52] below 0: dropped',
    });
    expect(decision(space, 'avgpool3x3')).toEqual({
      subject: 'avgpool3x3',
      kept: true,
      reason: 'mean gain -3.00 points, 95% CI [-7.97, +1.97] contains 0: kept',
    });
    expect(decision(space, 'conv3x3')?.reason).toBe(
      'mean gain +10.00 points, 95% CI [+5.00, +15.00] above 0: kept',
    );
  });

  it('keeps an op whose interval only touches 0', () => {
    const space = enhanceSpace(impact([evidence(4, -0.02, [-0.04, 0])]));
    expect(space.ops).toEqual([1, 2, 3, 4]);
    expect(decision(space, 'avgpool3x3')?.reason).toMatch(/contains 0: kept$/);
  });

  it('keeps ops with no interval (n < 2) or no evidence', () => {
    const space = enhanceSpace(impact([evidence(2, -0.5, null, 1)]));
    expect(space.ops).toEqual([1, 2, 3, 4]);
    expect(decision(space, 'conv1x1')).toMatchObject({
      kept: true,
      reason: 'mean gain -50.00 points, n = 1 < 2: no interval, no evidence to act on: kept',
    });
    expect(decision(space, 'avgpool3x3')?.reason).toMatch(/not analysed/);
  });

  it('always keeps skip and at least one convolution (the better one)', () => {
    const space = enhanceSpace(
      impact([
        evidence(1, -0.2, [-0.25, -0.15], 3),
        evidence(2, -0.1, [-0.15, -0.05], 3),
        evidence(3, -0.3, [-0.35, -0.25], 3),
        evidence(4, -0.2, [-0.25, -0.15], 3),
      ]),
    );
    expect(space.ops).toEqual([1, 2]);
    expect(decision(space, 'skip')?.reason).toMatch(/below 0: dropped; kept anyway: skip is always kept$/);
    expect(decision(space, 'conv1x1')?.reason).toMatch(/; kept anyway: at least one convolution stays/);
    expect(decision(space, 'conv3x3')).toMatchObject({ kept: false });
    expect(decision(space, 'avgpool3x3')).toMatchObject({ kept: false });
  });

  it('adopts feedback (backward cells) only when its whole interval is above 0', () => {
    const ops = [evidence(1, 0, [-0.1, 0.1], 3), evidence(3, 0, [-0.1, 0.1], 3)];
    const adopted = enhanceSpace(impact([...ops, evidence('feedback', 0.05, [0.0252, 0.0748])]));
    expect(adopted.cellType).toBe('backward');
    expect(decision(adopted, 'feedback')).toEqual({
      subject: 'feedback',
      kept: true,
      reason: 'mean gain +5.00 points, 95% CI [+2.52, +7.48] above 0: adopted (backward cell)',
    });
    // Mean above 0 (by more than one standard error), but the interval contains 0: not adopted.
    const straddles = enhanceSpace(impact([...ops, evidence('feedback', 0.03, [-0.0197, 0.0797])]));
    expect(straddles.cellType).toBe('forward');
    expect(decision(straddles, 'feedback')).toMatchObject({
      kept: false,
      reason: 'mean gain +3.00 points, 95% CI [-1.97, +7.97] contains 0: not adopted (forward cell)',
    });
    expect(enhanceSpace(impact([...ops, evidence('feedback', 0.02, [0, 0.04])])).cellType).toBe('forward');
    expect(enhanceSpace(impact([...ops, evidence('feedback', 0.5, null, 1)])).cellType).toBe('forward');
    expect(enhanceSpace(impact(ops)).cellType).toBe('forward');
  });

  it('states the rule it applies', () => {
    const space = enhanceSpace(impact([]));
    expect(space.rule).toBe(describeRule([5]));
    expect(space.rule).toContain('95% confidence interval, mean ± t(0.975, n - 1) · std / sqrt(n)');
    expect(space.rule).toContain('Every operation gets 5 pairs.');
    expect(space.rule).toContain('dropped only when its whole interval is below 0');
    expect(space.rule).toContain('adopted only when its whole interval is above 0');
    expect(space.rule).toContain('with n < 2 there is no interval and no evidence to act on');
    expect(space.rule).toContain('skip is always kept');
    expect(space.rule).toContain('at least one convolution');
  });

  it('states the sequential design and its level, and names the level in every reason', () => {
    const sequential = enhanceSpace({
      ...impact([
        { ...evidence(2, -0.05, [-0.08, -0.02]), ci: { level: 1 - 0.05 / 3, low: -0.08, high: -0.02 } },
      ]),
      samplesPerLook: [3, 5, 8],
    });
    expect(sequential.rule).toContain('98.3% confidence interval, mean ± t(0.9917, n - 1) · std / sqrt(n)');
    expect(sequential.rule).toContain(
      '3 looks of 3, 5, 8 per operation, at 98.3% each (95% split over the looks)',
    );
    expect(sequential.rule).toContain('could not exclude 0 at 8 pairs');
    expect(decision(sequential, 'conv1x1')?.reason).toBe(
      'mean gain -5.00 points, 98.3% CI [-8.00, -2.00] below 0: dropped',
    );
  });
});
