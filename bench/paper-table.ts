/**
 * The README table made from every paper-profile record (paper-results.ts): rows per seed, a mean ±
 * standard deviation row per budget across seeds, each stage's wall time, the first passes and their
 * evidence, and the machines and backends the figures come from. Until a record holds both modes (on one
 * machine, without a stop), the table lists it as waiting.
 */
import { formatDuration } from '../common/duration.js';
import { MODES } from '../config/request.js';
import type { SearchMode } from '../contract/request.js';
import type { FirstPass } from '../search/strategy/profiles.js';
import {
  type CompletePaperResult,
  isComplete,
  type ModeResult,
  type ModeSession,
  type PaperResult,
} from './paper-results.js';

export const README_START = '<!-- paper-results:start -->';
export const README_END = '<!-- paper-results:end -->';
export const NO_RUNS = 'no paper runs recorded yet';

const percent = (fraction: number) => (fraction * 100).toFixed(2);
const times = (ratio: number) => `${ratio.toFixed(1)}x`;
const laterNight = (r: PaperResult) =>
  r.laterNightSearchTimeSpeedup === null || r.laterNightEndToEndSpeedup === null
    ? 'not run'
    : `${times(r.laterNightSearchTimeSpeedup)} / ${times(r.laterNightEndToEndSpeedup)}`;

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
  'search-time speed-up (impact included)',
  'end-to-end speed-up',
  'later night: search-time / end-to-end speed-up',
];

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

/** 32-bit / stored accuracy; for quantization-aware training, also what post-training quantization scored. */
function accuracies(mode: ModeResult): string {
  const both = `${percent(mode.testAccuracy)} / ${percent(mode.testAccuracyQuantized)} %`;
  const q = mode.quantization;
  return q?.method === 'quantization-aware' ? `${both} QAT (PTQ ${percent(q.postTrainingAccuracy)} %)` : both;
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
    `\`${b.winner}\` (${b.weightBits}-bit)`,
    accuracies(b),
    `${scored(s)} / ${scored(b)}`,
    times(r.searchStageSpeedup),
    times(r.searchTimeSpeedup),
    times(r.endToEndSpeedup),
    laterNight(r),
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
      of((r) => r.searchTimeSpeedup),
      ratio,
    )}x`,
    `${spread(
      of((r) => r.endToEndSpeedup),
      ratio,
    )}x`,
    laterNights(runs),
  ]);
}

/** The later nights' speed-ups across seeds, when every seed has them. */
function laterNights(runs: CompletePaperResult[]): string {
  const search = runs.map((r) => r.laterNightSearchTimeSpeedup);
  const endToEnd = runs.map((r) => r.laterNightEndToEndSpeedup);
  const all = (values: (number | null)[]): values is number[] => values.every((v) => v !== null);
  if (!all(search) || !all(endToEnd)) return 'not run';
  const ratio = (value: number) => value.toFixed(1);
  return `${spread(search, ratio)}x / ${spread(endToEnd, ratio)}x`;
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
      `search stage ${formatDuration(m.stageWallMs['memory-aware-search'] ?? 0)}, all stages ${formatDuration(m.endToEndMs)}`,
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
    `${[...datasets].join(', ')}, weights searched at ${widthSets(results)} bits, ${results[0]?.shards} shards, ` +
      `${dates[0]} to ${dates.at(-1)}; accuracies are test accuracy in %; speed-ups are snasnet's wall time ` +
      "over spikenas' (the search stage; search time, every stage before the winner's training, impact " +
      'included; all stages summed; and on a later night on unchanged data, which reuses impact and an ' +
      'unchanged winner).',
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

/** The records' searched widths, e.g. '8' or '8 and 8/6/4' when records before and after 6 and 4 bits mix. */
function widthSets(results: readonly PaperResult[]): string {
  return [...new Set(results.map((r) => r.weightBits.join('/')))].join(' and ');
}
