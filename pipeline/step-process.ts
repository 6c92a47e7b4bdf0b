/**
 * A heavy-step process (pipeline/step-processes.ts forks it): runs heavy steps one at a time and emits
 * their progress to the worker that forked it. It exits when that worker's IPC channel closes, so a killed
 * worker leaves no step behind.
 */
import workerpool from 'workerpool';
import { quantizeEvaluate, type StepContext, scoreShard, trainImpactShard, trainWinner } from './steps.js';
import type { ThreadPolicy } from './thread-policy.js';
import type { StepProgress } from './types.js';

/** The steps that run tfjs work, and so run in heavy-step processes. */
const HEAVY_STEPS = { trainImpactShard, scoreShard, trainWinner, quantizeEvaluate };
export type HeavyStepName = keyof typeof HEAVY_STEPS;

/** What a step's process sends back: an error keeps its name, so non-retryable kinds stay non-retryable. */
export type StepOutcome =
  | { ok: true; value: unknown }
  | { ok: false; error: { name: string; message: string; stack?: string } };

async function runStep(
  name: HeavyStepName,
  input: unknown,
  threadPolicy: ThreadPolicy,
): Promise<StepOutcome> {
  try {
    // The input's type was checked where the activity named this step.
    const step = HEAVY_STEPS[name] as (input: unknown, ctx: StepContext) => Promise<unknown>;
    const value = await step(input, {
      // Not after the worker is gone (killed, or it cancelled this step): the process is about to exit.
      onProgress: (progress: StepProgress) => {
        if (process.connected) workerpool.workerEmit(progress);
      },
      warn: (message) => console.warn(message),
      threadPolicy,
    });
    return { ok: true, value };
  } catch (error) {
    const e = error as Error;
    return { ok: false, error: { name: e.name, message: e.message, ...(e.stack ? { stack: e.stack } : {}) } };
  }
}

export type StepProcessMethods = { runStep: typeof runStep };

workerpool.worker({ runStep } satisfies StepProcessMethods);
