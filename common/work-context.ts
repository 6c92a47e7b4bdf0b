/**
 * What long, resumable work takes besides its input (an impact training, candidate scoring, a winner's
 * training): the seed, a progress callback (which also hands out the resume point to persist), an optional
 * resume point from an earlier, interrupted call, and an abort signal.
 */
export interface WorkContext<Resume> {
  seed: number;
  onProgress?: (progress: WorkProgress<Resume>) => void | Promise<void>;
  /** Finer progress between resume points (e.g. every training step), for display only. */
  onStep?: (progress: { done: number; total: number; counters?: Record<string, number> }) => void;
  resume?: Resume;
  signal?: AbortSignal;
}

export interface WorkProgress<Resume> {
  done: number;
  total: number;
  counters?: Record<string, number>;
  /** What a later call needs to continue from here (JSON-serialisable, small). */
  resume: Resume;
}
