/**
 * Sends a heavy activity's progress inside its stage to its workflow, as the workflow's `stageWork` signal,
 * so the workflow's `progress` query (and every CLI that reads it) shows training steps and candidates as
 * they happen. Heartbeat details would not do: the workflow cannot read them, and the SDK holds them back
 * for up to 80 % of the heartbeat timeout.
 */
import type { StageWork } from '../workflows/types.js';

/** At most one signal per this many ms per activity: each signal is a workflow task and a history event. */
export const SIGNAL_INTERVAL_MS = 2_000;

export class ProgressSignaller {
  private latest: StageWork | null = null;
  private timer: NodeJS.Timeout | null = null;
  private sending = false;
  private closed = false;

  constructor(
    private readonly send: (work: StageWork) => Promise<void>,
    private readonly intervalMs = SIGNAL_INTERVAL_MS,
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
        this.timer = setTimeout(() => {
          this.timer = null;
          this.flush();
        }, this.intervalMs);
      });
  }
}
