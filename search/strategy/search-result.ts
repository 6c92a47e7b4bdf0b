/** What the memory-aware search found: counters, the top candidates, the Pareto front and the first pass. */
import type { NetConfig } from '../../snn/config.js';
import type { WeightBits } from '../space/memory.js';
import type { FirstPass } from './profiles.js';

export interface SearchCounters {
  generated: number;
  invalid: number;
  duplicate: number;
  overBudget: number;
  scored: number;
  /** Candidates that got the cheap first-pass score (0 when there is no first pass). */
  prefiltered: number;
}

export interface ScoredCandidate {
  /** Canonical matrix string. */
  arch: string;
  params: number;
  /** The width its weights are stored at (search/space/candidates.ts), which weightBytes is measured at. */
  weightBits: WeightBits;
  weightBytes: number;
  stateBytes: number;
  score: number;
}

export interface SearchResult {
  seed: number;
  mode: 'spikenas' | 'snasnet';
  config: NetConfig;
  budgetBytes: number | null;
  /** The widths searched, widest first (SearchRequest.weightBits). */
  weightBits: WeightBits[];
  counters: SearchCounters;
  topK: ScoredCandidate[];
  /** Candidates no other beats on both lower weight memory and higher score. */
  pareto: ScoredCandidate[];
  /** The cheap first pass that ran (its settings and measured agreement), or null when none ran. */
  firstPass: FirstPass | null;
  /** Spearman rank correlation of the cheap first pass with full SAHD on this run's survivors. */
  prefilterAgreement: number | null;
  wallMs: number;
}
