/**
 * The whole search in one process, stage after stage (no Temporal): what the CLI's local run and the
 * benchmarks call. spikenas: operation impact (or evidence handed in from an earlier run on the same data)
 * -> cell enhancement -> memory-aware search -> train the winner -> quantize if 32-bit weights miss the
 * budget. snasnet: the baseline search -> train the winner (no memory awareness, no quantization).
 * Seeds of the stages derive from the run seed, so a stage's result does not depend on which ran before.
 */

import { InfeasibleBudgetError } from '../common/errors.js';
import { deriveSeed } from '../common/rng.js';
import type { DataSplit } from '../datasets/types.js';
import type { NetConfig } from '../snn/config.js';
import { type TrainResult, trainNetwork } from '../snn/index.js';
import type { StageName } from '../workflows/types.js';
import { parseArch } from './arch.js';
import type { OpCode } from './arch.types.js';
import type { SearchProfileSpec } from './profiles.js';
import { enhanceSpace } from './stages/enhance.js';
import { analyzeOperationImpact } from './stages/impact.js';
import { type QuantizeResult, quantizeForBudget } from './stages/quantize.js';
import { runSearchStage } from './stages/search.js';
import type {
  EnhancedSpace,
  ImpactResult,
  ScoredCandidate,
  SearchResult,
  StageProgress,
} from './stages/types.js';

const FULL_SPACE: OpCode[] = [1, 2, 3, 4];

export interface PipelineInput {
  mode: 'spikenas' | 'snasnet';
  data: DataSplit;
  config: NetConfig;
  profile: SearchProfileSpec;
  budgetBytes: number | null;
  weightBits: number;
  seed: number;
  /** Impact evidence from an earlier run; used when its seed and dataset fingerprint match. */
  impact?: ImpactResult;
  signal?: AbortSignal;
  onProgress?: (stage: StageName, progress: StageProgress<unknown>) => void;
}

export interface PipelineResult {
  impact: ImpactResult | null;
  /** True when `impact` came from the input instead of being measured. */
  impactReused: boolean;
  space: EnhancedSpace | null;
  search: SearchResult;
  winner: ScoredCandidate;
  training: TrainResult;
  quantization: QuantizeResult | null;
  stageWallMs: Partial<Record<StageName, number>>;
}

export async function runPipeline(input: PipelineInput): Promise<PipelineResult> {
  const { mode, data, profile, seed, signal } = input;
  const stageWallMs: Partial<Record<StageName, number>> = {};
  const timed = async <T>(stage: StageName, run: () => Promise<T> | T): Promise<T> => {
    const started = Date.now();
    const value = await run();
    stageWallMs[stage] = Date.now() - started;
    return value;
  };
  const progress = (stage: StageName) => (p: StageProgress<unknown>) => input.onProgress?.(stage, p);

  let impact: ImpactResult | null = null;
  let impactReused = false;
  let space: EnhancedSpace | null = null;
  let config = input.config;
  let ops = FULL_SPACE;
  if (mode === 'spikenas') {
    const impactSeed = deriveSeed(seed, 'stage/impact');
    const reusable =
      input.impact !== undefined &&
      input.impact.seed === impactSeed &&
      input.impact.datasetFingerprint === data.fingerprint;
    impactReused = reusable;
    impact = reusable
      ? (input.impact as ImpactResult)
      : await timed('operation-impact', () =>
          analyzeOperationImpact(
            { config, data, ...profile.impact },
            { seed: impactSeed, signal, onProgress: progress('operation-impact') },
          ),
        );
    const enhanced = await timed('cell-enhancement', () => enhanceSpace(impact as ImpactResult));
    space = enhanced;
    ops = enhanced.ops;
    config = { ...config, cellType: enhanced.cellType };
  }

  const { result: search } = await timed('memory-aware-search', () =>
    runSearchStage(
      {
        mode,
        ops,
        config,
        budgetBytes: input.budgetBytes,
        weightBits: input.weightBits,
        profile,
        images: data.train,
      },
      { seed: deriveSeed(seed, 'stage/search'), signal, onProgress: progress('memory-aware-search') },
    ),
  );
  const winner = search.topK[0];
  if (winner === undefined) throw new InfeasibleBudgetError('the search scored no candidate');
  const arch = parseArch(winner.arch, config.cellType);

  const training = await timed('train-winner', () =>
    trainNetwork(arch, config, data, profile.winner, {
      seed: deriveSeed(seed, 'stage/train-winner'),
      signal,
      onProgress: progress('train-winner'),
    }),
  );

  let quantization: QuantizeResult | null = null;
  if (mode === 'spikenas' && input.budgetBytes !== null) {
    const budgetBytes = input.budgetBytes;
    quantization = await timed('quantize-evaluate', () =>
      quantizeForBudget(
        {
          arch,
          config,
          weights: training.weights,
          budgetBytes,
          test: data.test,
          batchSize: profile.winner.batchSize,
          accuracy32: training.testAccuracy,
        },
        { signal },
      ),
    );
  }
  return { impact, impactReused, space, search, winner, training, quantization, stageWallMs };
}
