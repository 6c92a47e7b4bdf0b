/** The worker-thread side of runInThread: runs one heavy step and reports progress over the given port. */
import type { MessagePort } from 'node:worker_threads';
import { quantizeEvaluate, type StepContext, scoreShard, trainImpactShard, trainWinner } from './steps.js';

/** The steps that run tfjs work, and so run in worker threads. */
const HEAVY_STEPS = { trainImpactShard, scoreShard, trainWinner, quantizeEvaluate };
export type HeavyStepName = keyof typeof HEAVY_STEPS;

export interface ThreadTask {
  step: HeavyStepName;
  input: unknown;
  progress: MessagePort;
}

export type ThreadOutcome =
  | { ok: true; value: unknown }
  | { ok: false; error: { name: string; message: string; stack?: string } };

export default async function runTask(task: ThreadTask): Promise<ThreadOutcome> {
  try {
    // The input's type was checked where the activity called runInThread with this step's name.
    const step = HEAVY_STEPS[task.step] as (input: unknown, ctx: StepContext) => Promise<unknown>;
    const value = await step(task.input, {
      onProgress: (progress) => task.progress.postMessage(progress),
      warn: (message) => console.warn(message),
    });
    return { ok: true, value };
  } catch (error) {
    const e = error as Error;
    return { ok: false, error: { name: e.name, message: e.message, ...(e.stack ? { stack: e.stack } : {}) } };
  } finally {
    task.progress.close();
  }
}
