/**
 * Selection, pure: the cheap first pass's survivors, and the search result from the scores
 * (top-K, Pareto front, counters, agreement of the first pass with full SAHD).
 */
import type { NetConfig } from '../../snn/config.js';
import { paretoFront } from '../pareto.js';
import type { Candidate, CandidateCounters } from './candidates.js';
import { isUsableScore } from './scoring.js';
import type { ScoredCandidate, SearchResult } from './types.js';

export interface SelectInput {
  seed: number;
  mode: SearchResult['mode'];
  config: NetConfig;
  budgetBytes: number | null;
  weightBits: number;
  wallMs: number;
  topK: number;
  generation: CandidateCounters;
  candidates: readonly Candidate[];
  /** First-pass scores aligned with `candidates`; null when there was no first pass. */
  firstPassScores: readonly number[] | null;
  /** Full SAHD scores aligned with `candidates`; null for candidates the first pass filtered out. */
  fullScores: readonly (number | null)[];
}

/**
 * Indices of the `survivors` best first-pass scores (ties: arch string ascending), in candidate order.
 * NaN ranks last.
 */
export function selectSurvivors(
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
    prefilterAgreement,
    wallMs: input.wallMs,
  };
}

/**
 * Spearman rank correlation (Pearson on ranks, ties get their average rank). null when fewer than two
 * pairs or when either side has no spread.
 */
export function spearman(a: readonly number[], b: readonly number[]): number | null {
  if (a.length !== b.length) throw new Error(`spearman: ${a.length} vs ${b.length} values`);
  if (a.length < 2) return null;
  const ra = ranks(a);
  const rb = ranks(b);
  const mean = (ra.length + 1) / 2;
  let cov = 0;
  let va = 0;
  let vb = 0;
  for (let i = 0; i < ra.length; i++) {
    const da = (ra[i] as number) - mean;
    const db = (rb[i] as number) - mean;
    cov += da * db;
    va += da * da;
    vb += db * db;
  }
  if (va === 0 || vb === 0) return null;
  return cov / Math.sqrt(va * vb);
}

function ranks(values: readonly number[]): number[] {
  const order = values
    .map((_, i) => i)
    .sort((x, y) => ascending(comparable(values[x]), comparable(values[y])));
  const result = new Array<number>(values.length);
  let start = 0;
  while (start < order.length) {
    let end = start;
    const v = comparable(values[order[start] as number]);
    while (end + 1 < order.length && comparable(values[order[end + 1] as number]) === v) end++;
    const rank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) result[order[k] as number] = rank;
    start = end + 1;
  }
  return result;
}

function ascending(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
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
