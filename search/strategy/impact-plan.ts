/**
 * Operation-impact analysis, the pure part: which cells are trained and how the evidence is summarised.
 * For each analysed operation, sampled cells that contain it are short-trained
 * with the operation and without it; impact = mean(accWith - accWithout) over the samples, with its sample
 * std and its Student-t confidence interval (null for fewer than 2 samples). How many pairs each operation
 * gets, and the interval's level, is the sequential design's (impact-looks.ts).
 *
 * The "without" variant of an operation: every edge with that op is removed. Validity requires the direct
 * 0 -> 3 edge, so if that edge carries the op it is replaced by a neutral, parameter-free op instead of
 * removed: skip (identity), or avgpool3x3 when the analysed op is skip itself. Removal may leave nodes dead;
 * they are pruned (the cell without the op really lacks them). Operations are analysed in forward cells, so
 * their evidence does not mix with feedback. Feedback edges (when analysed): sampled backward cells with at
 * least one feedback edge, trained as backward cells, against the same matrix with every feedback edge
 * removed (0 -> 3 is forward, so this is always valid).
 *
 * Trained accuracies are keyed by (cell type, canonical matrix): see impact.ts.
 */

import { InputError } from '../../common/errors.js';
import { deriveSeed, Rng } from '../../common/rng.js';
import { OP_NAMES, type OpCode } from '../../snn/cell-matrix.js';
import type { CellType } from '../../snn/config.js';
import { canonicalizeArch, parseArch, pruneArch, sampleArch } from '../space/arch.js';
import { type LeveledInterval, meanAndSampleStd, tInterval } from '../stats/t-interval.js';

const ALL_OPS: OpCode[] = [1, 2, 3, 4];
/** Draws per wanted sample before an operation settles for fewer samples. */
const DRAWS_PER_SAMPLE = 200;

export interface ImpactPlanRequest {
  ops: OpCode[];
  feedback: boolean;
  /** Pairs per subject at each look, increasing (impact-looks.ts); the last is how many are drawn. */
  samplesPerLook: number[];
}

export interface ImpactPair {
  subject: OpCode | 'feedback';
  cellType: CellType;
  withArch: string;
  withoutArch: string;
}

/**
 * The (with, without) pairs the analysis may train, as many per subject as its last look, pure and seeded
 * (see the module comment). A subject's pairs are in the order drawn: a look at n pairs uses the first n.
 */
export function planImpactPairs(request: ImpactPlanRequest, seed: number): ImpactPair[] {
  const wanted = validateSamplesPerLook(request.samplesPerLook);
  const pairs: ImpactPair[] = [];
  for (const op of [...new Set(request.ops)].sort((a, b) => a - b)) {
    if (!ALL_OPS.includes(op))
      throw new InputError('ops', `${op} is not an analysable operation`, '1, 2, 3, 4');
    const rng = new Rng(deriveSeed(seed, `impact/op${op}`));
    pairs.push(...drawPairs(rng, op, 'forward', wanted, (arch) => withoutOp(arch, op)));
  }
  if (request.feedback) {
    const rng = new Rng(deriveSeed(seed, 'impact/feedback'));
    pairs.push(...drawPairs(rng, 'feedback', 'backward', wanted, withoutFeedback));
  }
  return pairs;
}

/** Checks the looks (increasing sample counts, the first >= 1); returns the last, the pairs drawn. */
function validateSamplesPerLook(samplesPerLook: readonly number[]): number {
  const allowed = 'a list of increasing integers >= 1, e.g. [3, 5, 8]';
  if (samplesPerLook.length === 0) throw new InputError('samplesPerLook', 'is empty', allowed);
  samplesPerLook.forEach((n, k) => {
    if (!Number.isInteger(n) || n < 1 || (k > 0 && n <= (samplesPerLook[k - 1] as number)))
      throw new InputError(`samplesPerLook[${k}]`, `${n} does not follow the looks before it`, allowed);
  });
  return samplesPerLook[samplesPerLook.length - 1] as number;
}

/** The cell without an operation (see the module comment); the canonical string. */
export function withoutOp(arch: string, op: OpCode): string {
  const rows = parseArch(arch, 'backward').map((row) => [...row]);
  const neutral: OpCode = op === 1 ? 4 : 1;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as OpCode[];
    for (let j = 0; j < row.length; j++) {
      if (row[j] !== op) continue;
      row[j] = i === 0 && j === rows.length - 1 ? neutral : 0;
    }
  }
  return canonicalizeArch(rows);
}

/** The cell with every feedback edge removed; the canonical string. */
export function withoutFeedback(arch: string): string {
  const rows = parseArch(arch, 'backward').map((row, i) => row.map((op, j) => (i > j ? 0 : op)));
  return canonicalizeArch(rows);
}

function drawPairs(
  rng: Rng,
  subject: OpCode | 'feedback',
  cellType: CellType,
  wanted: number,
  without: (arch: string) => string,
): ImpactPair[] {
  const pairs: ImpactPair[] = [];
  const seen = new Set<string>();
  for (let draw = 0; draw < wanted * DRAWS_PER_SAMPLE && pairs.length < wanted; draw++) {
    const raw = sampleArch(rng, ALL_OPS, cellType);
    if (pruneArch(raw) === null) continue;
    const withArch = canonicalizeArch(raw);
    if (seen.has(withArch) || !contains(withArch, subject)) continue;
    seen.add(withArch);
    const withoutArch = without(withArch);
    if (withoutArch !== withArch) pairs.push({ subject, cellType, withArch, withoutArch });
  }
  return pairs;
}

function contains(arch: string, subject: OpCode | 'feedback'): boolean {
  const rows = parseArch(arch, 'backward');
  return rows.some((row, i) =>
    row.some((op, j) => (subject === 'feedback' ? i > j && op !== 0 : op === subject)),
  );
}

/** Key of a trained accuracy: the same matrix trained as a forward or a backward cell may differ. */
export function impactKey(cellType: CellType, arch: string): string {
  return `${cellType}|${arch}`;
}

/**
 * Per-subject evidence from the pairs and the trained accuracies: the mean, sample std and t interval at
 * `level` of the gains (accWith - accWithout), and why the design stopped adding pairs.
 */
export function summariseImpact(
  subject: OpCode | 'feedback',
  pairs: readonly ImpactPair[],
  accuracies: Readonly<Record<string, number>>,
  level: number,
  stop: ImpactStop,
): OpImpact {
  const samples = pairs.map((p) => ({
    withArch: p.withArch,
    withoutArch: p.withoutArch,
    accWith: accuracies[impactKey(p.cellType, p.withArch)] as number,
    accWithout: accuracies[impactKey(p.cellType, p.withoutArch)] as number,
  }));
  const n = samples.length;
  const { mean: meanDelta, std } = meanAndSampleStd(samples.map((s) => s.accWith - s.accWithout));
  return {
    op: subject,
    name: subject === 'feedback' ? 'feedback' : OP_NAMES[subject],
    meanDelta,
    std,
    n,
    ci: tInterval(meanDelta, std, n, level),
    stop,
    samples,
  };
}

/**
 * Why a subject got no more pairs (impact-looks.ts): its interval cleared 0; it could not clear 0 even at
 * the last look with its mean and spread so far; or the last look was reached.
 */
export type ImpactStop = 'clear of 0' | 'cannot clear 0' | 'last look';

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
   * Student-t confidence interval of meanDelta at the design's level (impact-looks.ts):
   * meanDelta ± t((1 + level) / 2, n - 1) · std / sqrt(n) (search/stats/t-interval.ts); null for n < 2
   * (no interval, so no evidence to act on).
   */
  ci: LeveledInterval | null;
  stop: ImpactStop;
  samples: { withArch: string; withoutArch: string; accWith: number; accWithout: number }[];
}

export interface ImpactResult {
  seed: number;
  datasetFingerprint: string;
  /** The sequential design: pairs per subject at each look (impact-looks.ts). */
  samplesPerLook: number[];
  impacts: OpImpact[];
  wallMs: number;
}
