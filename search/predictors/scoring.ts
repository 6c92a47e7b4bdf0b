/**
 * SAHD scoring of candidates, resumable and shardable. Each candidate's weight-init seed derives from
 * (run seed, canonical string) only, so its score is the same whichever shard scores it and in whatever
 * order: scoring in 1, 2 or 4 shards and merging gives the list scoring in one go gives.
 */

import { InputError } from '../../common/errors.js';
import { deriveSeed } from '../../common/rng.js';
import type { WorkContext } from '../../common/work-context.js';
import type { NetConfig } from '../../snn/config.js';
import { parseArch } from '../space/arch.js';
import { scoreSahd } from './sahd.js';

/** Stored in place of a non-finite score (a singular SAHD kernel): JSON has no -Infinity. */
export const UNUSABLE_SCORE = -Number.MAX_VALUE;

/** A score that ranks a candidate: finite and not the stand-in for a singular kernel. */
export function isUsableScore(score: number): boolean {
  return Number.isFinite(score) && score > UNUSABLE_SCORE;
}

export interface ScoreInput {
  /** Canonical matrix strings. */
  candidates: readonly string[];
  config: NetConfig;
  /** Mini-batches of batchSize x H x W x C floats (NHWC); the score averages over them (SAHD repeats). */
  batches: Float32Array[];
  batchSize: number;
}

export interface ScoreResume {
  /** Index of the next candidate to score. */
  next: number;
  scores: number[];
}

export interface ScoreOutput {
  scores: number[];
  wallMs: number;
}

/** Scores one candidate; scoreCandidates takes it as a parameter only so tests can count calls. */
export type SahdScorer = typeof scoreSahd;

/** The seed of a candidate's initial weights: from the run seed and its canonical string only. */
export function candidateSeed(seed: number, arch: string): number {
  return deriveSeed(seed, `sahd/${arch}`);
}

export async function scoreCandidates(
  input: ScoreInput,
  ctx: WorkContext<ScoreResume>,
  scorer: SahdScorer = scoreSahd,
): Promise<ScoreOutput> {
  const started = Date.now();
  const scores = ctx.resume ? [...ctx.resume.scores] : [];
  const total = input.candidates.length;
  const next = ctx.resume?.next ?? 0;
  if (next !== scores.length || next > total) {
    throw new Error(
      `scoring: resume point next=${next} does not match its ${scores.length} scores of ${total}`,
    );
  }
  for (let i = next; i < total; i++) {
    ctx.signal?.throwIfAborted();
    const arch = input.candidates[i] as string;
    const score = await scorer(
      parseArch(arch, input.config.cellType),
      input.config,
      input.batches,
      input.batchSize,
      candidateSeed(ctx.seed, arch),
    );
    scores.push(Number.isFinite(score) ? score : UNUSABLE_SCORE);
    await ctx.onProgress?.({ done: i + 1, total, resume: { next: i + 1, scores: [...scores] } });
  }
  return { scores, wallMs: Date.now() - started };
}

/** Splits a list into `shardCount` contiguous ranges whose sizes differ by at most one (earlier: larger). */
export function shardCandidates<T>(list: readonly T[], shardCount: number): T[][] {
  if (!Number.isInteger(shardCount) || shardCount < 1) {
    throw new InputError('shards', `${shardCount} is not a shard count`, 'an integer >= 1');
  }
  const base = Math.floor(list.length / shardCount);
  const extra = list.length % shardCount;
  const shards: T[][] = [];
  let start = 0;
  for (let s = 0; s < shardCount; s++) {
    const size = base + (s < extra ? 1 : 0);
    shards.push(list.slice(start, start + size));
    start += size;
  }
  return shards;
}

/** Joins per-shard results back in shard order (the inverse of shardCandidates). */
export function mergeShards<T>(shards: readonly (readonly T[])[]): T[] {
  return shards.flat() as T[];
}
