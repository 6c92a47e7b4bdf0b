/**
 * The memory-aware search's last step: ranks the scored candidates (stages/memory-aware-search.json) and
 * lists every candidate with its scores (candidates.jsonl). Later stages read the winner from here.
 */

import { RUN_FILES, type RunArtifacts, stageFile } from '../../artifacts/run.js';
import type { RunPlan } from '../../contract/run-records.js';
import { isUsableScore } from '../../search/predictors/scoring.js';
import { parseArch } from '../../search/space/arch.js';
import type { Candidate } from '../../search/space/candidates.js';
import type { WeightBits } from '../../search/space/memory.js';
import type { SearchResult } from '../../search/strategy/search-result.js';
import { buildSearchResult } from '../../search/strategy/select.js';
import type { Arch } from '../../snn/cell-matrix.js';
import type { NetConfig } from '../../snn/config.js';
import { openPlannedRun } from '../run-context.js';
import { StepClock, spansOf, wallMsOf } from '../stage-clock.js';
import type { StepContext } from '../types.js';
import type { CandidateStage } from './candidates.js';
import { mergedScores, type ShardsInput, type SurvivorStage } from './score.js';

/** One line of candidates.jsonl: a score is a number, or null with the reason when it cannot rank. */
export interface CandidateLine extends Candidate {
  firstPassScore: number | null;
  firstPassScoreProblem?: string;
  score: number | null;
  scoreProblem?: string;
}

export async function selectWinner(input: ShardsInput, ctx: StepContext = {}) {
  const { run, plan } = await openPlannedRun(input.run, ctx);
  const file = stageFile('memory-aware-search');
  if (!(await run.exists(file))) {
    const clock = new StepClock(input.run.execution);
    const stage = await run.getJson<CandidateStage>(stageFile('candidates'));
    const { scores: full, spans: fullSpans } = await mergedScores(run, 'full', input.shardCount);
    const survivors = stage.firstPass ? await run.getJson<SurvivorStage>(stageFile('survivors')) : null;
    const spans = [
      ...spansOf(stage),
      ...(survivors ? spansOf(survivors) : []),
      ...fullSpans,
      ...clock.spans(),
    ];
    const fullScores: (number | null)[] = survivors ? stage.candidates.map(() => null) : full;
    survivors?.indices.forEach((candidate, k) => {
      fullScores[candidate] = full[k] as number;
    });
    const result = buildSearchResult({
      seed: plan.seeds.search,
      mode: plan.request.mode,
      config: { ...plan.config, cellType: stage.cellType },
      budgetBytes: plan.request.mode === 'spikenas' ? plan.budgetBytes : null,
      weightBits: plan.request.weightBits,
      wallMs: wallMsOf(spans),
      topK: plan.profile.topK,
      generation: stage.counters,
      candidates: stage.candidates,
      firstPass: survivors ? plan.profile.firstPass : null,
      firstPassScores: survivors?.firstPassScores ?? null,
      fullScores,
    });
    await run.putJsonLines(
      RUN_FILES.candidates,
      stage.candidates.map((c, i) => ({
        ...c,
        ...scoreField('firstPassScore', survivors?.firstPassScores[i]),
        ...scoreField('score', fullScores[i]),
      })),
    );
    await run.putJson(file, result);
  }
  const result = await run.getJson<SearchResult>(file);
  const winner = result.topK[0];
  if (!winner) throw new Error(`run ${input.run.runId}: no candidate got a usable score`);
  return { winner: winner.arch, counters: { ...result.counters } };
}

/** Why a computed score cannot rank a candidate (the scorer's stand-in for it is -Number.MAX_VALUE). */
const UNUSABLE_REASON = 'singular SAHD kernel: log |det K| is minus infinity, so the score cannot rank it';

/** `{ score }`, `{ score: null }` when not computed, or `{ score: null, scoreProblem }` when unusable. */
function scoreField<K extends 'score' | 'firstPassScore'>(key: K, score: number | null | undefined) {
  if (score === undefined || score === null) return { [key]: null };
  if (!isUsableScore(score)) return { [key]: null, [`${key}Problem`]: UNUSABLE_REASON };
  return { [key]: score };
}

/** The search's winner, as the network the later stages train, quantize and store. */
export async function winnerOf(run: RunArtifacts, plan: RunPlan): Promise<Winner> {
  const search = await run.getJson<SearchResult>(stageFile('memory-aware-search'));
  const best = search.topK[0];
  if (!best) throw new Error('the search has no winner');
  const config: NetConfig = { ...plan.config, cellType: search.config.cellType };
  return {
    arch: parseArch(best.arch, config.cellType),
    text: best.arch,
    config,
    weightBits: best.weightBits,
  };
}

export interface Winner {
  arch: Arch;
  text: string;
  config: NetConfig;
  /** The width the search measured it at: spikenas mode stores it there, snasnet mode quantizes to fit. */
  weightBits: WeightBits;
}
