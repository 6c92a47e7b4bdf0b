/**
 * Heavy steps (tfjs scoring and training) run in processes of their own, so the worker's event loop stays
 * free for heartbeats and task polling, and so each process can have the TensorFlow thread count its
 * network's thread policy (pipeline/thread-policy.ts) gives it: TensorFlow fixes that per process. A worker
 * has one slot per core (or per process of a SPIKENAS_THREAD_POLICY of the `<processes>x<threads>` form);
 * a step takes its policy's share of them, so a large network's step runs alone. A process stays up
 * between steps (its tfjs backend and dataset stay loaded) until a step of another thread count needs the
 * cores, or until the worker has had no heavy step for IDLE_MS.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Semaphore } from 'async-mutex';
import workerpool, { type Pool } from 'workerpool';
import { openPlannedRun } from './run-context.js';
import type { HeavyStepName, StepOutcome, StepProcessMethods } from './step-process.js';
import { POLICY_ENV, type StepShape, type ThreadPolicy, threadPolicy } from './thread-policy.js';
import type { RunRef, StepProgress } from './types.js';

const ENTRY = fileURLToPath(new URL('./step-process.js', import.meta.url));

/** Heavy steps a worker runs at once at most: what its activity slots on the heavy queue are sized by. */
export function heavySlots(env: NodeJS.ProcessEnv = process.env): number {
  const override = /^([1-9]\d*)x[1-9]\d*$/.exec(env[POLICY_ENV] ?? '');
  return override === null ? availableParallelism() : Number(override[1]);
}

const slots = new Semaphore(heavySlots());
/** One pool per TensorFlow thread count. */
const pools = new Map<number, Pool>();
/** A process holds a tfjs backend and a decoded dataset (gigabytes for CIFAR): kept this long unused. */
const IDLE_MS = 10 * 60_000;
let idleTimer: NodeJS.Timeout | undefined;

/** Ends the idle pools but the one of `keep` threads. */
function endIdlePools(keep?: number): void {
  for (const [threads, pool] of pools) {
    if (threads !== keep && pool.stats().activeTasks === 0) {
      pool.terminate().catch(() => undefined);
      pools.delete(threads);
    }
  }
}

function poolFor(intraOpThreads: number): Pool {
  // An idle pool of another thread count only holds memory now.
  endIdlePools(intraOpThreads);
  let pool = pools.get(intraOpThreads);
  if (pool === undefined) {
    pool = workerpool.pool(ENTRY, {
      workerType: 'process',
      maxWorkers: heavySlots(),
      forkOpts: {
        env: {
          ...process.env,
          TF_NUM_INTRAOP_THREADS: String(intraOpThreads),
          // tfjs-node runs ops eagerly in the calling thread; the inter-op pool only adds idle threads.
          TF_NUM_INTEROP_THREADS: '1',
        },
      },
    });
    pools.set(intraOpThreads, pool);
  }
  return pool;
}

/** The thread policy of a step of a run's network on this worker, from the plan its first step wrote. */
export async function stepThreadPolicy(run: RunRef, shape: StepShape): Promise<ThreadPolicy> {
  const { plan } = await openPlannedRun(run, {});
  return threadPolicy(plan.config, shape);
}

/**
 * Runs a heavy step in a process with `policy`'s threads, once the worker has the policy's share of its
 * slots free. Progress comes back as process messages; an abort kills the process (the step's checkpoints
 * make that safe).
 */
export async function runHeavyStep<T>(
  step: HeavyStepName,
  input: unknown,
  policy: ThreadPolicy,
  onProgress: (progress: StepProgress) => void,
  signal?: AbortSignal,
): Promise<T> {
  const weight = Math.min(heavySlots(), Math.max(1, Math.ceil(heavySlots() / policy.processes)));
  return slots.runExclusive(async () => {
    signal?.throwIfAborted();
    const running = poolFor(policy.intraOpThreads).exec<StepProcessMethods['runStep']>(
      'runStep',
      [step, input, policy],
      {
        on: (progress: StepProgress) => onProgress(progress),
      },
    );
    // cancel() rejects `running` (awaited below) and kills its process; it can also throw here, from
    // workerpool's own handlers, where nothing would catch it.
    const abort = () => {
      try {
        running.cancel();
      } catch {}
    };
    signal?.addEventListener('abort', abort, { once: true });
    try {
      const outcome: StepOutcome = await running;
      if (outcome.ok) return outcome.value as T;
      const error = new Error(outcome.error.message);
      error.name = outcome.error.name;
      if (outcome.error.stack !== undefined) error.stack = outcome.error.stack;
      throw error;
    } finally {
      signal?.removeEventListener('abort', abort);
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => endIdlePools(), IDLE_MS).unref();
    }
  }, weight);
}

export async function closeStepProcesses(): Promise<void> {
  clearTimeout(idleTimer);
  await Promise.all([...pools.values()].map((pool) => pool.terminate(true)));
  pools.clear();
}
