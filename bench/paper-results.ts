/**
 * What `npm run bench:search` records (one JSON object per dataset, budget and seed under bench/results/),
 * and the README table made from every paper-profile record: rows per seed, a mean ± standard deviation
 * row per budget across seeds, and the machines and backends the figures come from. A record fills mode by
 * mode (each mode's run may come from another session); until it holds both, the table lists it as waiting.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatDuration } from '../common/duration.js';
import type { MachineIdentity } from '../common/machine.js';
import { MODES } from '../config/request.js';
import type { SearchMode } from '../contract/request.js';
import type { FirstPass } from '../search/strategy/profiles.js';

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

export interface Machine extends MachineIdentity {
  /** A 2048 x 2048 float32 matMul on the backend as the mode began, GFLOP/s (bench/measure.ts gemm). */
  matmulGflops: number | null;
  /** When this bench began waiting for the mode, and when it ended. */
  loadAverage: { start: number[]; end: number[] };
}

/**
 * Why two halves' times do not compare, or null when they do: a ratio of times measured on different
 * CPUs measures the CPUs (in this workplace an AVX2 machine ran these networks 2.5x slower than an AVX-512
 * one of the same model name). The matMul figure is not compared: it moves with load.
 */
export function machineDifference(a: Machine, b: Machine): string | null {
  const identity = (m: Machine) =>
    `${m.cores} cores, ${m.arch}, ${m.cpuModel} (${m.vectorExtensions.join(' ')})`;
  return identity(a) === identity(b) ? null : `${identity(a)} against ${identity(b)}`;
}

/** Where and when one mode ran. */
export interface ModeSession {
  /** When its workflow started. */
  date: string;
  command: string;
  machine: Machine;
  backend: string;
  temporal: { address: string; startedDevServer: boolean };
  artifacts: string;
  runPrefix: string;
  /**
   * Whether its winner's training waited until both modes' searches were done and then ran beside the other
   * mode's (one per worker process, a core each); false when it trained alone.
   */
  trainingHeld: boolean;
}

export interface ModeResult {
  mode: SearchMode;
  session: ModeSession;
  runId: string;
  /** False when the bench found the workflow already started (a resumed run); its figures are its own. */
  startedByThisRun: boolean;
  /**
   * Executions of its workflow ID. More than one when the search was stopped and resumed: a resumed stage's
   * wall time then counts from its first start (the stop included) or only from its restart, so the
   * mode's times are no measurement. Absent in records made before it was recorded (2026-12-04).
   */
  executions?: number;
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
  profile: string;
  dataset: string;
  budget: string;
  budgetBytes: number;
  weightBits: number;
  seed: number;
  shards: number;
  workers: { processes: number; env: Record<string, string> };
  /** snasnet's memory-aware-search stage wall time over spikenas'; null until both modes are recorded. */
  searchStageSpeedup: number | null;
  /** snasnet's summed stage wall times over spikenas'; null until both modes are recorded. */
  endToEndSpeedup: number | null;
  /**
   * Why the speed-ups are null although both modes are recorded (they ran on different machines, or a mode
   * was resumed after a stop), and what would make them count.
   */
  speedupsWithheld: string | null;
  modes: Partial<Record<SearchMode, ModeResult>>;
}

export interface CompletePaperResult extends PaperResult {
  searchStageSpeedup: number;
  endToEndSpeedup: number;
  modes: Record<SearchMode, ModeResult>;
}

/** Both modes recorded, on one machine. */
export function isComplete(result: PaperResult): result is CompletePaperResult {
  return result.searchStageSpeedup !== null && result.endToEndSpeedup !== null;
}

/** Why two recorded modes' times do not compare, and what would make them; null when they do. */
function withheldBecause(spikenas: ModeResult, snasnet: ModeResult): string | null {
  const difference = machineDifference(spikenas.session.machine, snasnet.session.machine);
  if (difference) return `modes ran on ${difference}; one mode is to be run again on the other's machine`;
  const resumed = [spikenas, snasnet].filter((m) => (m.executions ?? 1) > 1).map((m) => m.mode);
  if (resumed.length === 0) return null;
  return (
    `${resumed.join(' and ')} search was resumed after a stop, and the record names only the machine it ` +
    'finished on: its first part may have run on another; it is to be run again without a stop'
  );
}

/** The record with its speed-ups computed from the modes it holds (null until it holds both). */
export function withSpeedups(result: PaperResult): PaperResult {
  const { spikenas, snasnet } = result.modes;
  const none = { searchStageSpeedup: null, endToEndSpeedup: null };
  if (!spikenas || !snasnet) return { ...result, ...none, speedupsWithheld: null };
  const speedupsWithheld = withheldBecause(spikenas, snasnet);
  if (speedupsWithheld) return { ...result, ...none, speedupsWithheld };
  const search = (mode: ModeResult) => mode.stageWallMs['memory-aware-search'] ?? Number.NaN;
  return {
    ...result,
    searchStageSpeedup: search(snasnet) / search(spikenas),
    endToEndSpeedup: snasnet.totalWallMs / spikenas.totalWallMs,
    speedupsWithheld: null,
  };
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
  'candidates scored, first pass + full SAHD (spikenas / snasnet)',
  'search-stage speed-up',
  'end-to-end speed-up',
];

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

function accuracies(mode: ModeResult): string {
  return `${percent(mode.testAccuracy)} / ${percent(mode.testAccuracyQuantized)} %`;
}

/** What a mode scored: its first-pass count, when a first pass ran, plus its full-SAHD count. */
function scored(mode: ModeResult): string {
  return mode.prefiltered > 0
    ? `${mode.prefiltered} + ${mode.candidatesScored}`
    : String(mode.candidatesScored);
}

function seedRow(label: string, r: CompletePaperResult): string {
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
    `${scored(s)} / ${scored(b)}`,
    times(r.searchStageSpeedup),
    times(r.endToEndSpeedup),
  ]);
}

function meanRow(label: string, runs: CompletePaperResult[]): string {
  const of = (pick: (r: CompletePaperResult) => number) => runs.map(pick);
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
  const budget = (runs[0] as CompletePaperResult).budgetBytes.toLocaleString('en-US');
  const scoredSpread = (mode: SearchMode) => {
    const full = spread(
      of((r) => r.modes[mode].candidatesScored),
      int,
    );
    const firstPass = of((r) => r.modes[mode].prefiltered);
    return firstPass.some((n) => n > 0) ? `${spread(firstPass, int)} + ${full}` : full;
  };
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
    `${scoredSpread('spikenas')} / ${scoredSpread('snasnet')}`,
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

/** A complete record's stage wall times, mode by mode, in the order the stages ran. */
function stagesLine(label: string, r: CompletePaperResult): string {
  const stages = (m: ModeResult) =>
    Object.entries(m.stageWallMs)
      .map(([stage, ms]) => `${stage.replaceAll('-', ' ')} ${formatDuration(ms)}`)
      .join(', ');
  const modes = MODES.map((mode) => `${mode} ${stages(r.modes[mode])}`);
  return `- ${label}, seed ${r.seed}: ${modes.join('; ')}.`;
}

/** Which first pass a mode ran and the agreement with full SAHD its study measured. */
function firstPassLine(mode: SearchMode, pass: FirstPass): string {
  const what = `- ${mode}: T = ${pass.timesteps} on ${pass.batchSize} images x ${pass.repeats}, ${pass.survivors} survivors`;
  const e = pass.evidence;
  if (!e) return `${what}; no measured agreement recorded.`;
  return (
    `${what}; on ${e.candidates} unfiltered random candidates its best ${pass.survivors} held ` +
    `${e.top20Kept} of the full-SAHD top 20, Spearman ${e.spearmanRho.toFixed(3)} (\`${e.study}\`, pass \`${e.pass}\`).`
  );
}

function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(0)} GiB`;
}

/** A record that holds one mode so far: what it holds and what it waits for. */
function waitingLine(r: PaperResult): string {
  const held = MODES.flatMap((mode) => r.modes[mode] ?? []).map(
    (m) =>
      `${m.mode} \`${m.winner}\`, ${m.weightBytes.toLocaleString('en-US')} B, ${accuracies(m)}, ` +
      `search stage ${formatDuration(m.stageWallMs['memory-aware-search'] ?? 0)}, all stages ${formatDuration(m.totalWallMs)}`,
  );
  const missing = MODES.filter((mode) => !r.modes[mode]);
  const waitingFor =
    missing.length > 0 ? `waiting for ${missing.join(' and ')}` : `no speed-ups: the ${r.speedupsWithheld}`;
  return `- ${r.budget}, seed ${r.seed} (${r.dataset}): ${held.join('; ') || 'nothing'}; ${waitingFor}.`;
}

/** The markdown the README holds between its paper-results markers. */
export function renderPaperTable(results: PaperResult[]): string {
  if (results.length === 0) return `_${NO_RUNS}._`;
  const complete = results.filter(isComplete);
  const waiting = results.filter((r) => !isComplete(r));
  const datasets = new Set(results.map((r) => r.dataset));
  const groups = new Map<string, CompletePaperResult[]>();
  const order = (a: PaperResult, b: PaperResult) =>
    a.dataset.localeCompare(b.dataset) || a.budgetBytes - b.budgetBytes || a.seed - b.seed;
  const budgetLabel = (r: PaperResult) => (datasets.size > 1 ? `${r.budget} (${r.dataset})` : r.budget);
  for (const r of [...complete].sort(order)) {
    const key = budgetLabel(r);
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const firstPasses = [
    ...new Set(
      complete.flatMap((r) =>
        MODES.flatMap((mode) => {
          const pass = r.modes[mode].firstPass;
          return pass ? [firstPassLine(mode, pass)] : [];
        }),
      ),
    ),
  ];
  const lines = [row(HEADER), row(HEADER.map(() => '---'))];
  const stageLines: string[] = [];
  for (const [label, runs] of groups) {
    for (const r of runs) lines.push(seedRow(label, r));
    if (runs.length > 1) lines.push(meanRow(label, runs));
    for (const r of runs) stageLines.push(stagesLine(label, r));
  }
  const sessions = results.flatMap((r) => (Object.values(r.modes) as ModeResult[]).map((m) => m.session));
  const dates = sessions.map((s) => s.date.slice(0, 10)).sort();
  return [
    `${[...datasets].join(', ')}, ${results[0]?.weightBits}-bit weights, ${results[0]?.shards} shards, ` +
      `${dates[0]} to ${dates.at(-1)}; accuracies are test accuracy in %; speed-ups are snasnet's wall time ` +
      "over spikenas' (search stage; all stages summed).",
    '',
    ...(complete.length > 0
      ? [
          ...lines,
          '',
          'Stage wall times, each stage its own:',
          '',
          ...stageLines,
          '',
          'First pass, and its agreement with full SAHD as measured by its study:',
          '',
          ...(firstPasses.length > 0 ? firstPasses : ['- none ran.']),
        ]
      : ['_no run holds both modes yet._']),
    ...(waiting.length > 0
      ? [
          '',
          'Not comparable yet (one mode recorded, the two on different machines, or one resumed after a stop):',
          '',
          ...waiting.sort(order).map(waitingLine),
        ]
      : []),
    '',
    machinesLine([...results].sort(order), (r) => `${budgetLabel(r)} seed ${r.seed}`),
  ].join('\n');
}

function machineText(session: ModeSession): string {
  const { machine } = session;
  return (
    `${machine.cores} cores, ${machine.arch} ${machine.cpuModel} (${machine.vectorExtensions.join(' ')}), ` +
    `${gib(machine.memoryBytes)}; backend ${session.backend}`
  );
}

/** Each machine with the records it ran, or the mode it ran of a record whose modes ran on two. */
function machinesLine(results: PaperResult[], labelOf: (r: PaperResult) => string): string {
  const runs = new Map<string, string[]>();
  for (const r of results) {
    const placed = MODES.flatMap((mode) => r.modes[mode] ?? []).map((m) => ({
      mode: m.mode,
      text: machineText(m.session),
    }));
    const split = new Set(placed.map((p) => p.text)).size > 1;
    for (const { mode, text } of placed) {
      const label = split ? `${labelOf(r)} ${mode}` : labelOf(r);
      const labels = runs.get(text) ?? [];
      if (!labels.includes(label)) labels.push(label);
      runs.set(text, labels);
    }
  }
  if (runs.size === 1) return `Machine: ${[...runs.keys()][0]}.`;
  return `Machines: ${[...runs].map(([text, labels]) => `${text} (${labels.join(', ')})`).join('; ')}.`;
}

/** The README with the text between its paper-results markers replaced. */
export function replaceBetweenMarkers(readme: string, text: string): string {
  const start = readme.indexOf(README_START);
  const end = readme.indexOf(README_END);
  if (start < 0 || end < start) throw new Error(`README has no ${README_START} … ${README_END} markers`);
  return `${readme.slice(0, start + README_START.length)}\n${text}\n${readme.slice(end)}`;
}
