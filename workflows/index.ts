/**
 * The search workflow: orchestration only (deterministic, no I/O). Every stage is an activity; heavy ones
 * run on the GPU task queue, light ones on the CPU queue. Only small values and artifact references
 * cross these calls.
 */
import {
  CancellationScope,
  condition,
  defineQuery,
  defineSignal,
  isCancellation,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type * as activities from '../activities/index.js';
import { innermostMessage } from '../common/errors.js';
import { ProgressTracker, type SearchProgress, type StageWork } from '../contract/progress.js';
import type { SearchRequest } from '../contract/request.js';
import { PASS_UNIT, type StageName, stagesOf } from '../contract/stages.js';
import type { SearchSummary } from '../contract/summary.js';
import {
  type QueueNames,
  RELEASE_TRAINING_SIGNAL,
  STAGE_WORK_SIGNAL,
  TASK_QUEUE_CPU_DEFAULT,
  TASK_QUEUE_GPU_DEFAULT,
} from '../contract/temporal.js';
import type { RunRef } from '../pipeline/types.js';

export const progressQuery = defineQuery<SearchProgress>('progress');
export const stageWorkSignal = defineSignal<[StageWork]>(STAGE_WORK_SIGNAL);
export const releaseTrainingSignal = defineSignal(RELEASE_TRAINING_SIGNAL);

/**
 * Errors that retrying cannot fix: bad input, a budget nothing fits, and a store that refuses access (no
 * such bucket, access denied, bad or missing credentials, wrong region). They end the search at once.
 */
const NON_RETRYABLE = ['InputError', 'InfeasibleBudgetError', 'ArtifactStoreAccessError'];

function activitiesOn(queues: QueueNames) {
  const light = proxyActivities<typeof activities>({
    taskQueue: queues.cpu,
    startToCloseTimeout: '10 minutes',
    retry: {
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: '30s',
      maximumAttempts: 5,
      nonRetryableErrorTypes: NON_RETRYABLE,
    },
  });
  const heavy = proxyActivities<typeof activities>({
    taskQueue: queues.gpu,
    startToCloseTimeout: '6 hours',
    // A killed worker is noticed within this time; the retry resumes from the last checkpoint.
    heartbeatTimeout: '20s',
    retry: {
      initialInterval: '2s',
      backoffCoefficient: 2,
      maximumInterval: '1 minute',
      maximumAttempts: 10,
      nonRetryableErrorTypes: NON_RETRYABLE,
    },
  });
  return { light, heavy };
}

export async function spikeNasSearch(
  request: SearchRequest,
  queues: QueueNames = { cpu: TASK_QUEUE_CPU_DEFAULT, gpu: TASK_QUEUE_GPU_DEFAULT },
): Promise<SearchSummary> {
  const { light, heavy } = activitiesOn(queues);
  const { workflowId, runId } = workflowInfo();
  const run: RunRef = { artifacts: request.artifacts, runId: workflowId, execution: runId };
  const tracker = new ProgressTracker(request.mode);
  const progress = tracker.progress;
  setHandler(progressQuery, () => progress);
  // Heavy activities signal how far they are inside their stage (throttled; see activities/progress.ts).
  setHandler(stageWorkSignal, (work) => tracker.report(work));
  let trainingReleased = request.holdTraining !== true;
  setHandler(releaseTrainingSignal, () => {
    trainingReleased = true;
  });

  const stage = async <T>(name: StageName, work: () => Promise<T>): Promise<T> => {
    tracker.begin(name);
    const result = await work();
    tracker.finish(name);
    return result;
  };

  // The short trainings fan out over shards as scoring does: each heavy worker trains one cell at a time.
  // They come in rounds: the sequential design decides from each round whether some subject needs more.
  const operationImpact = async () => {
    const planned = await light.planImpact({ run });
    if (planned.reused) return;
    let round = 0;
    let trainings = planned.trainings;
    for (;;) {
      const shardCount = Math.max(1, Math.min(request.shards, trainings));
      await Promise.all(
        Array.from({ length: shardCount }, (_, shard) =>
          heavy.trainImpactShard({ run, round, shard, shardCount }),
        ),
      );
      const { nextRound } = await light.summariseImpact({ run, round, shardCount });
      if (!nextRound) return;
      ({ round, trainings } = nextRound);
    }
  };

  const memoryAwareSearch = async () => {
    const generated = await light.generateCandidates({ run });
    Object.assign(progress.counters, generated.counters);
    // Fan out over shards of the candidate list; more workers on the GPU queue means more run at once.
    const scoreAll = async (pass: 'first' | 'full', total: number) => {
      const shardCount = Math.max(1, Math.min(request.shards, total));
      tracker.beginPass(pass, total, generated.firstPass);
      await Promise.all(
        Array.from({ length: shardCount }, async (_, shard) => {
          const done = await heavy.scoreShard({ run, pass, shard, shardCount });
          // The shard's final count, whether or not its last signal arrived.
          tracker.report({
            stage: 'memory-aware-search',
            part: `${pass}-${shard}`,
            unit: PASS_UNIT[pass],
            done: done.scored,
            total: done.scored,
          });
        }),
      );
      return shardCount;
    };
    let fullCount = generated.candidates;
    if (generated.firstPass) {
      const shardCount = await scoreAll('first', generated.candidates);
      fullCount = (await light.selectSurvivors({ run, shardCount })).count;
    }
    const search = await light.selectWinner({ run, shardCount: await scoreAll('full', fullCount) });
    Object.assign(progress.counters, search.counters);
  };

  let summary: SearchSummary | undefined;
  const runners: Record<StageName, () => Promise<unknown>> = {
    'prepare-dataset': () => light.prepareRun({ run, request }),
    'operation-impact': operationImpact,
    'cell-enhancement': () => light.enhanceCell({ run }),
    'memory-aware-search': memoryAwareSearch,
    'train-winner': async () => {
      if (request.holdTraining) await condition(() => trainingReleased);
      await heavy.trainWinner({ run });
    },
    'quantize-evaluate': () => heavy.quantizeEvaluate({ run }),
    publish: async () => {
      summary = await light.publish({ run });
    },
  };
  try {
    for (const name of stagesOf(request.mode)) await stage(name, runners[name]);
    tracker.end('done');
  } catch (error) {
    const cancelled = isCancellation(error);
    tracker.end(cancelled ? 'cancelled' : 'failed');
    // Record how it ended even though the workflow is being cancelled; finished stages stay in the store.
    await CancellationScope.nonCancellable(async () => {
      try {
        await light.recordOutcome({
          run,
          outcome: cancelled ? 'cancelled' : 'failed',
          message: innermostMessage(error),
        });
      } catch {
        // The store may be why the search failed: the search's own error is the one it fails with.
      } finally {
        // A store that cannot take the record (it may be why the search failed) still gets the failure told.
        await notify(light, run, request, { failure: `${progress.stage}: ${innermostMessage(error)}` });
      }
    });
    throw error;
  }
  if (summary === undefined) throw new Error('the search published no summary');
  await notify(light, run, request, { summary });
  return summary;
}

/** Tells Slack how the search ended. The search's outcome stands even when Slack refuses the message. */
async function notify(
  light: ReturnType<typeof activitiesOn>['light'],
  run: RunRef,
  request: SearchRequest,
  message: { summary: SearchSummary } | { failure: string },
): Promise<void> {
  if (!request.notify) return;
  try {
    await light.notifySlack({ run, destination: request.notify, ...message });
  } catch {
    // notifySlack has retried already; the result is in the artifact store and in the workflow.
  }
}
