/**
 * Sends a heavy activity's progress inside its stage to its workflow, as the workflow's `stageWork` signal,
 * so the workflow's `progress` query (and every CLI that reads it) shows training steps and candidates as
 * they happen. Heartbeat details would not do: the workflow cannot read them, and the SDK holds them back
 * for up to 80 % of the heartbeat timeout.
 */
import type { StageWork } from '../contract/progress.js';

/**
 * How often an activity signals: every signal is a workflow task and a few history events, and a workflow
 * whose history passes Temporal's 51,200 events is terminated. A fixed 2 s gave a one-hour training 1,800
 * signals (a paper run's history reached 11,067 events) and would end a day-long GPU training's workflow.
 * So the gap grows with the activity's age: 2 s at first, then 0.5 % of the time it has run (18 s after an
 * hour), which is about 640 signals in the first hour and 1,300 in a day.
 */
export const SIGNAL_MIN_INTERVAL_MS = 2_000;
export const SIGNAL_INTERVAL_FRACTION = 0.005;

export function signalIntervalMs(activityAgeMs: number): number {
  return Math.max(SIGNAL_MIN_INTERVAL_MS, activityAgeMs * SIGNAL_INTERVAL_FRACTION);
}

export class ProgressSignaller {
  private latest: StageWork | null = null;
  private timer: NodeJS.Timeout | null = null;
  private sending = false;
  private closed = false;
  private readonly startedAt = Date.now();

  constructor(
    private readonly send: (work: StageWork) => Promise<void>,
    private readonly intervalMs: (ageMs: number) => number = signalIntervalMs,
  ) {}

  /** Keeps the newest report; the first goes out at once, later ones at the interval. */
  push(work: StageWork): void {
    if (this.closed) return;
    this.latest = work;
    if (this.timer === null && !this.sending) this.flush();
  }

  /** Drops what is unsent: the workflow records the stage's end itself. */
  close(): void {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private flush(): void {
    const work = this.latest;
    if (work === null || this.closed) return;
    this.latest = null;
    this.sending = true;
    this.send(work)
      // A progress report that does not arrive is not worth failing the stage for (the workflow may have
      // been cancelled, or the server be restarting); the next one carries the newer count anyway.
      .catch(() => undefined)
      .finally(() => {
        this.sending = false;
        if (this.closed) return;
        this.timer = setTimeout(
          () => {
            this.timer = null;
            this.flush();
          },
          this.intervalMs(Date.now() - this.startedAt),
        );
      });
  }
}
