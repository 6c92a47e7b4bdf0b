/**
 * A stage's wall time when its search was stopped and resumed. Each step that does a stage's work records
 * spans: which execution of the search ran it (the workflow's run ID; `spikenas resume` starts a new one),
 * when it began, and until when its work was kept (its end, or its newest checkpoint when it was stopped).
 * Checkpoints carry the spans of the attempts before them, so a resumed step still counts its earlier part.
 *
 * The stage's wall time is each execution's share summed: from the execution's first span start to its
 * last span end. So the pause between a stopped execution and the one that resumes it is not counted, nor
 * is the work lost with the stop (the resumed step does it again, and that is counted). Within one
 * execution everything counts, retries after a lost worker included: that time was the search's. A search
 * never stopped gets the stage's first start to its end, as a single clock would give.
 */

export interface Span {
  execution: string;
  from: number;
  to: number;
}

/** A stage file or checkpoint that carries the spans of the work it holds. */
export interface Clocked {
  spans: Span[];
}

/**
 * A stage file's spans. Files written before spans were recorded have none: a run started on such a version
 * still resumes, and the time of that part is not counted.
 */
export function spansOf(file: Partial<Clocked>): Span[] {
  return file.spans ?? [];
}

/** Sum over executions of the time from each one's first span start to its last span end. */
export function wallMsOf(spans: readonly Span[]): number {
  const shares = new Map<string, { from: number; to: number }>();
  for (const { execution, from, to } of spans) {
    const share = shares.get(execution);
    if (share) {
      share.from = Math.min(share.from, from);
      share.to = Math.max(share.to, to);
    } else {
      shares.set(execution, { from, to });
    }
  }
  let total = 0;
  for (const share of shares.values()) total += share.to - share.from;
  return total;
}

/** The clock of one step attempt: started when constructed, after the kept spans of earlier attempts. */
export class StepClock {
  private readonly from = Date.now();

  constructor(
    private readonly execution: string,
    private readonly earlier: readonly Span[] = [],
  ) {}

  /** Earlier attempts' spans and this attempt's up to now: what a checkpoint or a finished step records. */
  spans(): Span[] {
    return [...this.earlier, { execution: this.execution, from: this.from, to: Date.now() }];
  }
}
