/**
 * Later nights reuse what does not change: operation impact (same data, network, settings and seed, any
 * budget) and the winner's training and quantization (same winner and seeds as well). Real runtime, real
 * files: whole searches in process, one after another in one artifact store.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { openStore } from '../artifacts/index.js';
import { RUN_FILES, RunArtifacts, stageFile } from '../artifacts/run.js';
import { printSummary } from '../cli/output.js';
import type { SearchRequest } from '../contract/request.js';
import type { SearchSummary } from '../contract/summary.js';
import { runSearchLocally } from '../pipeline/local.js';
import type { QuantizeStage } from '../pipeline/stages/quantize-evaluate.js';
import { quantizeAwareFrom, type TrainStage } from '../pipeline/stages/train-winner.js';

const artifacts = mkdtempSync(join(tmpdir(), 'spikenas-reuse-'));
const night: SearchRequest = {
  dataset: 'synthetic',
  budget: '64KiB',
  mode: 'spikenas',
  profile: 'quick',
  seed: 5,
  weightBits: [4],
  shards: 1,
  artifacts,
};

/** The lines `spikenas run` prints for a finished search. */
function summaryLines(summary: SearchSummary): string[] {
  const printed = vi.spyOn(console, 'log').mockImplementation(() => {});
  try {
    printSummary(summary);
    return printed.mock.calls.map((call) => String(call[0]));
  } finally {
    printed.mockRestore();
  }
}

async function stageOf<T>(runId: string, stage: Parameters<typeof stageFile>[0]): Promise<T> {
  return new RunArtifacts(await openStore(artifacts), runId).getJson<T>(stageFile(stage));
}

describe('a later night on unchanged data', () => {
  it('reuses the first night’s impact and winner, gives the same result, and says so', async () => {
    const first = await runSearchLocally(night, { runId: 'night-1' });
    expect(first.reusedFrom).toEqual({ operationImpact: null, winnerTraining: null });
    // Searched at 4 bits, the winner trains its last epoch again quantization-aware, and that is stored.
    expect(first.weightBits).toBe(4);
    expect(first.quantization?.method).toBe('quantization-aware');
    const firstTrained = await stageOf<TrainStage>('night-1', 'train-winner');
    expect(firstTrained.quantizationAware).toMatchObject({
      bits: 4,
      fromEpoch: quantizeAwareFrom(firstTrained.epochs),
    });
    const quantized = await stageOf<QuantizeStage>('night-1', 'quantize-evaluate');
    expect(quantized.tried.map((t) => [t.bits, t.method])).toEqual([
      [32, 'none'],
      [4, 'post-training'],
      [4, 'quantization-aware'],
    ]);
    expect(first.accuracy).toBe(quantized.tried[2]?.accuracy);
    expect(first.quantization?.postTrainingAccuracy).toBe(quantized.tried[1]?.accuracy);
    const firstReportText = readFileSync(fileURLToPath(first.artifacts.report), 'utf8');
    expect(firstReportText).toContain(
      '| test accuracy after quantization-aware training at 4 bits (stored) |',
    );

    const second = await runSearchLocally(night, { runId: 'night-2' });
    expect(second.reusedFrom).toEqual({ operationImpact: 'night-1', winnerTraining: 'night-1' });
    for (const field of [
      'winner',
      'weightBits',
      'weightBytes',
      'accuracy',
      'accuracyBeforeQuantization',
      'quantization',
    ] as const) {
      expect(second[field]).toEqual(first[field]);
    }
    // The stored model is the first night's, byte for byte.
    const weightsOf = (uri: string) =>
      readFileSync(fileURLToPath(uri.replace(/model\.json$/, 'weights.bin')));
    expect(weightsOf(second.artifacts.weights).equals(weightsOf(first.artifacts.weights))).toBe(true);
    const trained = await stageOf<TrainStage>('night-2', 'train-winner');
    expect(trained.trainedBy).toBe('night-1');
    expect(trained.testAccuracy).toBe(first.accuracyBeforeQuantization);
    // Reuse is a lookup, not a training: far below the first night's training time.
    expect(second.stageWallMs['train-winner']).toBeLessThan(
      (first.stageWallMs['train-winner'] as number) / 10,
    );
    const report = readFileSync(fileURLToPath(second.artifacts.report), 'utf8');
    expect(report).toContain(
      '| reused from earlier runs | operation impact from night-1; winner training and quantization from night-1 |',
    );
    const firstReport = readFileSync(fileURLToPath(first.artifacts.report), 'utf8');
    expect(firstReport).toContain('| reused from earlier runs | nothing |');
    // The CLI's summary says it too, and says nothing of reuse when nothing was reused.
    expect(summaryLines(second)).toContainEqual(
      expect.stringMatching(/^reused +operation impact from night-1; trained winner from night-1$/),
    );
    expect(summaryLines(first).filter((line) => line.startsWith('reused'))).toEqual([]);
  });

  it('shares impact across budgets but trains again when the seed changes', async () => {
    const tighter = await runSearchLocally({ ...night, budget: '40KiB' }, { runId: 'night-40k' });
    expect(tighter.reusedFrom.operationImpact).toBe('night-1');
    expect(tighter.weightBytes).toBeLessThanOrEqual(40 * 1024);

    // At 32 bits nothing is quantized, so nothing trains quantization-aware.
    const reseeded = await runSearchLocally(
      { ...night, seed: 6, weightBits: [32] },
      { runId: 'night-seed6' },
    );
    expect(reseeded.reusedFrom).toEqual({ operationImpact: null, winnerTraining: null });
    expect(reseeded.quantization).toBeNull();
    const reseededTrained = await stageOf<TrainStage>('night-seed6', 'train-winner');
    expect(reseededTrained.quantizationAware).toBeNull();
    const reseededQuantized = await stageOf<QuantizeStage>('night-seed6', 'quantize-evaluate');
    expect(reseededQuantized.tried.map((t) => [t.bits, t.method])).toEqual([[32, 'none']]);
    const manifest = await new RunArtifacts(await openStore(artifacts), 'night-seed6').verify();
    expect(manifest.objects.map((o) => o.name)).toContain(RUN_FILES.modelJson);
  });
});

describe('the quantization-aware phase', () => {
  it("is the final sixth of the winner's epochs, rounded up, at least one", () => {
    expect([1, 2, 3, 6, 7, 12, 15].map(quantizeAwareFrom)).toEqual([0, 1, 2, 5, 5, 10, 12]);
  });
});
