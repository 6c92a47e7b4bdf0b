/** What the CLI shows a person: a progress bar per stage and a summary table. */
import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import { formatSize } from '../common/size.js';
import type { SearchSummary } from '../workflows/types.js';

export class StageBars {
  private readonly bars: MultiBar | null;
  private current: SingleBar | null = null;
  private name = '';

  constructor(enabled: boolean) {
    this.bars = enabled
      ? new MultiBar(
          {
            format: ' {stage} |{bar}| {percentage}% {value}/{total} {eta_formatted}',
            hideCursor: true,
            clearOnComplete: false,
          },
          Presets.shades_classic,
        )
      : null;
  }

  stage(name: string): void {
    if (!this.bars || name === this.name) return;
    this.current?.stop();
    this.name = name;
    this.current = this.bars.create(1, 0, { stage: name.padEnd(20) });
  }

  update(done: number, total: number): void {
    this.current?.setTotal(Math.max(total, 1));
    this.current?.update(done);
  }

  log(message: string): void {
    if (this.bars) this.bars.log(`${message}\n`);
    else console.error(message);
  }

  stop(): void {
    this.bars?.stop();
  }
}

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
      'weight memory',
      `${formatSize(summary.weightBytes)} at ${summary.weightBits} bits, budget ${budget}${fits}`,
    ],
    ['state memory', formatSize(summary.stateBytes)],
    ['SAHD score', summary.sahdScore.toFixed(3)],
    ['accuracy', `${pct(summary.accuracy)} (before quantization ${pct(summary.accuracyBeforeQuantization)})`],
    [
      'candidates',
      Object.entries(summary.counters)
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
    ],
    ...Object.entries(summary.stageWallMs).map(([stage, ms]): [string, string] => [
      `  ${stage}`,
      `${((ms ?? 0) / 1000).toFixed(1)} s`,
    ]),
    ['report', summary.artifacts.report],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [key, value] of rows) console.log(`${key.padEnd(width)}  ${value}`);
}

function pct(fraction: number): string {
  return `${(fraction * 100).toFixed(2)} %`;
}
