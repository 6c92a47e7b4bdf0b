import { beforeAll, describe, expect, it } from 'vitest';
import { loadDataset, splitTrainVal } from '../datasets/index.js';
import type { DataSplit } from '../datasets/types.js';
import { parseArch } from '../search/arch.js';
import { estimateMemory } from '../search/memory.js';
import { runPipeline } from '../search/pipeline.js';
import type { SearchProfileSpec } from '../search/profiles.js';
import type { NetConfig } from '../snn/config.js';
import { initBackend } from '../snn/index.js';

const tiny: NetConfig = {
  inputShape: [16, 16, 1],
  numClasses: 10,
  stemChannels: 2,
  stemStride: 2,
  secondPool: 2,
  classifierHidden: 8,
  populationSize: 1,
  timesteps: 2,
  cellType: 'forward',
};
const profile: SearchProfileSpec = {
  name: 'quick',
  presets: {},
  data: { valFraction: 0.25 },
  impact: {
    ops: [1, 3],
    feedback: false,
    samplesPerOp: 1,
    train: { epochs: 1, batchSize: 8, maxStepsPerEpoch: 2, trainSubset: 32 },
  },
  sahd: { batchSize: 8, repeats: 1 },
  firstPass: { batchSize: 4, timesteps: 1, survivors: 3 },
  searchCandidates: 6,
  snasnetCandidates: 3,
  topK: 3,
  winner: { epochs: 1, batchSize: 8, maxStepsPerEpoch: 2 },
};
const budget = estimateMemory(parseArch('0003 0000 0000 0000'), tiny, { weightBits: 32 }).weightBytes;
let data: DataSplit;

beforeAll(async () => {
  await initBackend();
  const dataset = await loadDataset('synthetic', { seed: 3, limit: { train: 80, test: 20 } });
  data = splitTrainVal(dataset, { valFraction: profile.data.valFraction, seed: 3 });
});

describe('runPipeline', () => {
  it('spikenas: every stage runs, the winner fits the budget, impact evidence can be reused', async () => {
    const base = {
      mode: 'spikenas' as const,
      data,
      config: tiny,
      profile,
      budgetBytes: budget,
      weightBits: 32,
      seed: 6,
    };
    const first = await runPipeline(base);
    expect(Object.keys(first.stageWallMs).sort()).toEqual(
      [
        'cell-enhancement',
        'memory-aware-search',
        'operation-impact',
        'quantize-evaluate',
        'train-winner',
      ].sort(),
    );
    expect(first.impactReused).toBe(false);
    expect(first.space?.ops).toContain(1);
    expect(first.winner.weightBytes).toBeLessThanOrEqual(budget);
    expect(first.winner).toEqual(first.search.topK[0]);
    expect(first.quantization?.chosenBits).toBe(32);
    expect(first.training.testAccuracy).toBeGreaterThanOrEqual(0);

    const again = await runPipeline({ ...base, impact: first.impact ?? undefined });
    expect(again.impactReused).toBe(true);
    expect(again.stageWallMs['operation-impact']).toBeUndefined();
    expect(again.space).toEqual(first.space);
    expect(again.winner).toEqual(first.winner);

    // Evidence from another dataset is not reused.
    const foreign = await runPipeline({
      ...base,
      impact: { ...(first.impact as NonNullable<typeof first.impact>), datasetFingerprint: 'other' },
    });
    expect(foreign.impactReused).toBe(false);
  });

  it('snasnet: the baseline search and training, no enhancement, no quantization', async () => {
    const result = await runPipeline({
      mode: 'snasnet',
      data,
      config: tiny,
      profile,
      budgetBytes: null,
      weightBits: 32,
      seed: 6,
    });
    expect(result.impact).toBeNull();
    expect(result.space).toBeNull();
    expect(result.quantization).toBeNull();
    expect(result.search.counters.scored).toBe(3);
    expect(Object.keys(result.stageWallMs).sort()).toEqual(['memory-aware-search', 'train-winner']);
  });
});
