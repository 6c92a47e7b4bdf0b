/**
 * Operation-impact analysis, the training: short-trains the cells of the pairs the sequential design asks
 * for, round by round (impact-looks.ts), and summarises accWith - accWithout per operation (and per
 * feedback, for backward cells). A round's trainings are the distinct (cell type, canonical matrix) cells of
 * its pairs, in the order the pairs first name them (impactJobs): a cell that appears in several pairs is
 * trained once. Each training's seed depends only on its key, so any split of a round (shards trained on
 * several workers) gives the same accuracies; the accuracies trained so far are the resume point.
 */

import { deriveSeed } from '../../common/rng.js';
import type { WorkContext } from '../../common/work-context.js';
import type { DataSplit } from '../../datasets/types.js';
import type { OpCode } from '../../snn/cell-matrix.js';
import type { CellType, NetConfig } from '../../snn/config.js';
import { trainForValidation } from '../../snn/index.js';
import { parseArch } from '../space/arch.js';
import { followLooks, lookLevel } from './impact-looks.js';
import {
  type ImpactPair,
  type ImpactResult,
  type ImpactStop,
  impactKey,
  summariseImpact,
} from './impact-plan.js';
import type { ShortTraining } from './profiles.js';

/** What the analysis measures: the same settings and seed give the same pairs and trainings. */
export interface ImpactSettings {
  config: NetConfig;
  ops: OpCode[];
  feedback: boolean;
  samplesPerLook: number[];
  train: ShortTraining;
}

/** One short training: a cell trained as `cellType`, its accuracy stored under `key`. */
export interface ImpactJob {
  key: string;
  arch: string;
  cellType: CellType;
}

export interface ImpactResume {
  /** Validation accuracy by `${cellType}|${canonical matrix}`. */
  accuracies: Record<string, number>;
}

/**
 * The trainings the design's next round needs (impact-looks.ts), given those trained so far: none once
 * every subject has stopped.
 */
export function nextImpactJobs(
  pairs: readonly ImpactPair[],
  samplesPerLook: readonly number[],
  accuracies: Readonly<Record<string, number>>,
): ImpactJob[] {
  const { pending } = followLooks(pairs, samplesPerLook, accuracies);
  return impactJobs(pending).filter((job) => accuracies[job.key] === undefined);
}

/** The distinct trainings the pairs need, in the order the pairs first name them. */
export function impactJobs(pairs: readonly ImpactPair[]): ImpactJob[] {
  const jobs = new Map<string, ImpactJob>();
  for (const p of pairs) {
    for (const arch of [p.withArch, p.withoutArch]) {
      const key = impactKey(p.cellType, arch);
      if (!jobs.has(key)) jobs.set(key, { key, arch, cellType: p.cellType });
    }
  }
  return [...jobs.values()];
}

/**
 * Short-trains the given jobs one after another (those the resume point already has are skipped) and
 * returns the validation accuracy of each, by key. ctx.seed is the analysis seed: a job's training seed is
 * derived from it and the job's key alone.
 */
export async function trainImpactJobs(
  input: { config: NetConfig; data: DataSplit; train: ShortTraining; jobs: readonly ImpactJob[] },
  ctx: WorkContext<ImpactResume>,
): Promise<ImpactResume> {
  const accuracies: Record<string, number> = {};
  for (const job of input.jobs) {
    const known = ctx.resume?.accuracies[job.key];
    if (known !== undefined) accuracies[job.key] = known;
  }
  const total = input.jobs.length;
  let done = Object.keys(accuracies).length;
  for (const job of input.jobs) {
    if (accuracies[job.key] !== undefined) continue;
    ctx.signal?.throwIfAborted();
    const config: NetConfig = { ...input.config, cellType: job.cellType };
    // Every short training has the same settings and data, so the same number of steps: the stage's
    // steps are that number times the trainings.
    const training = {
      ...input.train,
      onStep: (step: number, steps: number) =>
        ctx.onStep?.({
          done: done * steps + step,
          total: total * steps,
          counters: { trained: done, trainings: total },
        }),
    };
    const result = await trainForValidation(parseArch(job.arch, job.cellType), config, input.data, training, {
      seed: deriveSeed(ctx.seed, `impact/train/${job.key}`),
      signal: ctx.signal,
    });
    accuracies[job.key] = result.valAccuracy;
    done++;
    await ctx.onProgress?.({
      done,
      total,
      counters: { trained: done },
      resume: { accuracies: { ...accuracies } },
    });
  }
  return { accuracies };
}

/** The per-subject evidence (summariseImpact) once the design has stopped every subject. */
export function impactResultOf(
  pairs: readonly ImpactPair[],
  samplesPerLook: readonly number[],
  accuracies: Readonly<Record<string, number>>,
  about: { seed: number; datasetFingerprint: string; wallMs: number },
): ImpactResult {
  const { subjects, pending } = followLooks(pairs, samplesPerLook, accuracies);
  const missing = impactJobs(pending).filter((job) => accuracies[job.key] === undefined);
  // Nothing pending: every subject has stopped.
  if (missing.length > 0) {
    throw new Error(`operation impact: no trained accuracy for ${missing.map((j) => j.key).join(', ')}`);
  }
  const level = lookLevel(samplesPerLook);
  return {
    seed: about.seed,
    datasetFingerprint: about.datasetFingerprint,
    samplesPerLook: [...samplesPerLook],
    impacts: subjects.map(({ subject, pairs: used, stop }) =>
      summariseImpact(subject, used, accuracies, level, stop as ImpactStop),
    ),
    wallMs: about.wallMs,
  };
}

/**
 * What decides whether stored impact evidence can be reused (e.g. the next night): the same data, network
 * config, analysis settings and seed give the same pairs and, with deterministic training, the same result.
 */
export function impactCacheKey(settings: ImpactSettings & { datasetFingerprint: string }, seed: number) {
  const { datasetFingerprint, config, ops, feedback, samplesPerLook, train } = settings;
  return JSON.stringify({
    // The cached value's shape: evidence stored before the sequential design's leveled intervals and
    // stops, or without the run that computed it, is not reused.
    summary: 'looks-computed-by',
    datasetFingerprint,
    config,
    ops: [...ops].sort(),
    feedback,
    samplesPerLook,
    train,
    seed,
  });
}
