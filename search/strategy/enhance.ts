/**
 * Cell enhancement: derives the searched space (operation set and cell type) from operation-impact
 * evidence by a written, deterministic rule (describeRule). The rule acts only on differences beyond the
 * confidence interval of the mean gain (OpImpact.ci, at the sequential design's level). Pure.
 */
import { OP_NAMES, type OpCode } from '../../snn/cell-matrix.js';
import type { CellType } from '../../snn/config.js';
import { lookLevel } from './impact-looks.js';
import type { ImpactResult, OpImpact } from './impact-plan.js';

const CONVS: OpCode[] = [3, 2];
const SKIP: OpCode = 1;

/** The rule in words, for evidence gathered at these looks, as reports show it beside the evidence. */
export function describeRule(samplesPerLook: readonly number[]): string {
  const level = lookLevel(samplesPerLook);
  const looks = samplesPerLook.length;
  return [
    'Evidence per operation: the mean accuracy gain (with minus without) over n matched pairs of sampled',
    `cells and its ${percentText(level)} confidence interval, mean ± t(${tQuantileText(level)}, n - 1) · std / sqrt(n)`,
    '(Student t, sample std), for n >= 2; with n < 2 there is no interval and no evidence to act on.',
    looks === 1
      ? `Every operation gets ${samplesPerLook[0]} pairs.`
      : `Pairs come in ${looks} looks of ${samplesPerLook.join(', ')} per operation, at ${percentText(level)} ` +
        `each (95% split over the looks), and an operation stops getting pairs once its interval excludes 0, ` +
        `or once it could not exclude 0 at ${samplesPerLook[looks - 1]} pairs with its mean and spread so far.`,
    'An operation is dropped only when its whole interval is below 0 (it harms beyond the interval);',
    'otherwise it is kept (no evidence, an interval that contains 0, or one above 0).',
    'skip is always kept (the parameter-free path), and at least one convolution:',
    'if both were dropped, the one with the higher mean gain stays (conv3x3 on a tie).',
    'Feedback (backward cell) is adopted only when its whole interval is above 0,',
    'because it enlarges the space; otherwise the cell is forward.',
  ].join(' ');
}

export function enhanceSpace(impact: ImpactResult): EnhancedSpace {
  const byOp = new Map<OpCode | 'feedback', OpImpact>(impact.impacts.map((i) => [i.op, i]));
  const decisions: EnhancedSpace['decisions'] = [];
  const kept = new Set<OpCode>();

  for (const op of [1, 2, 3, 4] as OpCode[]) {
    const evidence = byOp.get(op);
    const name = OP_NAMES[op];
    if (evidence === undefined) {
      kept.add(op);
      decisions.push({ subject: name, kept: true, reason: 'not analysed: kept without evidence' });
      continue;
    }
    const drop = evidence.ci !== null && evidence.ci.high < 0;
    if (!drop) kept.add(op);
    decisions.push({
      subject: name,
      kept: !drop,
      reason: `${evidenceText(evidence)}: ${drop ? 'dropped' : 'kept'}`,
    });
  }

  if (!kept.has(SKIP)) {
    kept.add(SKIP);
    const decision = decisions.find((d) => d.subject === OP_NAMES[SKIP]) as { kept: boolean; reason: string };
    decision.kept = true;
    decision.reason += '; kept anyway: skip is always kept';
  }
  if (!CONVS.some((op) => kept.has(op))) {
    const gain = (op: OpCode) => byOp.get(op)?.meanDelta ?? Number.NEGATIVE_INFINITY;
    const conv = gain(2) > gain(3) ? 2 : 3;
    kept.add(conv);
    const decision = decisions.find((d) => d.subject === OP_NAMES[conv]) as { kept: boolean; reason: string };
    decision.kept = true;
    decision.reason += '; kept anyway: at least one convolution stays (the higher mean gain)';
  }

  let cellType: EnhancedSpace['cellType'] = 'forward';
  const feedback = byOp.get('feedback');
  if (feedback === undefined) {
    decisions.push({ subject: 'feedback', kept: false, reason: 'not analysed: forward cell' });
  } else {
    const adopt = feedback.ci !== null && feedback.ci.low > 0;
    if (adopt) cellType = 'backward';
    const verdict = adopt ? 'adopted (backward cell)' : 'not adopted (forward cell)';
    decisions.push({ subject: 'feedback', kept: adopt, reason: `${evidenceText(feedback)}: ${verdict}` });
  }

  return {
    ops: [...kept].sort((a, b) => a - b),
    cellType,
    rule: describeRule(impact.samplesPerLook),
    decisions,
  };
}

/** E.g. "mean gain -3.10 points, 98.3% CI [-5.00, -1.20] below 0" (accuracy in percentage points). */
function evidenceText(evidence: OpImpact): string {
  const mean = `mean gain ${points(evidence.meanDelta)} points`;
  const ci = evidence.ci;
  if (ci === null) return `${mean}, n = ${evidence.n} < 2: no interval, no evidence to act on`;
  const where = ci.high < 0 ? 'below 0' : ci.low > 0 ? 'above 0' : 'contains 0';
  return `${mean}, ${percentText(ci.level)} CI [${points(ci.low)}, ${points(ci.high)}] ${where}`;
}

/** A coverage as people write it: 0.95 -> "95%", 1 - 0.05 / 3 -> "98.3%". */
export function percentText(level: number): string {
  return `${Number((level * 100).toFixed(1))}%`;
}

/** The t quantile a two-sided interval at `level` uses: 0.95 -> "0.975". */
function tQuantileText(level: number): string {
  return String(Number(((1 + level) / 2).toFixed(4)));
}

function points(fraction: number): string {
  const value = (fraction * 100).toFixed(2);
  return fraction >= 0 ? `+${value}` : value;
}

/** The enhanced search space and why it was chosen. */
export interface EnhancedSpace {
  ops: OpCode[];
  cellType: CellType;
  /** The written rule, verbatim, so a report can show it beside the evidence. */
  rule: string;
  decisions: { subject: string; kept: boolean; reason: string }[];
}
