import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { WorkContext } from '../common/work-context.js';
import { loadDataset, splitTrainVal } from '../datasets/index.js';
import type { DataSplit } from '../datasets/types.js';
import { runSearchLocally } from '../pipeline/local.js';
import { shardCandidates } from '../search/predictors/scoring.js';
import { parseArch } from '../search/space/arch.js';
import { estimateMemory } from '../search/space/memory.js';
import { type ImpactResume, impactJobs, impactResultOf, trainImpactJobs } from '../search/strategy/impact.js';
import { planImpactPairs } from '../search/strategy/impact-plan.js';
import { quantizeForBudget, quantizeTrainedAware } from '../search/strategy/quantize-to-fit.js';
import {
  evaluateNetwork,
  initBackend,
  quantizeWeights,
  type SerializedWeights,
  trainNetwork,
} from '../snn/index.js';
import { TINY_CONFIG } from './support/configs.js';

const tiny = TINY_CONFIG;
const shortTraining = { epochs: 1, batchSize: 8, maxStepsPerEpoch: 2, trainSubset: 32 };
let data: DataSplit;

beforeAll(async () => {
  await initBackend();
  const dataset = await loadDataset('synthetic', { seed: 2, limit: { train: 80, test: 20 } });
  data = splitTrainVal(dataset, { valFraction: 0.25, seed: 2 });
});

describe('operation-impact trainings on the real runtime', () => {
  const settings = { config: tiny, ops: [1, 3] as (1 | 3)[], feedback: false, samplesPerLook: [1] };
  const pairs = planImpactPairs(settings, 8);
  const jobs = impactJobs(pairs);
  const about = { seed: 8, datasetFingerprint: 'synthetic', wallMs: 0 };
  const train = (list: typeof jobs, ctx: Omit<WorkContext<ImpactResume>, 'seed'> = {}) =>
    trainImpactJobs({ config: tiny, data, train: shortTraining, jobs: list }, { seed: 8, ...ctx });
  let whole: ImpactResume;

  it('trains every distinct cell once, is deterministic and resumes to the identical result', async () => {
    expect(new Set(jobs.map((j) => j.key)).size).toBe(jobs.length);
    expect(jobs.length).toBeGreaterThanOrEqual(2);
    const progress: ImpactResume[] = [];
    whole = await train(jobs, { onProgress: (p) => void progress.push(p.resume) });
    expect(Object.keys(whole.accuracies)).toEqual(jobs.map((j) => j.key));
    expect(progress).toHaveLength(jobs.length);
    const result = impactResultOf(pairs, [1], whole.accuracies, about);
    expect(result.impacts.map((i) => i.op)).toEqual([1, 3]);
    for (const impact of result.impacts) {
      expect(impact.n).toBe(1);
      const [sample] = impact.samples;
      expect(impact.meanDelta).toBeCloseTo((sample?.accWith ?? 0) - (sample?.accWithout ?? 0), 12);
    }
    expect(() => impactResultOf(pairs, [1], progress[0]?.accuracies ?? {}, about)).toThrow(
      /no trained accuracy/,
    );

    // Interrupt after the first training, then continue from the persisted resume point.
    const controller = new AbortController();
    let saved: ImpactResume | undefined;
    await expect(
      train(jobs, {
        signal: controller.signal,
        onProgress: (p) => {
          saved = JSON.parse(JSON.stringify(p.resume));
          controller.abort();
        },
      }),
    ).rejects.toThrow();
    expect(Object.keys(saved?.accuracies ?? {})).toHaveLength(1);
    let resumedTrainings = 0;
    const resumed = await train(jobs, {
      ...(saved ? { resume: saved } : {}),
      onProgress: () => void resumedTrainings++,
    });
    expect(resumedTrainings).toBe(jobs.length - 1);
    expect(resumed).toEqual(whole);
  });

  it('gives identical accuracies and impacts however the trainings are sharded', async () => {
    const shards = shardCandidates(jobs, 2);
    expect(shards.every((shard) => shard.length > 0)).toBe(true);
    const merged: Record<string, number> = {};
    for (const shard of shards) Object.assign(merged, (await train(shard)).accuracies);
    expect(merged).toEqual(whole.accuracies);
    expect(impactResultOf(pairs, [1], merged, about).impacts).toEqual(
      impactResultOf(pairs, [1], whole.accuracies, about).impacts,
    );
  });
});

describe('quantizeForBudget on the real runtime', () => {
  it('tries the widths in order (32, 8, 4): the first that fits, else none', async () => {
    const arch = parseArch('0003 0000 0000 0000');
    const trained = await trainNetwork(arch, tiny, data, shortTraining, { seed: 1 });
    const bytes32 = estimateMemory(arch, tiny, { weightBits: 32 }).weightBytes;
    const base = {
      arch,
      config: tiny,
      weights: trained.weights,
      test: data.test,
      batchSize: 10,
      accuracy32: trained.testAccuracy,
      widths: [32, 8, 4] as const,
      whenNoneFits: 'refuse' as const,
    };

    const fits = await quantizeForBudget({ ...base, budgetBytes: bytes32 });
    expect(fits.chosenBits).toBe(32);
    expect(fits.chosenMethod).toBe('none');
    expect(fits.tried).toEqual([
      { bits: 32, method: 'none', bytes: bytes32, fits: true, accuracy: trained.testAccuracy },
    ]);

    const eight = await quantizeForBudget({ ...base, budgetBytes: Math.floor(bytes32 / 2) });
    expect(eight.chosenBits).toBe(8);
    expect(eight.chosenMethod).toBe('post-training');
    expect(eight.tried.map((t) => [t.bits, t.fits])).toEqual([
      [32, false],
      [8, true],
    ]);
    expect(eight.tried[1]?.bytes).toBeLessThanOrEqual(Math.floor(bytes32 / 2));
    expect(eight.tried[1]?.accuracy).toBeGreaterThanOrEqual(0);

    const none = await quantizeForBudget({ ...base, budgetBytes: 10 });
    expect(none.chosenBits).toBeNull();
    expect(none.weights).toBeNull();
    expect(none.tried.map((t) => t.bits)).toEqual([32, 8, 4]);
    expect(none.tried.every((t) => !t.fits)).toBe(true);

    // snasnet's budget-blind winner: the narrowest width is stored over the budget, and reported so.
    const over = await quantizeForBudget({ ...base, budgetBytes: 10, whenNoneFits: 'keep-narrowest' });
    expect(over.chosenBits).toBe(4);
    expect(over.chosenMethod).toBe('post-training');
    expect(over.tried).toEqual(none.tried);
    expect(over.weights).toEqual((await quantizeWeights(trained.weights, 4)).weights);
  });
});

describe('quantizeTrainedAware on the real runtime', () => {
  it('reports 32 bits, post-training and quantization-aware at the searched width, and stores the QAT codes', async () => {
    const arch = parseArch('0003 0000 0000 0000');
    const plain = await trainNetwork(arch, tiny, data, shortTraining, { seed: 1 });
    const aware = await trainNetwork(
      arch,
      tiny,
      data,
      { ...shortTraining, quantizeAware: { bits: 4, fromEpoch: 0 } },
      { seed: 1 },
    );
    const bytes4 = estimateMemory(arch, tiny, { weightBits: 4 }).storedBytes;
    const result = await quantizeTrainedAware({
      arch,
      config: tiny,
      weights: plain.weights,
      quantizeAwareWeights: aware.weights,
      bits: 4,
      budgetBytes: bytes4,
      test: data.test,
      batchSize: 10,
      accuracy32: plain.testAccuracy,
    });
    expect(result.tried.map((t) => [t.bits, t.method, t.fits])).toEqual([
      [32, 'none', false],
      [4, 'post-training', true],
      [4, 'quantization-aware', true],
    ]);
    expect(result.tried[1]?.bytes).toBe(bytes4);
    expect(result.chosenBits).toBe(4);
    expect(result.chosenMethod).toBe('quantization-aware');
    // The stored weights are the QAT training's own codes, not the plain training's.
    expect(result.weights).toEqual((await quantizeWeights(aware.weights, 4)).weights);
    expect(result.weights).not.toEqual((await quantizeWeights(plain.weights, 4)).weights);
    const evaluated = await evaluateNetwork(arch, tiny, result.weights as SerializedWeights, data.test, 10);
    expect(result.tried[2]?.accuracy).toBe(evaluated.accuracy);
  });
});

describe('a snasnet search with a budget, in process (runSearchLocally)', () => {
  it('searches without the budget, then quantizes the winner to fit it, and the report says what it cost', async () => {
    // 26 KiB is below every network's 32-bit weights on this data (the backbone alone takes 26 864 B) and
    // above every network's 8-bit weights (at most 24 284 B of codes, plus the per-channel scales).
    const budgetBytes = 26 * 1024;
    const summary = await runSearchLocally({
      dataset: 'synthetic',
      budget: '26KiB',
      mode: 'snasnet',
      profile: 'quick',
      seed: 11,
      weightBits: [8, 6, 4],
      shards: 1,
      artifacts: mkdtempSync(join(tmpdir(), 'spikenas-snasnet-budget-')),
    });
    expect(summary.budgetBytes).toBe(budgetBytes);
    // The search knew no budget: at 32 bits, every candidate it scored is over the budget.
    expect(summary.counters.overBudget).toBe(0);
    expect(summary.counters.scored).toBeGreaterThan(0);
    expect(summary.params * 4).toBeGreaterThan(budgetBytes);
    // Its winner was quantized to fit.
    expect(summary.weightBits).toBeLessThan(32);
    expect(summary.weightBytes).toBeLessThanOrEqual(budgetBytes);

    const report = readFileSync(fileURLToPath(summary.artifacts.report), 'utf8');
    expect(report).toContain('| budget (weights) | 26.0 KiB (26624 bytes) |');
    expect(report).toContain(
      'The search did not filter by the budget: only the winner was quantized to fit it.',
    );
    const lost = ((summary.accuracyBeforeQuantization - summary.accuracy) * 100).toFixed(2);
    expect(report).toContain(`| test accuracy lost to post-training quantization | ${lost} pp |`);
    expect(summary.quantization).toEqual({
      method: 'post-training',
      postTrainingAccuracy: summary.accuracy,
    });
    expect(report).toMatch(/\| fits the budget \| yes, [\d.]+% of the budget \|/);
  });
});
