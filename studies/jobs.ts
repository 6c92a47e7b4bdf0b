/**
 * The work a study hands to its job processes, and how a job process does it. Every job names its data
 * (dataset, limits, split seed) rather than carrying it: a process loads each dataset once and keeps it,
 * and only arch strings, settings and numbers cross the process boundary.
 */
import { deriveSeed } from '../common/rng.js';
import { loadDataset, sampleBatches, splitTrainVal } from '../datasets/index.js';
import type { DataSplit } from '../datasets/types.js';
import { scoreSahd } from '../search/predictors/sahd.js';
import { candidateSeed } from '../search/predictors/scoring.js';
import { parseArch } from '../search/space/arch.js';
import { countParams } from '../search/space/memory.js';
import { type ImpactJob, trainImpactJobs } from '../search/strategy/impact.js';
import type { ShortTraining } from '../search/strategy/profiles.js';
import type { NetConfig } from '../snn/config.js';
import {
  evaluateNetwork,
  initBackend,
  type QuantBits,
  quantizeWeights,
  type SerializedWeights,
  type TrainResume,
  trainNetwork,
} from '../snn/index.js';

export interface StudyData {
  dataset: string;
  /** Load seed (datasets' loadDataset) and split seed (splitTrainVal). */
  seed: number;
  splitSeed: number;
  trainLimit?: number;
  testLimit?: number;
  valFraction: number;
}

export interface ScoringPass {
  batchSize: number;
  repeats: number;
  timesteps: number;
}

export interface ScoreJob {
  kind: 'score';
  data: StudyData;
  arch: string;
  config: NetConfig;
  pass: ScoringPass;
  /** Weights derive from (seed, arch) as in the search (candidateSeed); batches from batchSeed. */
  seed: number;
  batchSeed: number;
}

export interface TrainJob {
  kind: 'train';
  data: StudyData;
  arch: string;
  config: NetConfig;
  schedule: TrainSchedule;
  seed: number;
}

/** One fixed training schedule (snn's trainNetwork options, without callbacks). */
export interface TrainSchedule {
  epochs: number;
  batchSize: number;
  maxStepsPerEpoch?: number;
  trainSubset?: number;
  lr?: number;
}

/**
 * One cell's precision measurements: a plain training (its 32-bit accuracy and its accuracy after
 * post-training quantization at each of `bits`); the same training with its last epoch quantization-aware
 * at each of `bits` (resumed from the plain training's state before that epoch, so only that epoch is new);
 * and, at each of `fromStart`, a training quantization-aware from the first step.
 */
export interface PrecisionJob {
  kind: 'precision';
  data: StudyData;
  arch: string;
  config: NetConfig;
  schedule: TrainSchedule;
  seed: number;
  bits: QuantBits[];
  fromStart: QuantBits[];
}

/**
 * One operation-impact training (search/strategy/impact.ts) at a given short schedule: the analysis seed
 * and the job's key decide its training seed, as in the search.
 */
export interface ImpactTrainingJob {
  kind: 'impact';
  data: StudyData;
  config: NetConfig;
  job: ImpactJob;
  train: ShortTraining;
  seed: number;
}

export type StudyJob = ScoreJob | TrainJob | PrecisionJob | ImpactTrainingJob;

export interface ScoreOutcome {
  score: number;
  wallMs: number;
}
export interface TrainOutcome {
  valAccuracy: number;
  testAccuracy: number;
  lossCurve: number[];
  wallMs: number;
}
/** Test accuracies by weight bits ('8', '6', '4'). */
export type ByBits = Record<string, number>;

export interface PrecisionOutcome {
  params: number;
  accuracy32: number;
  ptq: ByBits;
  qatLastEpoch: ByBits;
  qatFromStart: ByBits;
  wallMs: number;
}

export interface ImpactTrainingOutcome {
  valAccuracy: number;
  wallMs: number;
}

export type JobOutcome<J extends StudyJob> = J extends ScoreJob
  ? ScoreOutcome
  : J extends PrecisionJob
    ? PrecisionOutcome
    : J extends ImpactTrainingJob
      ? ImpactTrainingOutcome
      : TrainOutcome;

const splits = new Map<string, Promise<DataSplit>>();

function splitOf(data: StudyData): Promise<DataSplit> {
  const key = JSON.stringify(data);
  let split = splits.get(key);
  if (!split) {
    const limit = {
      ...(data.trainLimit ? { train: data.trainLimit } : {}),
      ...(data.testLimit ? { test: data.testLimit } : {}),
    };
    split = loadDataset(data.dataset, { seed: data.seed, limit }).then((dataset) =>
      splitTrainVal(dataset, { valFraction: data.valFraction, seed: data.splitSeed }),
    );
    splits.set(key, split);
  }
  return split;
}

export async function runJob(
  job: StudyJob,
): Promise<ScoreOutcome | TrainOutcome | PrecisionOutcome | ImpactTrainingOutcome> {
  await initBackend();
  const split = await splitOf(job.data);
  if (job.kind === 'impact') {
    const started = performance.now();
    const { accuracies } = await trainImpactJobs(
      { config: job.config, data: split, train: job.train, jobs: [job.job] },
      { seed: job.seed },
    );
    return { valAccuracy: accuracies[job.job.key] as number, wallMs: performance.now() - started };
  }
  const arch = parseArch(job.arch, job.config.cellType);
  if (job.kind === 'score') {
    const batches = sampleBatches(split.train, {
      batchSize: job.pass.batchSize,
      count: job.pass.repeats,
      seed: job.batchSeed,
    });
    const config = { ...job.config, timesteps: job.pass.timesteps };
    const started = performance.now();
    const score = await scoreSahd(
      arch,
      config,
      batches,
      job.pass.batchSize,
      candidateSeed(job.seed, job.arch),
    );
    return { score, wallMs: performance.now() - started };
  }
  if (job.kind === 'precision') return precision(job, split);
  const result = await trainNetwork(arch, job.config, split, job.schedule, {
    seed: deriveSeed(job.seed, `study/train/${job.arch}`),
  });
  return {
    valAccuracy: result.valAccuracy,
    testAccuracy: result.testAccuracy,
    lossCurve: result.lossCurve,
    wallMs: result.wallMs,
  };
}

async function precision(job: PrecisionJob, split: DataSplit): Promise<PrecisionOutcome> {
  const started = performance.now();
  const arch = parseArch(job.arch, job.config.cellType);
  const seed = deriveSeed(job.seed, `study/precision/${job.arch}`);
  const lastEpoch = job.schedule.epochs - 1;
  let beforeLastEpoch: TrainResume | undefined;
  const plain = await trainNetwork(arch, job.config, split, job.schedule, {
    seed,
    onProgress: (progress) => {
      if (progress.done === lastEpoch) beforeLastEpoch = progress.resume;
    },
  });
  const quantizedAccuracy = async (weights: SerializedWeights, bits: QuantBits) => {
    const quantized = await quantizeWeights(weights, bits);
    return (await evaluateNetwork(arch, job.config, quantized.weights, split.test, 250)).accuracy;
  };
  const ptq: ByBits = {};
  const qatLastEpoch: ByBits = {};
  const qatFromStart: ByBits = {};
  for (const bits of job.bits) {
    ptq[bits] = await quantizedAccuracy(plain.weights, bits);
    const qat = await trainNetwork(
      arch,
      job.config,
      split,
      { ...job.schedule, quantizeAware: { bits, fromEpoch: lastEpoch } },
      { seed, ...(beforeLastEpoch ? { resume: beforeLastEpoch } : {}) },
    );
    qatLastEpoch[bits] = await quantizedAccuracy(qat.weights, bits);
  }
  for (const bits of job.fromStart) {
    const qat = await trainNetwork(
      arch,
      job.config,
      split,
      { ...job.schedule, quantizeAware: { bits, fromEpoch: 0 } },
      { seed },
    );
    qatFromStart[bits] = await quantizedAccuracy(qat.weights, bits);
  }
  return {
    params: countParams(arch, job.config),
    accuracy32: plain.testAccuracy,
    ptq,
    qatLastEpoch,
    qatFromStart,
    wallMs: performance.now() - started,
  };
}
