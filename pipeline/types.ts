/** Names a run's artifacts: the store URI and the run's folder (the workflow ID). */
export interface RunRef {
  artifacts: string;
  runId: string;
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
  signal?: AbortSignal;
  warn?: (message: string) => void;
}
