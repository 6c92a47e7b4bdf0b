/**
 * The memory-aware search stage, composed from the pure parts and SAHD scoring:
 * generate candidates (budget applied from the matrix alone) -> cheap first pass (smaller batch, fewer
 * timesteps) when there are more candidates than survivors -> full SAHD on the survivors -> select.
 * snasnet mode is the baseline: SNASNet's random 5-op draws, full SAHD on every one, no first pass.
 * Resumable: the resume point holds the scores measured so far in each pass.
 */

import { InputError } from '../../common/errors.js';
import { deriveSeed, Rng } from '../../common/rng.js';
import type { ImageSet } from '../../datasets/types.js';
import type { NetConfig } from '../../snn/config.js';
import type { OpCode } from '../arch.types.js';
import type { SearchProfileSpec } from '../profiles.js';
import { type CandidateSet, generateCandidates } from './candidates.js';
import { type SahdScorer, type ScoreResume, scoreCandidates } from './scoring.js';
import { buildSearchResult, selectSurvivors } from './select.js';
import type { SearchResult, StageContext } from './types.js';

export interface SearchStageInput {
  mode: 'spikenas' | 'snasnet';
  /** The enhanced space (spikenas mode); snasnet mode always draws from the full 5-op space. */
  ops: OpCode[];
  config: NetConfig;
  /** Applied in spikenas mode; snasnet mode only reports it (the baseline is not memory-aware). */
  budgetBytes: number | null;
  weightBits: number;
  profile: Pick<SearchProfileSpec, 'sahd' | 'firstPass' | 'searchCandidates' | 'snasnetCandidates' | 'topK'>;
  /** Images SAHD batches are drawn from (the training part). */
  images: ImageSet;
}

export interface SearchStageResume {
  first?: ScoreResume;
  full?: ScoreResume;
}

export interface SearchStageOutput {
  result: SearchResult;
  /** How the candidates were produced ('enumerated' or 'sampled'). */
  method: CandidateSet['method'];
}

/** `count` seeded mini-batches of `batchSize` images (NHWC floats), drawn without replacement per batch. */
export function sahdBatches(
  images: ImageSet,
  batchSize: number,
  count: number,
  seed: number,
): Float32Array[] {
  if (!Number.isInteger(batchSize) || batchSize < 1 || images.count < batchSize) {
    throw new InputError(
      'sahd.batchSize',
      `${batchSize} cannot be filled from ${images.count} images`,
      `an integer from 1 to ${images.count}`,
    );
  }
  const per = images.images.length / images.count;
  const rng = new Rng(seed);
  const batches: Float32Array[] = [];
  for (let b = 0; b < count; b++) {
    const order = rng.shuffle(Array.from({ length: images.count }, (_, i) => i));
    const batch = new Float32Array(batchSize * per);
    for (let k = 0; k < batchSize; k++) {
      const i = order[k] as number;
      batch.set(images.images.subarray(i * per, (i + 1) * per), k * per);
    }
    batches.push(batch);
  }
  return batches;
}

export async function runSearchStage(
  input: SearchStageInput,
  ctx: StageContext<SearchStageResume>,
  scorer?: SahdScorer,
): Promise<SearchStageOutput> {
  const started = Date.now();
  const { mode, config, profile } = input;
  const generated = generateCandidates(
    {
      mode,
      ops: input.ops,
      cellType: config.cellType,
      config,
      budgetBytes: mode === 'snasnet' ? null : input.budgetBytes,
      weightBits: input.weightBits,
      limit: mode === 'snasnet' ? profile.snasnetCandidates : profile.searchCandidates,
    },
    ctx.seed,
  );
  const { candidates } = generated;
  const archs = candidates.map((c) => c.arch);
  const firstPass = mode === 'spikenas' ? profile.firstPass : null;
  const usesFirstPass = firstPass !== null && candidates.length > firstPass.survivors;
  const firstTotal = usesFirstPass ? candidates.length : 0;
  const total = firstTotal + (usesFirstPass ? firstPass.survivors : candidates.length);
  let resume: SearchStageResume = { ...ctx.resume };
  const report = (pass: 'first' | 'full') => async (p: { done: number; resume: ScoreResume }) => {
    resume = pass === 'first' ? { first: p.resume } : { ...resume, full: p.resume };
    await ctx.onProgress?.({
      done: (pass === 'first' ? 0 : firstTotal) + p.done,
      total,
      counters: { ...generated.counters, candidates: candidates.length },
      resume,
    });
  };

  let firstPassScores: number[] | null = null;
  let survivors = candidates.map((_, i) => i);
  if (usesFirstPass && firstPass !== null) {
    const cheap = await scoreCandidates(
      {
        candidates: archs,
        config: { ...config, timesteps: Math.min(firstPass.timesteps, config.timesteps) },
        batches: sahdBatches(input.images, firstPass.batchSize, 1, deriveSeed(ctx.seed, 'sahd/first-pass')),
        batchSize: firstPass.batchSize,
      },
      { seed: ctx.seed, signal: ctx.signal, resume: resume.first, onProgress: report('first') },
      scorer,
    );
    firstPassScores = cheap.scores;
    survivors = selectSurvivors(candidates, cheap.scores, firstPass.survivors);
  }

  const full = await scoreCandidates(
    {
      candidates: survivors.map((i) => archs[i] as string),
      config,
      batches: sahdBatches(
        input.images,
        profile.sahd.batchSize,
        profile.sahd.repeats,
        deriveSeed(ctx.seed, 'sahd/full'),
      ),
      batchSize: profile.sahd.batchSize,
    },
    { seed: ctx.seed, signal: ctx.signal, resume: resume.full, onProgress: report('full') },
    scorer,
  );
  const fullScores: (number | null)[] = candidates.map(() => null);
  survivors.forEach((index, k) => {
    fullScores[index] = full.scores[k] as number;
  });

  const result = buildSearchResult({
    seed: ctx.seed,
    mode,
    config,
    budgetBytes: input.budgetBytes,
    weightBits: input.weightBits,
    wallMs: Date.now() - started,
    topK: profile.topK,
    generation: generated.counters,
    candidates,
    firstPassScores,
    fullScores,
  });
  return { result, method: generated.method };
}
