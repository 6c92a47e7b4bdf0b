/**
 * Selection, pure: the cheap first pass's survivors, and the search result from the scores
 * (top-K, Pareto front, counters, agreement of the first pass with full SAHD).
 */
import type { NetConfig } from '../../snn/config.js';
import { isUsableScore } from '../predictors/scoring.js';
import type { Candidate, CandidateCounters } from '../space/candidates.js';
import type { WeightBits } from '../space/memory.js';
import { spearman } from '../stats/rank-stats.js';
import { paretoFront } from './pareto.js';
import type { FirstPass } from './profiles.js';
import type { ScoredCandidate, SearchResult } from './search-result.js';

export interface SelectInput {
  seed: number;
  mode: SearchResult['mode'];
  config: NetConfig;
  budgetBytes: number | null;
  weightBits: WeightBits[];
  wallMs: number;
  topK: number;
  generation: CandidateCounters;
  candidates: readonly Candidate[];
  /** The first pass that ran and its scores aligned with `candidates`; both null when none ran. */
  firstPass: FirstPass | null;
  firstPassScores: readonly number[] | null;
  /** Full SAHD scores aligned with `candidates`; null for candidates the first pass filtered out. */
  fullScores: readonly (number | null)[];
}

/**
 * Indices of the `survivors` best first-pass scores (ties: arch string ascending), in candidate order.
 * NaN ranks last.
 */
export function survivorIndices(
  candidates: readonly Candidate[],
  firstPassScores: readonly number[],
  survivors: number,
): number[] {
  if (firstPassScores.length !== candidates.length) {
    throw new Error(
      `select: ${firstPassScores.length} first-pass scores for ${candidates.length} candidates`,
    );
  }
  const order = candidates.map((_, i) => i);
  order.sort((a, b) => compareScored(candidates, firstPassScores, a, b));
  return order.slice(0, Math.max(0, survivors)).sort((a, b) => a - b);
}

export function buildSearchResult(input: SelectInput): SearchResult {
  const { candidates, fullScores, firstPassScores } = input;
  if (fullScores.length !== candidates.length) {
    throw new Error(`select: ${fullScores.length} scores for ${candidates.length} candidates`);
  }
  // One entry per canonical matrix: the snasnet baseline may have scored a matrix more than once, with
  // the same seed-derived weights and so the same score.
  const scored = new Map<string, ScoredCandidate>();
  candidates.forEach((c, i) => {
    const score = fullScores[i];
    if (score === null || score === undefined || scored.has(c.arch)) return;
    scored.set(c.arch, {
      arch: c.arch,
      params: c.params,
      weightBits: c.weightBits,
      weightBytes: c.weightBytes,
      stateBytes: c.stateBytes,
      score,
    });
  });
  const unique = [...scored.values()];
  const topK = [...unique].sort(byScoreThenArch).slice(0, input.topK);

  let prefilterAgreement: number | null = null;
  if (firstPassScores !== null) {
    const pairs = fullScores.flatMap((full, i) =>
      full === null || full === undefined ? [] : [[firstPassScores[i] as number, full] as const],
    );
    prefilterAgreement = spearman(
      pairs.map((p) => p[0]),
      pairs.map((p) => p[1]),
    );
  }

  return {
    seed: input.seed,
    mode: input.mode,
    config: input.config,
    budgetBytes: input.budgetBytes,
    weightBits: input.weightBits,
    counters: {
      ...input.generation,
      scored: fullScores.filter((s) => s !== null).length,
      prefiltered: firstPassScores?.length ?? 0,
    },
    topK,
    // A candidate without a usable score trades nothing off: it is never on the front.
    pareto: paretoFront(unique.filter((c) => isUsableScore(c.score))),
    firstPass: input.firstPass,
    prefilterAgreement,
    wallMs: input.wallMs,
  };
}

function comparable(score: number | undefined): number {
  return score === undefined || Number.isNaN(score) ? Number.NEGATIVE_INFINITY : score;
}

function byScoreThenArch(a: ScoredCandidate, b: ScoredCandidate): number {
  const sa = comparable(a.score);
  const sb = comparable(b.score);
  if (sa !== sb) return sb > sa ? 1 : -1;
  return a.arch < b.arch ? -1 : a.arch > b.arch ? 1 : 0;
}

function compareScored(
  candidates: readonly Candidate[],
  scores: readonly number[],
  a: number,
  b: number,
): number {
  const sa = comparable(scores[a]);
  const sb = comparable(scores[b]);
  if (sa !== sb) return sb > sa ? 1 : -1;
  const archA = (candidates[a] as Candidate).arch;
  const archB = (candidates[b] as Candidate).arch;
  return archA < archB ? -1 : archA > archB ? 1 : a - b;
}
