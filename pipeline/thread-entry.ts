/** The worker-thread side of runInThread: runs one heavy step and reports progress over the given port. */
import type { MessagePort } from 'node:worker_threads';
import * as steps from './steps.js';

export type HeavyStepName = 'analyzeImpact' | 'scoreShard' | 'trainWinner' | 'quantizeEvaluate';

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
    // biome-ignore lint/suspicious/noExplicitAny: the step's input type is checked where the activity calls it
    const value = await (steps[task.step] as (input: any, ctx: steps.StepContext) => Promise<unknown>)(task.input, {
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
