import type { OpCode } from '../../snn/cell-matrix.js';
import type { CellType, NetConfig } from '../../snn/config.js';
import type { FirstPass } from '../profiles.js';

/**
 * Every stage is a function (input, context) -> JSON-serialisable result. The context carries
 * the seed, a progress callback (which also hands out the resume point to persist), an optional
 * resume point from an earlier, interrupted call, and an abort signal.
 */
export interface StageContext<Resume> {
  seed: number;
  onProgress?: (progress: StageProgress<Resume>) => void | Promise<void>;
  /** Finer progress between resume points (e.g. every training step), for display only. */
  onStep?: (progress: { done: number; total: number; counters?: Record<string, number> }) => void;
  resume?: Resume;
  signal?: AbortSignal;
}

export interface StageProgress<Resume> {
  done: number;
  total: number;
  counters?: Record<string, number>;
  /** What a later call needs to continue from here (JSON-serialisable, small). */
  resume: Resume;
}

/** Per-operation evidence of operation-impact analysis. */
export interface OpImpact {
  op: OpCode | 'feedback';
  name: string;
  /** Mean of (accuracy with the op) - (accuracy without it) over the sampled cells. */
  meanDelta: number;
  /** Sample standard deviation of those differences. */
  std: number;
  n: number;
  /**
   * 95% Student-t confidence interval of meanDelta: meanDelta ± t(0.975, n - 1) · std / sqrt(n)
   * (search/stats/t-interval.ts); null for n < 2 (no interval, so no evidence to act on).
   */
  ci95: { low: number; high: number } | null;
  samples: { withArch: string; withoutArch: string; accWith: number; accWithout: number }[];
}

export interface ImpactResult {
  seed: number;
  datasetFingerprint: string;
  impacts: OpImpact[];
  wallMs: number;
}

/** The enhanced search space and why it was chosen. */
export interface EnhancedSpace {
  ops: OpCode[];
  cellType: CellType;
  /** The written rule, verbatim, so a report can show it beside the evidence. */
  rule: string;
  decisions: { subject: string; kept: boolean; reason: string }[];
}

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
  weightBytes: number;
  stateBytes: number;
  score: number;
}

export interface SearchResult {
  seed: number;
  mode: 'spikenas' | 'snasnet';
  config: NetConfig;
  budgetBytes: number | null;
  weightBits: number;
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
