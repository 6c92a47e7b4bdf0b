import type { ThreadPolicy } from './thread-policy.js';

/** Names a run's artifacts (the store URI and the run's folder, the workflow ID) and who works on them. */
export interface RunRef {
  artifacts: string;
  runId: string;
  /**
   * The execution of the search doing this work: the workflow's run ID (a resumed search is a new one), or
   * one per in-process run. Stage wall times count each execution's share (pipeline/stage-clock.ts).
   */
  execution: string;
}

/** What a long step reports while it works; activities turn it into heartbeats, the CLI into a progress bar. */
export interface StepProgress {
  /** What done and total count: 'training steps', 'first-pass candidates', 'full SAHD candidates'. */
  unit: string;
  done: number;
  total: number;
  counters?: Record<string, number>;
}

export interface StepContext {
  onProgress?: (progress: StepProgress) => void;
  /** The thread policy of the heavy-step process running the step (none in the in-process runner). */
  threadPolicy?: ThreadPolicy;
  signal?: AbortSignal;
  warn?: (message: string) => void;
}
