/**
 * What `npm run bench:search` records (one JSON object per dataset, budget and seed under bench/results/),
 * and the README table made from every paper-profile record: rows per seed, a mean ± standard deviation
 * row per budget across seeds, and the machines and backends the figures come from.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FirstPass } from '../search/profiles.js';
import type { SearchMode } from '../workflows/types.js';

export const README_START = '<!-- paper-results:start -->';
export const README_END = '<!-- paper-results:end -->';
export const NO_RUNS = 'no paper runs recorded yet';

export interface OpImpactFigure {
  op: number | string;
  name: string;
  meanDelta: number;
  n: number;
  std?: number;
  /** Interval fields, when the impact stage records them (e.g. a confidence interval). */
  [field: string]: unknown;
}

export interface ModeResult {
  mode: SearchMode;
  runId: string;
  /** False when the bench found the workflow already started (a resumed run); its figures are its own. */
  startedByThisRun: boolean;
  candidatesScored: number;
  counters: Record<string, number>;
  stageWallMs: Record<string, number>;
  /** The stages' wall times summed. */
  totalWallMs: number;
  /** Clock time this bench waited for the workflow (includes Temporal and worker overhead). */
  elapsedMs: number;
  winner: string;
  params: number;
  weightBits: number;
  weightBytes: number;
  fitsBudget: boolean | null;
  /** Test accuracy (fraction) of the trained 32-bit weights. */
  testAccuracy: number;
  /** Test accuracy (fraction) of the weights as stored (quantized to weightBits). */
  testAccuracyQuantized: number;
  /** The cheap first pass, when the search used one: its settings from the run's profile. */
  /** The first pass that ran, with its measured agreement (search/profiles.ts), or null. */
  firstPass: FirstPass | null;
  prefiltered: number;
  prefilterAgreement: number | null;
  report: string;
  /** spikenas only: cell enhancement's decisions and the operation-impact evidence behind them. */
  enhancement?: { ops: number[]; cellType: string; decisions: unknown[] };
  impact?: { reused: boolean | null; impacts: OpImpactFigure[] };
}

export interface PaperResult {
  date: string;
  machine: {
    cores: number;
    arch: string;
    platform: string;
    cpuModel: string;
    memoryBytes: number;
    loadAverage: { start: number[]; end: number[] };
  };
  backend: string;
  command: string;
  profile: string;
  dataset: string;
  budget: string;
  budgetBytes: number;
  weightBits: number;
  seed: number;
  shards: number;
  workers: { processes: number; env: Record<string, string> };
  temporal: { address: string; startedDevServer: boolean };
  artifacts: string;
  runPrefix: string;
  /** snasnet's memory-aware-search stage wall time over spikenas'. */
  searchStageSpeedup: number;
  /** snasnet's summed stage wall times over spikenas'. */
  endToEndSpeedup: number;
  modes: Record<SearchMode, ModeResult>;
}

/** The recorded paper-profile runs in a folder (bench/results), oldest file name first. */
export function loadPaperResults(folder: string): PaperResult[] {
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return [];
  }
  return names
    .filter((name) => /^paper-.*\.json$/.test(name))
    .sort()
    .map((name) => JSON.parse(readFileSync(join(folder, name), 'utf8')) as PaperResult)
    .filter((result) => result.profile === 'paper');
}

const percent = (fraction: number) => (fraction * 100).toFixed(2);
const times = (ratio: number) => `${ratio.toFixed(1)}x`;

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** Sample standard deviation (n - 1). */
function sd(values: number[]): number {
  const m = mean(values);
  return Math.sqrt(values.reduce((a, b) => a + (b - m) ** 2, 0) / (values.length - 1));
}

function spread(values: number[], format: (value: number) => string): string {
  return `${format(mean(values))} ± ${format(sd(values))}`;
}

const HEADER = [
  'budget',
  'seed',
  'spikenas winner',
  'params',
  'bytes / budget',
  'spikenas test acc 32-bit / quantized',
  'snasnet winner',
  'snasnet test acc 32-bit / quantized',
  'candidates scored (spikenas / snasnet)',
  'search-stage speed-up',
  'end-to-end speed-up',
];

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

function accuracies(mode: ModeResult): string {
  return `${percent(mode.testAccuracy)} / ${percent(mode.testAccuracyQuantized)} %`;
}

function seedRow(label: string, r: PaperResult): string {
  const s = r.modes.spikenas;
  const b = r.modes.snasnet;
  return row([
    label,
    String(r.seed),
    `\`${s.winner}\``,
    s.params.toLocaleString('en-US'),
    `${s.weightBytes.toLocaleString('en-US')} / ${r.budgetBytes.toLocaleString('en-US')} (${s.weightBits}-bit)`,
    accuracies(s),
    `\`${b.winner}\``,
    accuracies(b),
    `${s.candidatesScored} / ${b.candidatesScored}`,
    times(r.searchStageSpeedup),
    times(r.endToEndSpeedup),
  ]);
}

function meanRow(label: string, runs: PaperResult[]): string {
  const of = (pick: (r: PaperResult) => number) => runs.map(pick);
  const int = (value: number) => Math.round(value).toLocaleString('en-US');
  const ratio = (value: number) => value.toFixed(1);
  const pair = (mode: SearchMode, a: keyof ModeResult, b: keyof ModeResult, format: (v: number) => string) =>
    `${spread(
      of((r) => r.modes[mode][a] as number),
      format,
    )} / ${spread(
      of((r) => r.modes[mode][b] as number),
      format,
    )}`;
  const budget = (runs[0] as PaperResult).budgetBytes.toLocaleString('en-US');
  const scored = (mode: SearchMode) =>
    spread(
      of((r) => r.modes[mode].candidatesScored),
      int,
    );
  return row([
    label,
    `mean ± sd (${runs.length} seeds)`,
    '',
    spread(
      of((r) => r.modes.spikenas.params),
      int,
    ),
    `${spread(
      of((r) => r.modes.spikenas.weightBytes),
      int,
    )} / ${budget}`,
    `${pair('spikenas', 'testAccuracy', 'testAccuracyQuantized', percent)} %`,
    '',
    `${pair('snasnet', 'testAccuracy', 'testAccuracyQuantized', percent)} %`,
    `${scored('spikenas')} / ${scored('snasnet')}`,
    `${spread(
      of((r) => r.searchStageSpeedup),
      ratio,
    )}x`,
    `${spread(
      of((r) => r.endToEndSpeedup),
      ratio,
    )}x`,
  ]);
}

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(0)} GiB`;
}

/** The markdown the README holds between its paper-results markers. */
export function renderPaperTable(results: PaperResult[]): string {
  if (results.length === 0) return `_${NO_RUNS}._`;
  const datasets = new Set(results.map((r) => r.dataset));
  const groups = new Map<string, PaperResult[]>();
  const sorted = [...results].sort(
    (a, b) => a.dataset.localeCompare(b.dataset) || a.budgetBytes - b.budgetBytes || a.seed - b.seed,
  );
  for (const r of sorted) {
    const key = datasets.size > 1 ? `${r.budget} (${r.dataset})` : r.budget;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const lines = [row(HEADER), row(HEADER.map(() => '---'))];
  for (const [label, runs] of groups) {
    for (const r of runs) lines.push(seedRow(label, r));
    if (runs.length > 1) lines.push(meanRow(label, runs));
  }
  const machines = [
    ...new Set(
      results.map(
        (r) =>
          `${r.machine.cores} cores, ${r.machine.arch}, ${gib(r.machine.memoryBytes)}; backend ${r.backend}`,
      ),
    ),
  ];
  const dates = results.map((r) => r.date.slice(0, 10)).sort();
  return [
    `${[...datasets].join(', ')}, ${results[0]?.weightBits}-bit weights, ${results[0]?.shards} shards, ` +
      `${dates[0]} to ${dates.at(-1)}; accuracies are test accuracy in %; speed-ups are snasnet's wall time ` +
      "over spikenas' (search stage; all stages summed).",
    '',
    ...lines,
    '',
    `Machine: ${machines.join('; ')}.`,
  ].join('\n');
}

/** The README with the text between its paper-results markers replaced. */
export function replaceBetweenMarkers(readme: string, text: string): string {
  const start = readme.indexOf(README_START);
  const end = readme.indexOf(README_END);
  if (start < 0 || end < start) throw new Error(`README has no ${README_START} … ${README_END} markers`);
  return `${readme.slice(0, start + README_START.length)}\n${text}\n${readme.slice(end)}`;
}
