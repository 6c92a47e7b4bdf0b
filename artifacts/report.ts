import { formatSize } from '../common/size.js';
import { parseArch } from '../search/arch.js';
import { OP_NAMES } from '../search/arch.types.js';
import { isUsableScore } from '../search/stages/scoring.js';
import type { EnhancedSpace, ImpactResult, ScoredCandidate, SearchResult } from '../search/stages/types.js';
import type { StageName } from '../workflows/types.js';

/** What the trained (and maybe quantized) winner came to. Accuracies are fractions in [0, 1]. */
export interface WinnerSummary {
  arch: string;
  params: number;
  /** Precision the search assumed (SearchResult.weightBits). */
  weightBits: number;
  weightBytes: number;
  stateBytes: number;
  score: number;
  accuracyBeforeQuantization: number;
  /** Set when the weights were quantized to fit the budget; null when they already fit. */
  quantization: { weightBits: number; weightBytes: number; accuracy: number } | null;
  /** Mean fraction of neurons that spike per timestep, per LIF layer, on the test set. */
  spikeRates: { layer: string; rate: number }[];
  training?: { epochs: number; wallMs: number };
}

/** Everything a search report shows; plain data, so a workflow can assemble it from stage results. */
export interface SearchReportInput {
  runId: string;
  /** ISO time the run started. */
  startedAt: string;
  /** The request or config as given, shown verbatim. */
  request: Record<string, unknown>;
  seeds: Record<string, number>;
  backend: string;
  dataset: {
    name: string;
    source: string;
    fingerprint: string;
    inputShape: [number, number, number];
    numClasses: number;
    trainCount: number;
    valCount: number | null;
    testCount: number;
  };
  stageWallMs: Partial<Record<StageName, number>>;
  search: SearchResult;
  impact: ImpactResult | null;
  enhanced: EnhancedSpace | null;
  winner: WinnerSummary | null;
}

/** Renders the markdown report of a search. Pure: same input, same text. */
export function renderReport(input: SearchReportInput): string {
  const { search, winner } = input;
  const out: string[] = [];
  out.push(`# spikenas search report: ${input.runId}`, '');
  out.push(
    table(
      ['', ''],
      [
        ['mode', search.mode],
        ['dataset', `${input.dataset.name} (${input.dataset.fingerprint.slice(0, 12)}…)`],
        ['budget (weights)', budgetText(search.budgetBytes)],
        ['winner', winner === null ? 'none' : `\`${winner.arch}\``],
        ['winner weight memory', winner === null ? '-' : winnerMemoryText(winner, search.budgetBytes)],
        ['accuracy', winner === null ? '-' : percent(finalAccuracy(winner))],
        ['search wall time', duration(search.wallMs)],
        ['started', input.startedAt],
        ['backend', input.backend],
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
  out.push('', `Weight precision assumed by the search: ${search.weightBits} bits.`, '');

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
  if (search.prefilterAgreement !== null) {
    out.push(
      '',
      `Cheap first pass vs full SAHD on the survivors: Spearman rank correlation ${search.prefilterAgreement.toFixed(3)}.`,
    );
  }

  out.push('', '## Stage wall times', '');
  const stages = Object.entries(input.stageWallMs) as [StageName, number][];
  const total = stages.reduce((sum, [, ms]) => sum + ms, 0);
  out.push(
    table(
      ['stage', 'wall time', 'share'],
      [
        ...stages.map(([stage, ms]) => [stage, duration(ms), total > 0 ? percent(ms / total) : '-']),
        ['total', duration(total), ''],
      ],
    ),
  );

  out.push('', '## Operation impact', '');
  if (input.impact === null) {
    out.push(`Not run (${search.mode} mode searches the full operation set).`);
  } else {
    out.push(
      `Mean accuracy change when the operation is present, over matched pairs of sampled cells ` +
        `(seed ${input.impact.seed}, ${duration(input.impact.wallMs)}).`,
      '',
    );
    out.push(
      table(
        ['operation', 'mean delta', 'std', 'pairs'],
        input.impact.impacts.map((i) => [
          i.name,
          points(i.meanDelta, true),
          points(i.std, false),
          String(i.n),
        ]),
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
        e.decisions.map((x) => [x.subject, x.kept ? 'kept' : 'dropped', x.reason]),
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
      [`weight memory at ${winner.weightBits} bits`, formatSize(winner.weightBytes)],
      ['budget', budgetText(search.budgetBytes)],
      ['neuron-state memory', formatSize(winner.stateBytes)],
      ['SAHD score', winner.score.toFixed(3)],
      [`accuracy at ${winner.weightBits} bits`, percent(winner.accuracyBeforeQuantization)],
    ];
    if (winner.quantization !== null) {
      const q = winner.quantization;
      rows.push(
        [`weight memory at ${q.weightBits} bits`, formatSize(q.weightBytes)],
        [`accuracy at ${q.weightBits} bits`, percent(q.accuracy)],
      );
    }
    rows.push(['fits the budget', fitsText(memoryAfterQuantization(winner), search.budgetBytes)]);
    if (winner.training !== undefined) {
      rows.push(['training', `${winner.training.epochs} epochs, ${duration(winner.training.wallMs)}`]);
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

export interface ParetoPlotInput {
  /** All scored candidates (one dot each). */
  candidates: readonly ScoredCandidate[];
  /** The front, any order; drawn as a line by increasing weight memory. */
  pareto: readonly ScoredCandidate[];
  budgetBytes: number | null;
  winner: string | null;
  title?: string;
}

const WIDTH = 720;
const HEIGHT = 480;
const MARGIN = { left: 80, right: 30, top: 70, bottom: 60 };

/**
 * An SVG scatter of weight memory (x) vs SAHD score (y): every candidate with a finite score as a
 * circle.candidate, the front as polyline.pareto, the budget as line.budget, the winner as circle.winner.
 */
export function renderParetoSvg(input: ParetoPlotInput): string {
  const finite = input.candidates.filter((c) => isUsableScore(c.score) && Number.isFinite(c.weightBytes));
  const dropped = input.candidates.length - finite.length;
  const xs = finite.map((c) => c.weightBytes);
  if (input.budgetBytes !== null) xs.push(input.budgetBytes);
  // Ticks at round numbers of the unit the largest value is shown in (B, KiB or MiB).
  const xUnit = Math.max(0, ...xs) >= 1024 ** 2 ? 1024 ** 2 : Math.max(0, ...xs) >= 1024 ? 1024 : 1;
  const xScale = linearScale(xs, MARGIN.left, WIDTH - MARGIN.right, true, xUnit);
  const yScale = linearScale(
    finite.map((c) => c.score),
    HEIGHT - MARGIN.bottom,
    MARGIN.top,
    false,
  );
  const plotBottom = HEIGHT - MARGIN.bottom;
  const plotRight = WIDTH - MARGIN.right;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" ` +
      'font-family="sans-serif" font-size="12">',
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text class="title" x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="15">` +
      `${escapeXml(input.title ?? 'Weight memory vs SAHD score')}</text>`,
  );

  // Axes with ticks and labels.
  parts.push(
    `<line class="axis" x1="${MARGIN.left}" y1="${plotBottom}" x2="${plotRight}" y2="${plotBottom}" stroke="black"/>`,
    `<line class="axis" x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${plotBottom}" stroke="black"/>`,
  );
  for (const tick of xScale.ticks) {
    const x = fixed(xScale.map(tick));
    parts.push(
      `<line x1="${x}" y1="${plotBottom}" x2="${x}" y2="${plotBottom + 5}" stroke="black"/>`,
      `<text class="tick" x="${x}" y="${plotBottom + 18}" text-anchor="middle">` +
        `${escapeXml(bytesTickText(tick, xUnit, xScale.step))}</text>`,
    );
  }
  for (const tick of yScale.ticks) {
    const y = fixed(yScale.map(tick));
    parts.push(
      `<line x1="${MARGIN.left - 5}" y1="${y}" x2="${MARGIN.left}" y2="${y}" stroke="black"/>`,
      `<line x1="${MARGIN.left}" y1="${y}" x2="${plotRight}" y2="${y}" stroke="#eee"/>`,
      `<text class="tick" x="${MARGIN.left - 8}" y="${fixed(yScale.map(tick) + 4)}" text-anchor="end">` +
        `${escapeXml(tickText(tick, yScale.step))}</text>`,
    );
  }
  parts.push(
    `<text class="axis-label" x="${(MARGIN.left + plotRight) / 2}" y="${HEIGHT - 16}" text-anchor="middle">` +
      'weight memory</text>',
    `<text class="axis-label" x="20" y="${(MARGIN.top + plotBottom) / 2}" text-anchor="middle" ` +
      `transform="rotate(-90 20 ${(MARGIN.top + plotBottom) / 2})">SAHD score (log |det K|)</text>`,
  );

  if (input.budgetBytes !== null) {
    const x = fixed(xScale.map(input.budgetBytes));
    parts.push(
      `<line class="budget" x1="${x}" y1="${MARGIN.top}" x2="${x}" y2="${plotBottom}" stroke="#c0392b" ` +
        'stroke-dasharray="6 4" stroke-width="1.5"/>',
      `<text x="${fixed(xScale.map(input.budgetBytes) - 4)}" y="${MARGIN.top + 12}" text-anchor="end" fill="#c0392b">` +
        `budget ${escapeXml(formatSize(input.budgetBytes))}</text>`,
    );
  }

  for (const c of finite) {
    parts.push(
      `<circle class="candidate" cx="${fixed(xScale.map(c.weightBytes))}" cy="${fixed(yScale.map(c.score))}" r="3" ` +
        `fill="#4a90d9" fill-opacity="0.55"><title>${escapeXml(candidateTitle(c))}</title></circle>`,
    );
  }

  const front = input.pareto
    .filter((c) => isUsableScore(c.score) && Number.isFinite(c.weightBytes))
    .slice()
    .sort((a, b) => a.weightBytes - b.weightBytes || a.score - b.score);
  if (front.length > 0) {
    const points = front
      .map((c) => `${fixed(xScale.map(c.weightBytes))},${fixed(yScale.map(c.score))}`)
      .join(' ');
    parts.push(`<polyline class="pareto" points="${points}" fill="none" stroke="#e67e22" stroke-width="2"/>`);
  }

  const winner = input.winner === null ? undefined : finite.find((c) => c.arch === input.winner);
  if (winner !== undefined) {
    const cx = fixed(xScale.map(winner.weightBytes));
    const cy = fixed(yScale.map(winner.score));
    parts.push(
      `<circle class="winner" cx="${cx}" cy="${cy}" r="7" fill="none" stroke="#27ae60" stroke-width="2.5">` +
        `<title>${escapeXml(`winner: ${candidateTitle(winner)}`)}</title></circle>`,
      `<text x="${fixed(xScale.map(winner.weightBytes) + 10)}" y="${fixed(yScale.map(winner.score) - 8)}" ` +
        `fill="#27ae60">winner</text>`,
    );
  }

  // Legend in a row above the plot, where it cannot hide a dot.
  parts.push(
    `<g class="legend" transform="translate(${MARGIN.left} 46)">`,
    '<circle cx="6" cy="0" r="3" fill="#4a90d9" fill-opacity="0.55"/>',
    `<text x="16" y="4">scored candidate (${finite.length})</text>`,
    '<line x1="180" y1="0" x2="194" y2="0" stroke="#e67e22" stroke-width="2"/>',
    `<text x="200" y="4">Pareto front (${front.length})</text>`,
    '<circle cx="340" cy="0" r="6" fill="none" stroke="#27ae60" stroke-width="2.5"/>',
    '<text x="352" y="4">winner</text>',
    '<line x1="420" y1="0" x2="434" y2="0" stroke="#c0392b" stroke-dasharray="6 4" stroke-width="1.5"/>',
    '<text x="440" y="4">budget</text>',
    '</g>',
  );
  if (dropped > 0) {
    parts.push(
      `<text class="note" x="${MARGIN.left}" y="${HEIGHT - 4}" font-size="10">` +
        `${dropped} candidate(s) without a usable score (singular SAHD kernel) not shown</text>`,
    );
  }
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

interface Scale {
  map: (value: number) => number;
  ticks: number[];
  step: number;
}

/** A linear scale over the values' range (padded; from 0 when `fromZero`) with "nice" tick values. */
function linearScale(values: number[], from: number, to: number, fromZero: boolean, unit = 1): Scale {
  let low = values.length > 0 ? Math.min(...values) : 0;
  let high = values.length > 0 ? Math.max(...values) : 1;
  if (fromZero) low = Math.min(0, low);
  if (high - low < 1e-9) {
    const pad = Math.abs(high) > 0 ? Math.abs(high) * 0.1 : 1;
    low -= pad;
    high += pad;
  }
  const step = niceStep((high - low) / unit / 5) * unit;
  low = Math.floor(low / step) * step;
  high = Math.ceil(high / step) * step;
  const ticks: number[] = [];
  for (let t = low; t <= high + step / 2; t += step) ticks.push(Number(t.toPrecision(12)));
  return { map: (value) => from + ((value - low) / (high - low)) * (to - from), ticks, step };
}

function niceStep(rough: number): number {
  const power = 10 ** Math.floor(Math.log10(rough));
  const fraction = rough / power;
  return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
}

function tickText(value: number, step: number): string {
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  return value.toFixed(decimals);
}

function bytesTickText(bytes: number, unit: number, step: number): string {
  const name = unit === 1 ? 'B' : unit === 1024 ? 'KiB' : 'MiB';
  return `${tickText(bytes / unit, step / unit)} ${name}`;
}

function candidateTitle(c: ScoredCandidate): string {
  return `${c.arch}: ${c.params} params, ${formatSize(c.weightBytes)}, score ${c.score.toFixed(3)}`;
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

/** An accuracy difference in percentage points. */
function points(fraction: number, signed: boolean): string {
  return `${signed && fraction >= 0 ? '+' : ''}${(fraction * 100).toFixed(2)} pp`;
}

function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

function showValue(value: unknown): string {
  return Array.isArray(value) ? value.join(' x ') : String(value);
}

function fixed(value: number): string {
  return value.toFixed(1);
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}
