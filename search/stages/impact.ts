/**
 * Operation-impact analysis, the stage: short-trains every cell the plan names (impact-plan.ts) and
 * summarises accWith - accWithout per operation (and per feedback, for backward cells).
 * Every trained accuracy is cached by (cell type, canonical matrix) within a run: a cell that appears in
 * several pairs is trained once, and the cache is the resume point.
 */

import { deriveSeed } from '../../common/rng.js';
import type { DataSplit } from '../../datasets/types.js';
import type { CellType, NetConfig } from '../../snn/config.js';
import { trainNetwork } from '../../snn/index.js';
import { parseArch } from '../arch.js';
import type { OpCode } from '../arch.types.js';
import type { ShortTraining } from '../profiles.js';
import { impactKey, planImpactPairs, summariseImpact } from './impact-plan.js';
import type { ImpactResult, StageContext } from './types.js';

export interface ImpactInput {
  config: NetConfig;
  data: DataSplit;
  ops: OpCode[];
  feedback: boolean;
  samplesPerOp: number;
  train: ShortTraining;
}

export interface ImpactResume {
  /** Validation accuracy by `${cellType}|${canonical matrix}`. */
  accuracies: Record<string, number>;
}

export async function analyzeOperationImpact(
  input: ImpactInput,
  ctx: StageContext<ImpactResume>,
): Promise<ImpactResult> {
  const started = Date.now();
  const pairs = planImpactPairs(input, ctx.seed);
  const accuracies: Record<string, number> = { ...(ctx.resume?.accuracies ?? {}) };
  // Each distinct (cell type, matrix) is trained once, in the order the pairs first name it.
  const jobs = new Map<string, { arch: string; cellType: CellType }>();
  for (const p of pairs) {
    jobs.set(impactKey(p.cellType, p.withArch), { arch: p.withArch, cellType: p.cellType });
    jobs.set(impactKey(p.cellType, p.withoutArch), { arch: p.withoutArch, cellType: p.cellType });
  }
  const total = jobs.size;
  let done = [...jobs.keys()].filter((key) => accuracies[key] !== undefined).length;
  for (const [key, job] of jobs) {
    if (accuracies[key] !== undefined) continue;
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
    const result = await trainNetwork(parseArch(job.arch, job.cellType), config, input.data, training, {
      seed: deriveSeed(ctx.seed, `impact/train/${key}`),
      signal: ctx.signal,
    });
    accuracies[key] = result.valAccuracy;
    done++;
    await ctx.onProgress?.({
      done,
      total,
      counters: { trained: done },
      resume: { accuracies: { ...accuracies } },
    });
  }

  const subjects = [...new Set(pairs.map((p) => p.subject))];
  const impacts = subjects.map((subject) =>
    summariseImpact(
      subject,
      pairs.filter((p) => p.subject === subject),
      accuracies,
    ),
  );
  return {
    seed: ctx.seed,
    datasetFingerprint: input.data.fingerprint,
    impacts,
    wallMs: Date.now() - started,
  };
}

/**
 * What decides whether stored impact evidence can be reused (e.g. the next night): the same data, network
 * config, analysis settings and seed give the same pairs and, with deterministic training, the same result.
 */
export function impactCacheKey(
  input: Omit<ImpactInput, 'data'> & { datasetFingerprint: string },
  seed: number,
) {
  const { datasetFingerprint, config, ops, feedback, samplesPerOp, train } = input;
  return JSON.stringify({
    // The result's shape: evidence stored before per-operation 95% intervals existed is not reused.
    summary: 't-ci95',
    datasetFingerprint,
    config,
    ops: [...ops].sort(),
    feedback,
    samplesPerOp,
    train,
    seed,
  });
}
