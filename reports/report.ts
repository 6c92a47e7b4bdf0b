import { formatDuration } from '../common/duration.js';
import { formatSize } from '../common/size.js';
import type { DatasetRecord, WinnerSummary } from '../contract/run-records.js';
import { STAGE_NAMES, type StageName, totalStageMs } from '../contract/stages.js';
import type { SearchSummary } from '../contract/summary.js';
import { parseArch } from '../search/space/arch.js';
import { deployRamBytes } from '../search/space/deploy-memory.js';
import { type EnhancedSpace, percentText } from '../search/strategy/enhance.js';
import type { ImpactResult } from '../search/strategy/impact-plan.js';
import type { ScoredCandidate, SearchResult } from '../search/strategy/search-result.js';
import { OP_NAMES } from '../snn/cell-matrix.js';

/** What the trained (and maybe quantized) winner came to. Accuracies are fractions in [0, 1]. */
/** Everything a search report shows; plain data, so a workflow can assemble it from stage results. */
export interface SearchReportInput {
  runId: string;
  /** ISO time the run started. */
  startedAt: string;
  /** The request or config as given, shown verbatim. */
  request: Record<string, unknown>;
  seeds: Record<string, number>;
  backend: string;
  dataset: DatasetRecord;
  stageWallMs: Partial<Record<StageName, number>>;
  search: SearchResult;
  impact: ImpactResult | null;
  enhanced: EnhancedSpace | null;
  winner: WinnerSummary | null;
  /**
   * The run's weight budget. spikenas' search keeps to it (search.budgetBytes); snasnet's search knows no
   * budget (search.budgetBytes is null), and only its winner is quantized to fit one when it is given.
   */
  budgetBytes: number | null;
  /** The run's RAM budget for one image on the robot (SearchRequest.ramBudget); null or absent: none. */
  ramBudgetBytes?: number | null;
  /** Earlier runs whose work this run reused (SearchSummary.reusedFrom); absent: none. */
  reusedFrom?: SearchSummary['reusedFrom'];
}

/** Renders the markdown report of a search. Pure: same input, same text. */
export function renderReport(input: SearchReportInput): string {
  const { search, winner, budgetBytes } = input;
  const out: string[] = [];
  out.push(`# spikenas search report: ${input.runId}`, '');
  out.push(
    table(
      ['', ''],
      [
        ['mode', search.mode],
        ['dataset', `${input.dataset.name} (${input.dataset.fingerprint.slice(0, 12)}…)`],
        ['budget (weights)', budgetText(budgetBytes)],
        ['winner', winner === null ? 'none' : `\`${winner.arch}\``],
        [
          'winner weight memory, final (as stored)',
          winner === null ? '-' : winnerMemoryText(winner, budgetBytes),
        ],
        ['winner test accuracy, final weights', winner === null ? '-' : percent(finalAccuracy(winner))],
        ['wall time, all stages', formatDuration(totalStageMs(input.stageWallMs))],
        ['wall time, memory-aware search stage', formatDuration(search.wallMs)],
        ['started', input.startedAt],
        ['backend', input.backend],
        ['reused from earlier runs', reusedText(input.reusedFrom)],
      ],
    ),
  );

  out.push('', '## Configuration', '', '```json', JSON.stringify(input.request, null, 2), '```', '');
  out.push(
    table(
      ['network', 'value'],
      Object.entries(search.config).map(([key, value]) => [key, showValue(value)]),
    ),
  );
  out.push(
    '',
    `Weight widths searched: ${search.weightBits.join(', ')} bits (each candidate at the widest that fits).`,
    '',
  );

  out.push(
    '## Seeds',
    '',
    table(
      ['purpose', 'seed'],
      Object.entries(input.seeds).map(([k, v]) => [k, String(v)]),
    ),
  );

  const d = input.dataset;
  out.push('', '## Dataset', '');
  out.push(
    table(
      ['', ''],
      [
        ['name', d.name],
        ['source', d.source],
        ['fingerprint (SHA-256)', `\`${d.fingerprint}\``],
        ['input shape (H x W x C)', d.inputShape.join(' x ')],
        ['classes', String(d.numClasses)],
        ['train / val / test', `${d.trainCount} / ${d.valCount ?? '-'} / ${d.testCount}`],
      ],
    ),
  );

  const c = search.counters;
  out.push('', '## Candidates', '');
  out.push(
    table(
      ['generated', 'invalid', 'duplicate', 'over budget', 'prefiltered', 'scored'],
      [[c.generated, c.invalid, c.duplicate, c.overBudget, c.prefiltered, c.scored].map(String)],
    ),
  );
  out.push('', ...firstPassLines(search));
  if (search.budgetBytes === null && budgetBytes !== null) {
    out.push('', 'The search did not filter by the budget: only the winner was quantized to fit it.');
  }

  out.push('', '## Stage wall times', '');
  const stages = STAGE_NAMES.filter((stage) => input.stageWallMs[stage] !== undefined).map(
    (stage): [StageName, number] => [stage, input.stageWallMs[stage] as number],
  );
  const total = totalStageMs(input.stageWallMs);
  out.push(
    table(
      ['stage', 'wall time', 'share'],
      [
        ...stages.map(([stage, ms]) => [stage, formatDuration(ms), total > 0 ? percent(ms / total) : '-']),
        ['total', formatDuration(total), ''],
      ],
    ),
  );

  out.push('', '## Operation impact', '');
  if (input.impact === null) {
    out.push(`Not run (${search.mode} mode searches the full operation set).`);
  } else {
    const { samplesPerLook } = input.impact;
    out.push(
      `Mean accuracy gain (with minus without) when the operation is present, over n matched pairs of ` +
        `sampled cells (seed ${input.impact.seed}, ${formatDuration(input.impact.wallMs)}; pairs in looks of ` +
        `${samplesPerLook.join(', ')}), with its confidence interval at the looks' level (none for n < 2). ` +
        `The rule is under Enhanced search space.`,
      '',
    );
    const decisions = input.enhanced?.decisions ?? [];
    out.push(
      table(
        ['operation', 'mean gain', 'CI', 'n', 'stopped', 'decision'],
        input.impact.impacts.map((i) => {
          const decision = decisions.find((d) => d.subject === i.name);
          return [
            i.name,
            points(i.meanDelta),
            i.ci === null
              ? 'none (n < 2)'
              : `${percentText(i.ci.level)} [${points(i.ci.low)}, ${points(i.ci.high)}]`,
            String(i.n),
            i.stop,
            decision === undefined ? '-' : decisionText(decision),
          ];
        }),
      ),
    );
  }
  if (input.enhanced !== null) {
    const e = input.enhanced;
    out.push('', '### Enhanced search space', '');
    out.push(`Rule: ${e.rule}`, '');
    out.push(`Operations kept: ${e.ops.map((op) => OP_NAMES[op]).join(', ')}; cell type: ${e.cellType}.`, '');
    out.push(
      table(
        ['subject', 'decision', 'reason'],
        e.decisions.map((x) => [x.subject, decisionText(x), x.reason]),
      ),
    );
  }

  out.push('', '## Winner', '');
  if (winner === null) {
    out.push('No candidate was trained.');
  } else {
    out.push(`\`${winner.arch}\``, '', archTable(winner.arch, search.config.cellType), '');
    const rows: string[][] = [
      ['parameters', winner.params.toLocaleString('en-US')],
      [
        `weight memory the search estimated, at ${winner.weightBits} bits (codes only)`,
        formatSize(winner.weightBytes),
      ],
      [`the same as stored, with per-channel scales (what the budget holds)`, formatSize(winner.storedBytes)],
      ['budget', budgetText(budgetBytes)],
      ['neuron-state memory', formatSize(winner.stateBytes)],
      [
        "RAM on the robot for one image (one membrane per node, buffers: the C export's .bss)",
        formatSize(deployRamBytes(parseArch(winner.arch, search.config.cellType), search.config)),
      ],
      ['RAM budget', budgetText(input.ramBudgetBytes ?? null)],
      ['full SAHD score', winner.score.toFixed(3)],
      ['test accuracy as trained (32-bit float weights)', percent(winner.accuracyBeforeQuantization)],
    ];
    if (winner.quantization !== null) {
      const q = winner.quantization;
      const lost = (accuracy: number) =>
        `${((winner.accuracyBeforeQuantization - accuracy) * 100).toFixed(2)} pp`;
      rows.push([
        `weight memory after quantization to ${q.weightBits} bits (codes and per-channel scales)`,
        formatSize(q.weightBytes),
      ]);
      rows.push(
        [
          `test accuracy after post-training quantization to ${q.weightBits} bits`,
          percent(q.postTrainingAccuracy),
        ],
        [`test accuracy lost to post-training quantization`, lost(q.postTrainingAccuracy)],
      );
      if (q.method === 'quantization-aware') {
        rows.push(
          [
            `test accuracy after quantization-aware training at ${q.weightBits} bits (stored)`,
            percent(q.accuracy),
          ],
          ['test accuracy lost with quantization-aware training', lost(q.accuracy)],
        );
      }
    }
    rows.push(['fits the budget', fitsText(memoryAfterQuantization(winner), budgetBytes)]);
    if (winner.training !== undefined) {
      const t = winner.training;
      const on = t.trainOn === 'train+val' ? 'training and validation images' : 'training images';
      const again = t.quantizationAwareEpochs ?? 0;
      const aware =
        again > 0 && winner.quantization?.method === 'quantization-aware'
          ? `, then the last ${again === 1 ? 'epoch' : `${again} epochs`} again quantization-aware at ` +
            `${winner.quantization.weightBits} bits`
          : '';
      rows.push([
        'training',
        `${t.epochs} epochs on ${t.trainImages} ${on}${aware}, ${formatDuration(t.wallMs)}`,
      ]);
    }
    out.push(table(['', ''], rows));
    out.push('', '### Spike rate per layer', '');
    out.push(
      table(
        ['layer', 'spike rate'],
        winner.spikeRates.map((s) => [s.layer, percent(s.rate)]),
      ),
    );
  }

  out.push('', `## Top ${search.topK.length} candidates`, '');
  out.push(candidateTable(search.topK, winner?.arch));
  out.push('', '## Pareto front (weight memory vs SAHD score)', '', '![Pareto plot](pareto.svg)', '');
  const frontByMemory = [...search.pareto].sort((a, b) => a.weightBytes - b.weightBytes);
  out.push(candidateTable(frontByMemory, winner?.arch), '');
  return out.join('\n');
}

function candidateTable(candidates: readonly ScoredCandidate[], winner: string | undefined): string {
  if (candidates.length === 0) return 'None.';
  return table(
    ['#', 'matrix', 'params', 'weight memory', 'state memory', 'SAHD score'],
    candidates.map((c, i) => [
      String(i + 1),
      `\`${c.arch}\`${c.arch === winner ? ' (winner)' : ''}`,
      c.params.toLocaleString('en-US'),
      formatSize(c.weightBytes),
      formatSize(c.stateBytes),
      c.score.toFixed(3),
    ]),
  );
}

/** The cell matrix as a from/to table of operation names; feedback entries (row > column) are marked. */
function archTable(arch: string, cellType: 'forward' | 'backward'): string {
  const matrix = parseArch(arch, cellType);
  return table(
    ['from \\ to', ...matrix.map((_, j) => `node ${j}`)],
    matrix.map((row, i) => [
      `node ${i}`,
      ...row.map((op, j) => (op === 0 ? '·' : `${OP_NAMES[op]}${i > j ? ' (feedback)' : ''}`)),
    ]),
  );
}

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.map((cell) => cell.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function finalAccuracy(winner: WinnerSummary): number {
  return winner.quantization?.accuracy ?? winner.accuracyBeforeQuantization;
}

function memoryAfterQuantization(winner: WinnerSummary): number {
  return winner.quantization?.weightBytes ?? winner.weightBytes;
}

function winnerMemoryText(winner: WinnerSummary, budgetBytes: number | null): string {
  const bits = winner.quantization?.weightBits ?? winner.weightBits;
  const bytes = memoryAfterQuantization(winner);
  return `${formatSize(bytes)} at ${bits} bits (${fitsText(bytes, budgetBytes)})`;
}

function fitsText(bytes: number, budgetBytes: number | null): string {
  if (budgetBytes === null) return 'no budget';
  const share = percent(bytes / budgetBytes);
  return bytes <= budgetBytes ? `yes, ${share} of the budget` : `NO, ${share} of the budget`;
}

function budgetText(budgetBytes: number | null): string {
  return budgetBytes === null ? 'none' : `${formatSize(budgetBytes)} (${budgetBytes} bytes)`;
}

function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(2)}%`;
}

/** An enhancement decision in a word: operations are kept or dropped, feedback adopted or not. */
function decisionText(decision: { subject: string; kept: boolean }): string {
  if (decision.subject === 'feedback') return decision.kept ? 'adopted' : 'not adopted';
  return decision.kept ? 'kept' : 'dropped';
}

/** An accuracy difference in percentage points, signed. */
function points(fraction: number): string {
  return `${fraction >= 0 ? '+' : ''}${(fraction * 100).toFixed(2)} pp`;
}

function showValue(value: unknown): string {
  return Array.isArray(value) ? value.join(' x ') : String(value);
}

/** Which first pass ran, its agreement with full SAHD as measured by its study, and on this run's survivors. */
function firstPassLines(search: SearchResult): string[] {
  const pass = search.firstPass;
  if (pass === null) return ['First pass: none; every candidate was scored with full SAHD.'];
  const lines = [
    `First pass: SAHD at T = ${pass.timesteps} on ${pass.batchSize} images x ${pass.repeats}, ` +
      `its best ${pass.survivors} of ${search.counters.prefiltered} go on to full SAHD.`,
  ];
  const evidence = pass.evidence;
  lines.push(
    evidence === null
      ? 'Its agreement with full SAHD was not measured for this profile.'
      : `Measured agreement (${evidence.study}, pass ${evidence.pass}, ${evidence.candidates} unfiltered ` +
          `candidates): Spearman ${evidence.spearmanRho.toFixed(3)} with full SAHD; its best ${pass.survivors} ` +
          `hold ${evidence.top20Kept} of the full-SAHD top 20.`,
  );
  if (search.prefilterAgreement !== null) {
    lines.push(`On this run's survivors: Spearman ${search.prefilterAgreement.toFixed(3)} with full SAHD.`);
  }
  return [lines.join(' ')];
}

/** 'nothing', or which stages' work came from which earlier run. */
export function reusedText(reusedFrom: SearchSummary['reusedFrom'] | undefined): string {
  const parts = [
    reusedFrom?.operationImpact ? `operation impact from ${reusedFrom.operationImpact}` : null,
    reusedFrom?.winnerTraining ? `winner training and quantization from ${reusedFrom.winnerTraining}` : null,
  ].filter((part) => part !== null);
  return parts.length === 0 ? 'nothing' : parts.join('; ');
}
