/**
 * How a running search's progress reaches a person. On a terminal: one bar for the whole search, with the
 * stage, its count (training steps, candidates) and a time estimate only when there is a sane one. Without
 * a terminal (CI logs, pipes): a plain line at a steady interval and at every stage change, so a log is
 * never silent for long and never holds bar templates.
 */
import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import type { SearchProgress } from '../contract/progress.js';
import { formatTimeLeft, StageEta } from './eta.js';

/**
 * Without a terminal, a progress line this often. SPIKENAS_PROGRESS_SECONDS overrides it; 0 prints a line
 * at every change instead (a complete record of the counts, for logs that keep everything).
 */
export const PLAIN_INTERVAL_MS = 10_000;

export interface ProgressViewOptions {
  /** Draw a bar (stderr is a terminal) or print plain lines. */
  tty: boolean;
  intervalMs?: number;
  /** Where plain lines and messages go; default stderr. */
  write?: (line: string) => void;
}

export class ProgressView {
  private readonly bars: MultiBar | null;
  private bar: SingleBar | null = null;
  private readonly eta = new StageEta();
  private readonly write: (line: string) => void;
  private readonly timer: NodeJS.Timeout | null;
  private latest: SearchProgress | null = null;
  private printedStage = '';
  private printed = '';
  private readonly everyChange: boolean;

  constructor(options: ProgressViewOptions) {
    this.write = options.write ?? ((line) => process.stderr.write(`${line}\n`));
    this.bars = options.tty
      ? new MultiBar(
          { format: ' {bar} {percentage}% | {detail}', hideCursor: true, clearOnComplete: false },
          Presets.shades_classic,
        )
      : null;
    const interval = options.intervalMs ?? progressIntervalMs();
    this.everyChange = !options.tty && interval === 0;
    this.timer = options.tty || this.everyChange ? null : setInterval(() => this.printLine(), interval);
    // The view never keeps a finished command alive.
    this.timer?.unref();
  }

  update(progress: SearchProgress): void {
    this.latest = progress;
    const detail = this.describe(progress);
    if (this.bars) {
      this.bar ??= this.bars.create(100, 0, { detail });
      this.bar.update(progress.percent, { detail });
    } else if (progress.stage !== this.printedStage || (this.everyChange && this.line() !== this.printed)) {
      this.printLine();
    }
  }

  log(message: string): void {
    if (this.bars) this.bars.log(`${message}\n`);
    else this.write(message);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.bars?.stop();
  }

  private printLine(): void {
    if (!this.latest) return;
    this.printedStage = this.latest.stage;
    this.printed = this.line();
    this.write(this.printed);
  }

  private line(): string {
    const latest = this.latest as SearchProgress;
    return `spikenas: ${latest.percent}% ${this.describe(latest)}`;
  }

  /** 'memory-aware-search: 40/150 first-pass candidates, about 1m 20s left in this stage'. */
  private describe(progress: SearchProgress): string {
    const current = progress.current;
    if (current === null) {
      this.eta.observe(progress.stage, null, Date.now());
      return progress.stage;
    }
    const fraction = current.total > 0 ? current.done / current.total : null;
    const left = this.eta.observe(`${progress.stage}|${current.unit}`, fraction, Date.now());
    const count = current.total > 0 ? `${current.done}/${current.total}` : String(current.done);
    const eta = left === null ? '' : `, about ${formatTimeLeft(left)} left in this stage`;
    return `${progress.stage}: ${count} ${current.unit}${eta}`;
  }
}

function progressIntervalMs(): number {
  const setting = process.env.SPIKENAS_PROGRESS_SECONDS;
  const seconds = Number(setting);
  return setting !== undefined && setting !== '' && seconds >= 0 ? seconds * 1000 : PLAIN_INTERVAL_MS;
}
