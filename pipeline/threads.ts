/**
 * Heavy steps (tfjs scoring and training) run in worker threads, so the worker's event loop stays free for
 * heartbeats and task polling. Each thread keeps its own tfjs backend and dataset cache. On the native
 * TensorFlow backend one thread already computes on every core (and a second would double the memory of
 * the largest passes); on single-threaded wasm there is one thread per core.
 */
import { availableParallelism } from 'node:os';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { nativeBindingBuilt } from '../snn/backend.js';
import type { HeavyStepName, ThreadOutcome, ThreadTask } from './thread-entry.js';
import type { StepProgress } from './types.js';

let pool: Piscina<ThreadTask, ThreadOutcome> | undefined;

export function heavyThreadCount(): number {
  const configured = Number(process.env.SPIKENAS_THREADS);
  if (Number.isInteger(configured) && configured > 0) return configured;
  const backend = process.env.SPIKENAS_BACKEND;
  const native =
    backend === 'tensorflow' || ((backend === undefined || backend === '') && nativeBindingBuilt());
  return native ? 1 : availableParallelism();
}

function threadPool(): Piscina<ThreadTask, ThreadOutcome> {
  pool ??= new Piscina<ThreadTask, ThreadOutcome>({
    filename: new URL('./thread-entry.js', import.meta.url).href,
    minThreads: 0,
    maxThreads: heavyThreadCount(),
    // A thread holds a tfjs backend and a decoded dataset: keep it warm between activities.
    idleTimeout: 10 * 60_000,
  });
  return pool;
}

/**
 * Runs a heavy step in a thread. Progress comes back over a message port; an abort terminates the thread
 * (the step's checkpoints make that safe). Errors keep their name, so non-retryable kinds stay non-retryable.
 */
export async function runInThread<T>(
  step: HeavyStepName,
  input: unknown,
  onProgress: (progress: StepProgress) => void,
  signal?: AbortSignal,
): Promise<T> {
  const { port1, port2 } = new MessageChannel();
  port1.on('message', (progress: StepProgress) => onProgress(progress));
  try {
    const outcome = await threadPool().run(
      { step, input, progress: port2 },
      { transferList: [port2], signal: signal ?? null },
    );
    if (outcome.ok) return outcome.value as T;
    const error = new Error(outcome.error.message);
    error.name = outcome.error.name;
    error.stack = outcome.error.stack;
    throw error;
  } finally {
    port1.close();
  }
}

export async function closeThreads(): Promise<void> {
  await pool?.destroy();
  pool = undefined;
}
