/**
 * Activities: thin adapters from Temporal to the pipeline steps. Heavy steps run in heavy-step processes and
 * heartbeat their progress; light steps run inline. Inputs and outputs are artifact references and small
 * summaries only.
 */
import { Context } from '@temporalio/activity';
import type { StageWork } from '../contract/progress.js';
import { STAGE_WORK_SIGNAL } from '../contract/temporal.js';
import type { HeavyStepName } from '../pipeline/step-process.js';
import { runHeavyStep, stepThreadPolicy } from '../pipeline/step-processes.js';
import * as steps from '../pipeline/steps.js';
import { describeThreadPolicy } from '../pipeline/thread-policy.js';
import type { StepContext, StepProgress } from '../pipeline/types.js';
import { ProgressSignaller } from './progress.js';

export { notifySlack } from './notify.js';

function lightContext(): StepContext {
  const context = Context.current();
  return { signal: context.cancellationSignal, warn: (message) => context.log.warn(message) };
}

type Output<K extends HeavyStepName> = Awaited<ReturnType<(typeof steps)[K]>>;

/** The workflow stage each heavy step belongs to, and which part of it one call is. */
function stageOf(step: HeavyStepName, input: unknown): Pick<StageWork, 'stage' | 'part'> {
  switch (step) {
    case 'trainImpactShard': {
      const { round, shard } = input as steps.ImpactShardInput;
      return { stage: 'operation-impact', part: `impact-r${round}-${shard}` };
    }
    case 'scoreShard': {
      const { pass, shard } = input as steps.ScoreShardInput;
      return { stage: 'memory-aware-search', part: `${pass}-${shard}` };
    }
    case 'trainWinner':
      return { stage: 'train-winner', part: 'all' };
    case 'quantizeEvaluate':
      return { stage: 'quantize-evaluate', part: 'all' };
  }
}

async function heavy<K extends HeavyStepName>(
  step: K,
  input: Parameters<(typeof steps)[K]>[0],
): Promise<Output<K>> {
  const context = Context.current();
  const execution = context.info.workflowExecution;
  const where = stageOf(step, input);
  // Only an activity started by a workflow has one to report to.
  const signaller = execution
    ? new ProgressSignaller((work) =>
        context.client.workflow
          .getHandle(execution.workflowId, execution.runId)
          .signal(STAGE_WORK_SIGNAL, work),
      )
    : null;
  let last: StepProgress | undefined;
  // Heartbeat on a clock too: a process may be quiet for a while (backend start, a long epoch), and a
  // heartbeat is also how this activity learns that it was cancelled.
  const beat = setInterval(() => context.heartbeat(last), 5_000);
  try {
    const shape = step === 'trainImpactShard' || step === 'scoreShard' ? 'sharded' : 'alone';
    const policy = await stepThreadPolicy(input.run, shape);
    console.error(
      `spikenas worker: ${step} (${where.part}) of ${input.run.runId}: ${describeThreadPolicy(policy)}`,
    );
    return await runHeavyStep<Output<K>>(
      step,
      input,
      policy,
      (progress) => {
        last = progress;
        context.heartbeat(progress);
        signaller?.push({ ...where, ...progress });
      },
      context.cancellationSignal,
    );
  } finally {
    clearInterval(beat);
    signaller?.close();
  }
}

export const prepareRun = (input: steps.PrepareInput) => steps.prepareRun(input, lightContext());
export const planImpact = (input: steps.RunInput) => steps.planImpact(input, lightContext());
export const summariseImpact = (input: steps.ImpactRoundInput) =>
  steps.summariseImpact(input, lightContext());
export const enhanceCell = (input: steps.RunInput) => steps.enhanceCell(input, lightContext());
export const generateCandidates = (input: steps.RunInput) => steps.generateCandidates(input, lightContext());
export const selectSurvivors = (input: steps.ShardsInput) => steps.selectSurvivors(input, lightContext());
export const selectWinner = (input: steps.ShardsInput) => steps.selectWinner(input, lightContext());
export const publish = (input: steps.RunInput) => steps.publish(input, lightContext());
export const recordOutcome = (input: steps.OutcomeInput) => steps.recordOutcome(input, lightContext());

export const trainImpactShard = (input: steps.ImpactShardInput) => heavy('trainImpactShard', input);
export const scoreShard = (input: steps.ScoreShardInput) => heavy('scoreShard', input);
export const trainWinner = (input: steps.RunInput) => heavy('trainWinner', input);
export const quantizeEvaluate = (input: steps.RunInput) => heavy('quantizeEvaluate', input);
