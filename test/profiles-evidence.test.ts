/**
 * A profile's claims about its first pass are the committed study's figures (bench/results/), and the
 * pass clears the bar a paper run needs: its survivors keep at least 90% of the full-SAHD top 20. Its
 * impact looks, replayed on the committed impact study, do what the profile says they do.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { enhanceSpace } from '../search/strategy/enhance.js';
import { impactJobs, impactResultOf } from '../search/strategy/impact.js';
import { followLooks } from '../search/strategy/impact-looks.js';
import { planImpactPairs } from '../search/strategy/impact-plan.js';
import { PROFILE_NAMES, PROFILES } from '../search/strategy/profiles.js';
import type { OpCode } from '../snn/cell-matrix.js';
import { ROOT } from './support/temporal.js';

interface FirstPassStudy {
  study: string;
  settings: {
    candidates: number;
    passes: Record<string, { batchSize: number; repeats: number; timesteps: number }>;
  };
  summary: {
    complete: number;
    passes: Record<string, { spearmanRho: { value: number }; top20Kept: Record<string, number> }>;
  };
}

interface ImpactScheduleStudy {
  settings: { ops: OpCode[]; feedback: boolean; impactSeed: number };
  results: { steps: number; key: string; valAccuracy: number; wallMs: number }[];
  summary: { schedules: Record<string, { decisions: { ops: number[]; cellType: string } }> };
}

const WITH_EVIDENCE = PROFILE_NAMES.filter((name) => PROFILES[name].firstPass?.evidence);

it('paper has measured evidence for its first pass', () => {
  expect(WITH_EVIDENCE).toContain('paper');
});

describe.each(WITH_EVIDENCE)('profile %s', (name) => {
  it('quotes its first-pass study exactly, and the pass keeps >= 18 of the top 20', () => {
    const profile = PROFILES[name];
    const pass = profile.firstPass;
    const evidence = pass?.evidence;
    if (!pass || !evidence) throw new Error(`${name} has no first-pass evidence`);
    const study = JSON.parse(readFileSync(join(ROOT, evidence.study), 'utf8')) as FirstPassStudy;
    expect(study.study).toBe('first-pass-agreement');
    expect(study.summary.complete).toBe(study.settings.candidates);
    expect(evidence.candidates).toBe(study.settings.candidates);
    expect(study.settings.passes[evidence.pass]).toEqual({
      batchSize: pass.batchSize,
      repeats: pass.repeats,
      timesteps: pass.timesteps,
    });
    const measured = study.summary.passes[evidence.pass];
    expect(evidence.spearmanRho).toBeCloseTo(measured?.spearmanRho.value as number, 4);
    expect(evidence.top20Kept).toBe(measured?.top20Kept[String(pass.survivors)]);
    expect(evidence.top20Kept).toBeGreaterThanOrEqual(18);
    // The evidence is for a search that ranks as many candidates as the study did.
    expect(profile.searchCandidates).toBe(evidence.candidates);
  });
});

it("paper's looks, replayed on the committed 300-step impact study, decide as 5 pairs each did, for less", () => {
  const study = JSON.parse(
    readFileSync(join(ROOT, 'bench/results/impact-schedule-fashion-mnist-fmnist-small-seed1.json'), 'utf8'),
  ) as ImpactScheduleStudy;
  const { settings } = study;
  const reference = study.summary.schedules['300'];
  const results = study.results.filter((r) => r.steps === 300);
  const accuracies = Object.fromEntries(results.map((r) => [r.key, r.valAccuracy]));
  const trainingMs = Object.fromEntries(results.map((r) => [r.key, r.wallMs]));
  const looks = PROFILES.paper.impact.samplesPerLook;
  const pairs = planImpactPairs({ ...settings, samplesPerLook: looks }, settings.impactSeed);
  // Every subject stops on the study's pairs: none needs a pair the study did not train.
  const { subjects, pending } = followLooks(pairs, looks, accuracies);
  expect(pending).toEqual([]);
  const result = impactResultOf(pairs, looks, accuracies, { seed: 0, datasetFingerprint: '', wallMs: 0 });
  const enhanced = enhanceSpace(result);
  expect({ ops: enhanced.ops, cellType: enhanced.cellType }).toEqual(reference?.decisions);
  const used = impactJobs(subjects.flatMap((s) => s.pairs));
  const ms = (keys: string[]) => keys.reduce((sum, key) => sum + (trainingMs[key] as number), 0);
  // The figures the profile and the README quote.
  expect(subjects.map((s) => [s.subject, s.pairs.length])).toEqual([
    [1, 5],
    [2, 3],
    [3, 3],
    [4, 3],
    ['feedback', 3],
  ]);
  expect([used.length, results.length]).toEqual([26, 36]);
  expect(Math.round((ms(used.map((j) => j.key)) / ms(Object.keys(trainingMs))) * 100)).toBe(75);
});

it('paper measures every operation on at least 3 pairs, the close ones on up to 8', () => {
  const looks = PROFILES.paper.impact.samplesPerLook;
  expect(looks[0]).toBeGreaterThanOrEqual(3);
  expect(looks.at(-1)).toBeGreaterThanOrEqual(8);
  expect(PROFILES.paper.impact.feedback).toBe(true);
});
