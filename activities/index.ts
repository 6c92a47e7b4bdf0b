/**
 * Activities: thin adapters from Temporal to the pipeline steps. Heavy steps run in worker threads and
 * heartbeat their progress; light steps run inline. Inputs and outputs are artifact references and small
 * summaries only.
 */
import { Context } from '@temporalio/activity';
import * as steps from '../pipeline/steps.js';
import type { HeavyStepName } from '../pipeline/thread-entry.js';
import { runInThread } from '../pipeline/threads.js';
import type { StepContext, StepProgress } from '../pipeline/types.js';

export { notifySlack } from './notify.js';

function lightContext(): StepContext {
  const context = Context.current();
  return { signal: context.cancellationSignal, warn: (message) => context.log.warn(message) };
}

type Output<K extends HeavyStepName> = Awaited<ReturnType<(typeof steps)[K]>>;

async function heavy<K extends HeavyStepName>(
  step: K,
  input: Parameters<(typeof steps)[K]>[0],
): Promise<Output<K>> {
  const context = Context.current();
  let last: StepProgress | undefined;
  // Heartbeat on a clock too: a thread may be quiet for a while (backend start, a long epoch), and a
  // heartbeat is also how this activity learns that it was cancelled.
  const beat = setInterval(() => context.heartbeat(last), 5_000);
  try {
    return await runInThread<Output<K>>(
      step,
      input,
      (progress) => {
        last = progress;
        context.heartbeat(progress);
      },
      context.cancellationSignal,
    );
  } finally {
    clearInterval(beat);
  }
}

export const prepareRun = (input: steps.PrepareInput) => steps.prepareRun(input, lightContext());
export const enhanceCell = (input: steps.RunInput) => steps.enhanceCell(input, lightContext());
export const generateCandidates = (input: steps.RunInput) => steps.generateCandidates(input, lightContext());
export const selectSurvivors = (input: steps.ShardsInput) => steps.selectSurvivors(input, lightContext());
export const selectWinner = (input: steps.ShardsInput) => steps.selectWinner(input, lightContext());
export const publish = (input: steps.RunInput) => steps.publish(input, lightContext());
export const recordOutcome = (input: steps.OutcomeInput) => steps.recordOutcome(input, lightContext());

export const analyzeImpact = (input: steps.RunInput) => heavy('analyzeImpact', input);
export const scoreShard = (input: steps.ScoreShardInput) => heavy('scoreShard', input);
export const trainWinner = (input: steps.RunInput) => heavy('trainWinner', input);
export const quantizeEvaluate = (input: steps.RunInput) => heavy('quantizeEvaluate', input);
