/**
 * A profile's claims about its first pass are the committed study's figures (bench/results/), and the
 * pass clears the bar a paper run needs: its survivors keep at least 90% of the full-SAHD top 20.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROFILE_NAMES, PROFILES } from '../search/strategy/profiles.js';
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

it('paper measures every operation on at least 5 pairs', () => {
  expect(PROFILES.paper.impact.samplesPerOp).toBeGreaterThanOrEqual(5);
  expect(PROFILES.paper.impact.feedback).toBe(true);
});
