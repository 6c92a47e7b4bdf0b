/** The summary table the CLI prints when a search has finished. */
import { formatDuration } from '../common/duration.js';
import { formatSize } from '../common/size.js';
import { STAGE_NAMES, totalStageMs } from '../contract/stages.js';
import type { SearchSummary } from '../contract/summary.js';

export function printSummary(summary: SearchSummary): void {
  const budget = summary.budgetBytes === null ? 'none' : formatSize(summary.budgetBytes);
  const fits =
    summary.budgetBytes === null
      ? ''
      : summary.weightBytes <= summary.budgetBytes
        ? ' (fits)'
        : ' (OVER BUDGET)';
  const rows: [string, string][] = [
    ['run', summary.runId],
    ['mode', `${summary.mode}, seed ${summary.seed}, tfjs backend ${summary.backend}`],
    ['winner', summary.winner],
    ['params', String(summary.params)],
    [
      'weight memory, final',
      `${formatSize(summary.weightBytes)} at ${summary.weightBits} bits, budget ${budget}${fits}`,
    ],
    ['neuron-state memory', formatSize(summary.stateBytes)],
    ['full SAHD score', summary.sahdScore.toFixed(3)],
    [
      'test accuracy, final',
      `${pct(summary.accuracy)} (as trained, 32-bit float weights: ${pct(summary.accuracyBeforeQuantization)})`,
    ],
    [
      'candidates',
      Object.entries(summary.counters)
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
    ],
    ...reusedRows(summary.reusedFrom),
    ['wall time, all stages', formatDuration(totalStageMs(summary.stageWallMs))],
    ...STAGE_NAMES.filter((stage) => summary.stageWallMs[stage] !== undefined).map(
      (stage): [string, string] => [`  ${stage}`, formatDuration(summary.stageWallMs[stage] ?? 0)],
    ),
    ['report', summary.artifacts.report],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [key, value] of rows) console.log(`${key.padEnd(width)}  ${value}`);
}

/** What this run took from earlier ones instead of computing it, and from which run: a row when it did. */
function reusedRows(reusedFrom: SearchSummary['reusedFrom']): [string, string][] {
  const reused = [
    reusedFrom.operationImpact ? `operation impact from ${reusedFrom.operationImpact}` : null,
    reusedFrom.winnerTraining ? `trained winner from ${reusedFrom.winnerTraining}` : null,
  ].filter((part) => part !== null);
  return reused.length === 0 ? [] : [['reused', reused.join('; ')]];
}

function pct(fraction: number): string {
  return `${(fraction * 100).toFixed(2)} %`;
}
