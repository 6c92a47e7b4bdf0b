/**
 * Runs a whole search in this process, without Temporal: the same steps as the workflow, in the same
 * order, with one shard. For a laptop, a notebook or a CI job that needs no durability.
 */
import { randomUUID } from 'node:crypto';
import type { SearchRequest, SearchSummary, StageName } from '../workflows/types.js';
import * as steps from './steps.js';
import type { StepProgress } from './types.js';

export interface LocalRunOptions {
  runId?: string;
  onStage?: (stage: StageName) => void;
  onProgress?: (stage: StageName, progress: StepProgress) => void;
  signal?: AbortSignal;
  warn?: (message: string) => void;
}

export async function runSearchLocally(
  request: SearchRequest,
  options: LocalRunOptions = {},
): Promise<SearchSummary> {
  const run = { artifacts: request.artifacts, runId: options.runId ?? `local-${randomUUID().slice(0, 8)}` };
  const context = (stage: StageName): steps.StepContext => {
    options.onStage?.(stage);
    return {
      onProgress: (progress) => options.onProgress?.(stage, progress),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.warn ? { warn: options.warn } : {}),
    };
  };
  await steps.prepareRun({ run, request }, context('prepare-dataset'));
  if (request.mode === 'spikenas') {
    await steps.analyzeImpact({ run }, context('operation-impact'));
    await steps.enhanceCell({ run }, context('cell-enhancement'));
  }
  const searchContext = context('memory-aware-search');
  const generated = await steps.generateCandidates({ run }, searchContext);
  const whole = { shard: 0, shardCount: 1 };
  if (generated.firstPass) {
    await steps.scoreShard({ run, pass: 'first', ...whole }, searchContext);
    await steps.selectSurvivors({ run, shardCount: 1 }, searchContext);
  }
  await steps.scoreShard({ run, pass: 'full', ...whole }, searchContext);
  await steps.selectWinner({ run, shardCount: 1 }, searchContext);
  await steps.trainWinner({ run }, context('train-winner'));
  await steps.quantizeEvaluate({ run }, context('quantize-evaluate'));
  return steps.publish({ run }, context('publish'));
}
