/**
 * Runs a whole search in this process, without Temporal: the same steps as the workflow, in the same
 * order, scoring as one shard and training the impact shards one after another. For a laptop, a notebook
 * or a CI job that needs no durability.
 */
import { randomUUID } from 'node:crypto';
import { ProgressTracker, type SearchProgress } from '../contract/progress.js';
import type { SearchRequest } from '../contract/request.js';
import { type StageName, stagesOf } from '../contract/stages.js';
import type { SearchSummary } from '../contract/summary.js';
import * as steps from './steps.js';

export interface LocalRunOptions {
  runId?: string;
  /** The same progress the workflow's `progress` query gives, after every change. */
  onProgress?: (progress: SearchProgress) => void;
  signal?: AbortSignal;
  warn?: (message: string) => void;
}

export async function runSearchLocally(
  request: SearchRequest,
  options: LocalRunOptions = {},
): Promise<SearchSummary> {
  const run = {
    artifacts: request.artifacts,
    runId: options.runId ?? `local-${randomUUID().slice(0, 8)}`,
    // A call that continues an earlier run's folder (options.runId) is a new execution of it.
    execution: randomUUID(),
  };
  const tracker = new ProgressTracker(request.mode);
  const changed = () => options.onProgress?.(tracker.progress);
  const context = (stage: StageName, part = 'all'): steps.StepContext => ({
    onProgress: (progress) => {
      tracker.report({ stage, part, ...progress });
      changed();
    },
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.warn ? { warn: options.warn } : {}),
  });
  const stage = async <T>(name: StageName, work: () => Promise<T>): Promise<T> => {
    tracker.begin(name);
    changed();
    const result = await work();
    tracker.finish(name);
    changed();
    return result;
  };

  let summary: SearchSummary | undefined;
  const runners: Record<StageName, () => Promise<unknown>> = {
    'prepare-dataset': () => steps.prepareRun({ run, request }, context('prepare-dataset')),
    'operation-impact': async () => {
      const impact = 'operation-impact';
      const planned = await steps.planImpact({ run }, context(impact));
      if (planned.reused) return;
      let round = 0;
      let trainings = planned.trainings;
      for (;;) {
        // The workflow's shards, one after another: this process's backend already computes on every core.
        const shardCount = Math.max(1, Math.min(request.shards, trainings));
        for (let shard = 0; shard < shardCount; shard++) {
          const part = `impact-r${round}-${shard}`;
          await steps.trainImpactShard({ run, round, shard, shardCount }, context(impact, part));
        }
        const { nextRound } = await steps.summariseImpact({ run, round, shardCount }, context(impact));
        if (!nextRound) return;
        ({ round, trainings } = nextRound);
      }
    },
    'cell-enhancement': () => steps.enhanceCell({ run }, context('cell-enhancement')),
    'memory-aware-search': async () => {
      const search = 'memory-aware-search';
      const generated = await steps.generateCandidates({ run }, context(search));
      Object.assign(tracker.progress.counters, generated.counters);
      const whole = { shard: 0, shardCount: 1 };
      let fullCount = generated.candidates;
      if (generated.firstPass) {
        tracker.beginPass('first', generated.candidates, true);
        await steps.scoreShard({ run, pass: 'first', ...whole }, context(search, 'first-0'));
        fullCount = (await steps.selectSurvivors({ run, shardCount: 1 }, context(search))).count;
      }
      tracker.beginPass('full', fullCount, generated.firstPass);
      await steps.scoreShard({ run, pass: 'full', ...whole }, context(search, 'full-0'));
      const winner = await steps.selectWinner({ run, shardCount: 1 }, context(search));
      Object.assign(tracker.progress.counters, winner.counters);
    },
    'train-winner': () => steps.trainWinner({ run }, context('train-winner')),
    'quantize-evaluate': () => steps.quantizeEvaluate({ run }, context('quantize-evaluate')),
    publish: async () => {
      summary = await steps.publish({ run }, context('publish'));
    },
  };
  // The workflow runs the same stages, in the same order, from the same plan.
  for (const name of stagesOf(request.mode)) await stage(name, runners[name]);
  if (summary === undefined) throw new Error('the search published no summary');
  tracker.end('done');
  changed();
  return summary;
}
