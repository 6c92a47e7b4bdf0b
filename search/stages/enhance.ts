/**
 * Cell enhancement: derives the searched space (operation set and cell type) from operation-impact
 * evidence by a written, deterministic rule. Pure.
 */
import type { OpCode } from '../arch.types.js';
import { OP_NAMES } from '../arch.types.js';
import type { EnhancedSpace, ImpactResult, OpImpact } from './types.js';

export interface EnhanceRule {
  /** Evidence must clear zero by this many standard errors (std / sqrt(n)). */
  seMultiplier: number;
  /** false: keep an op unless it harms; true: keep it only if it helps. */
  requireGain: boolean;
}

export const DEFAULT_ENHANCE_RULE: EnhanceRule = { seMultiplier: 1, requireGain: false };

const CONVS: OpCode[] = [3, 2];
const SKIP: OpCode = 1;

/** The rule in words, as reports show it beside the evidence. */
export function describeRule(rule: EnhanceRule): string {
  const k = rule.seMultiplier;
  const gain = 'mean accuracy gain (with minus without)';
  const margin = `${k} standard error(s) (std/sqrt(n)), with n >= 2`;
  const opTest = rule.requireGain
    ? `An operation is kept only if it helps: its ${gain} exceeds ${margin}.`
    : `An operation is kept unless it harms: it is dropped only when its ${gain} is below 0 by more ` +
      `than ${margin}.`;
  return [
    opTest,
    'Operations without evidence are kept.',
    'skip is always kept (the parameter-free path), and at least one convolution:',
    'if both were dropped, the one with the higher mean gain stays (conv3x3 on a tie).',
    `Feedback (backward cell) is adopted only if it helps: its mean gain exceeds ${margin},`,
    'because it enlarges the space; otherwise the cell is forward.',
  ].join(' ');
}

export function enhanceSpace(impact: ImpactResult, rule: Partial<EnhanceRule> = {}): EnhancedSpace {
  const r: EnhanceRule = { ...DEFAULT_ENHANCE_RULE, ...rule };
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
    const verdict = r.requireGain ? helps(evidence, r) : notHarmful(evidence, r);
    if (verdict.pass) kept.add(op);
    decisions.push({ subject: name, kept: verdict.pass, reason: verdict.reason });
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
    const verdict = helps(feedback, r);
    if (verdict.pass) cellType = 'backward';
    decisions.push({ subject: 'feedback', kept: verdict.pass, reason: verdict.reason });
  }

  return { ops: [...kept].sort((a, b) => a - b), cellType, rule: describeRule(r), decisions };
}

function standardError(evidence: OpImpact): number {
  return evidence.n > 0 ? evidence.std / Math.sqrt(evidence.n) : 0;
}

function summary(evidence: OpImpact, margin: number): string {
  return `mean gain ${evidence.meanDelta.toFixed(4)}, margin ${margin.toFixed(4)}, n = ${evidence.n}`;
}

function notHarmful(evidence: OpImpact, rule: EnhanceRule): { pass: boolean; reason: string } {
  const margin = rule.seMultiplier * standardError(evidence);
  if (evidence.n < 2) return { pass: true, reason: `n = ${evidence.n} < 2: too little evidence to drop` };
  const harms = evidence.meanDelta < -margin;
  return {
    pass: !harms,
    reason: `${harms ? 'harms' : 'does not harm'} (${summary(evidence, margin)})`,
  };
}

function helps(evidence: OpImpact, rule: EnhanceRule): { pass: boolean; reason: string } {
  const margin = rule.seMultiplier * standardError(evidence);
  if (evidence.n < 2)
    return { pass: false, reason: `n = ${evidence.n} < 2: too little evidence that it helps` };
  const gain = evidence.meanDelta > margin;
  return {
    pass: gain,
    reason: `${gain ? 'helps' : 'does not clearly help'} (${summary(evidence, margin)})`,
  };
}
