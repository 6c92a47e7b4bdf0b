/**
 * train-winner: trains the search's winner with BPTT and measures it on the test set, or reuses the
 * training of an earlier run with the same data, network, winner and seeds (a fleet's later nights).
 * A spikenas winner searched below 32 bits also trains its final sixth of epochs again, quantization-aware
 * at that width (resumed from the state before them; QAT_SHARE): the plain training stays for the report's
 * 32-bit and post-training figures.
 */
import { ArtifactCache, cacheKey } from '../../artifacts/cache.js';
import { type RunArtifacts, stageFile } from '../../artifacts/run.js';
import type { RunPlan } from '../../contract/run-records.js';
import { trainOnTrainAndVal } from '../../datasets/index.js';
import type { WinnerTraining } from '../../search/strategy/profiles.js';
import {
  describeBackend,
  initBackend,
  type QuantBits,
  type SerializedWeights,
  type TrainOptions,
  type TrainResult,
  type TrainResume,
  trainForValidation,
  trainNetwork,
} from '../../snn/index.js';
import {
  openPlannedRun,
  type RunInput,
  signalOption,
  splitFor,
  type Timed,
  TRAINING_STEPS,
  warnOption,
} from '../run-context.js';
import { type Clocked, StepClock, wallMsOf } from '../stage-clock.js';
import { describeThreadPolicy } from '../thread-policy.js';
import type { StepContext } from '../types.js';
import { type Winner, winnerOf } from './select-winner.js';

/**
 * stages/train-winner.json: the training's summary; the weights are in TRAINED_WEIGHTS. Its wallMs is the
 * stage's, from its spans: a resumed training's earlier part counts, the pause before it does not.
 */
export interface TrainStage extends Omit<TrainResult, 'weights'>, Clocked {
  epochs: number;
  /** What it trained on; with 'train+val', valAccuracy is measured on trained images. */
  trainOn: WinnerTraining['trainOn'];
  trainImages: number;
  /** The run whose training this is: this run's ID, or an earlier run's when its training was reused. */
  trainedBy: string;
  /**
   * The tfjs backend that trained the winner and the thread policy it ran under, e.g. 'tensorflow
   * (@tensorflow/tfjs-node 4.22.0, TensorFlow 2.16.2, 2 threads), heavy steps in 1 process x 2 TensorFlow
   * threads (small network, step alone)'.
   */
  backend: string;
  /**
   * The epochs from `fromEpoch` on trained again quantization-aware (QAT_WEIGHTS); null when the winner is
   * not trained quantization-aware.
   */
  quantizationAware: { bits: QuantBits; fromEpoch: number; valAccuracy: number } | null;
}

/** The trained 32-bit weights, kept beside the final (maybe quantized) ones. */
export const TRAINED_WEIGHTS = 'trained-weights.json';
/** The float weights of the quantization-aware training, which quantize-evaluate quantizes and stores. */
export const QAT_WEIGHTS = 'quantization-aware-weights.json';

/** What the winner cache keeps of a training: its stage record (without this run's clock) and weights. */
interface CachedTraining {
  stage: Omit<TrainStage, 'spans'>;
  weights: SerializedWeights;
  quantizationAwareWeights: SerializedWeights | null;
}

/**
 * The share of a winner's epochs trained again quantization-aware (rounded up, at least one): the precision
 * study trained its last epoch of 6 quantization-aware. A share rather than a count keeps the phase where
 * that epoch was on the cosine schedule (learning rate 7 % of the initial one there, 10 % at epoch 12 of
 * 15), so a 15-epoch winner's QAT phase is its last 3 epochs, not one epoch at 1 % of the learning rate.
 */
const QAT_SHARE = 1 / 6;

/** Epochs before the quantization-aware phase of an `epochs`-epoch training (see QAT_SHARE). */
export function quantizeAwareFrom(epochs: number): number {
  return epochs - Math.max(1, Math.ceil(epochs * QAT_SHARE - 1e-9));
}

/**
 * The width a winner trains quantization-aware at: spikenas mode's searched width below 32 bits. The
 * precision study at 6 epochs (bench/results/qat-precision-*-6epochs.json, 10 cells) found QAT better than
 * quantizing after training at every width: points lost against 32 bits 0.10 against 2.31 at 4 bits, -0.24
 * against 0.12 at 6, -0.13 against 0.02 at 8.
 */
export function quantizeAwareBits(plan: RunPlan, winner: Winner): QuantBits | null {
  const bits = winner.weightBits;
  return plan.request.mode === 'spikenas' && bits !== 32 ? bits : null;
}

/**
 * A winner's training depends only on the data (fingerprint, limits, split), the network, the winner's
 * cell, the training schedule and the seeds: a run that matches an earlier one in all of them gets that
 * run's trained weights (and, in quantize-evaluate, its quantized ones at the same budget).
 */
export function winnerCacheKey(plan: RunPlan, winner: Winner): string {
  return cacheKey({
    dataset: plan.dataset.fingerprint,
    data: plan.profile.data,
    splitSeed: plan.seeds.split,
    config: winner.config,
    arch: winner.text,
    quantizeAwareBits: quantizeAwareBits(plan, winner),
    training: plan.profile.winner,
    trainSeed: plan.seeds.train,
  });
}

export async function trainWinner(
  input: RunInput,
  ctx: StepContext = {},
): Promise<{ testAccuracy: number } & Timed> {
  const { run, plan } = await openPlannedRun(input.run, ctx);
  const file = stageFile('train-winner');
  const cache = new ArtifactCache(run.store, 'trained-winner', warnOption(ctx));
  const winner = await winnerOf(run, plan);
  const key = winnerCacheKey(plan, winner);
  if (!(await run.exists(file))) await reuseTraining(run, cache, key, input.run.execution);
  if (!(await run.exists(file))) {
    const resume = await run.readCheckpoint<TrainResume & Clocked>('train-winner');
    const clock = new StepClock(input.run.execution, resume?.data.spans);
    const { arch, config } = winner;
    const backend = await initBackend();
    const { trainOn, ...training } = plan.profile.winner;
    const split = await splitFor(plan);
    const data = trainOn === 'train+val' ? trainOnTrainAndVal(split) : split;
    const qatBits = quantizeAwareBits(plan, winner);
    const qatFrom = quantizeAwareFrom(training.epochs);
    // The QAT phase trains its epochs a second time: the progress bar counts both.
    const qatShare = qatBits === null ? 0 : (training.epochs - qatFrom) / training.epochs;
    const totalSteps = (total: number) => total + total * qatShare;
    const options: TrainOptions = {
      ...training,
      onStep: (done, total) => ctx.onProgress?.({ unit: TRAINING_STEPS, done, total: totalSteps(total) }),
    };
    const result = await trainNetwork(arch, config, data, options, {
      seed: plan.seeds.train,
      ...(resume ? { resume: resume.data } : {}),
      ...signalOption(ctx),
      onProgress: async (progress) => {
        if (qatBits !== null && progress.done === qatFrom) {
          await run.writeCheckpoint('train-winner-before-qat', progress.resume);
        }
        await run.writeCheckpoint('train-winner', { ...progress.resume, spans: clock.spans() });
      },
    });
    const { weights, ...summary } = result;
    await run.putJson(TRAINED_WEIGHTS, weights);
    let quantizationAware: TrainStage['quantizationAware'] = null;
    let quantizationAwareWeights: SerializedWeights | null = null;
    if (qatBits !== null) {
      const beforeQat = await run.readCheckpoint<TrainResume>('train-winner-before-qat');
      const qat = await trainForValidation(
        arch,
        config,
        data,
        {
          ...options,
          quantizeAware: { bits: qatBits, fromEpoch: qatFrom },
          // Resumed before the phase, `done` counts from the phase's first step: the plain training's
          // phase is already behind it.
          onStep: (done, total) =>
            ctx.onProgress?.({
              unit: TRAINING_STEPS,
              done: done + total * qatShare,
              total: totalSteps(total),
            }),
        },
        {
          seed: plan.seeds.train,
          ...(beforeQat ? { resume: beforeQat.data } : {}),
          ...signalOption(ctx),
        },
      );
      quantizationAwareWeights = qat.weights;
      await run.putJson(QAT_WEIGHTS, qat.weights);
      quantizationAware = { bits: qatBits, fromEpoch: qatFrom, valAccuracy: qat.valAccuracy };
    }
    const spans = clock.spans();
    const stage: TrainStage = {
      ...summary,
      wallMs: wallMsOf(spans),
      spans,
      epochs: training.epochs,
      trainOn,
      trainImages: data.train.count,
      trainedBy: run.runId,
      backend: ctx.threadPolicy
        ? `${describeBackend(backend)}, heavy steps in ${describeThreadPolicy(ctx.threadPolicy)}`
        : describeBackend(backend),
      quantizationAware,
    };
    await run.putJson(file, stage);
    const { spans: _spans, ...kept } = stage;
    await cache.put(key, { stage: kept, weights, quantizationAwareWeights } satisfies CachedTraining);
  }
  const stage = await run.getJson<TrainStage>(file);
  return { testAccuracy: stage.testAccuracy, wallMs: stage.wallMs };
}

/** Copies an earlier run's training of the same winner into this run, when the cache has one. */
async function reuseTraining(run: RunArtifacts, cache: ArtifactCache, key: string, execution: string) {
  const clock = new StepClock(execution);
  const cached = await cache.get<CachedTraining>(key);
  if (cached === undefined) return;
  await run.putJson(TRAINED_WEIGHTS, cached.weights);
  if (cached.quantizationAwareWeights) await run.putJson(QAT_WEIGHTS, cached.quantizationAwareWeights);
  const spans = clock.spans();
  await run.putJson(stageFile('train-winner'), {
    ...cached.stage,
    wallMs: wallMsOf(spans),
    spans,
  } satisfies TrainStage);
}
