/**
 * What every step of a run shares: the run folder, the plan fixed when the run started (config.json), the
 * run's dataset and split, and the step context's options in the shapes the lower layers take.
 */
import { openStore } from '../artifacts/index.js';
import { RUN_FILES, RunArtifacts } from '../artifacts/run.js';
import { InputError } from '../common/errors.js';
import type { RunPlan } from '../contract/run-records.js';
import { loadDataset, splitTrainVal } from '../datasets/index.js';
import type { DataSplit, Dataset } from '../datasets/types.js';
import type { SearchProfileSpec } from '../search/strategy/profiles.js';
import type { RunRef, StepContext } from './types.js';

export interface RunInput {
  run: RunRef;
}

export interface Timed {
  wallMs: number;
}

export const TRAINING_STEPS = 'training steps';

export async function openRun(ref: RunRef, ctx: StepContext): Promise<RunArtifacts> {
  return new RunArtifacts(await openStore(ref.artifacts), ref.runId, warnOption(ctx));
}

export async function openPlannedRun(
  ref: RunRef,
  ctx: StepContext,
): Promise<{ run: RunArtifacts; plan: RunPlan }> {
  const run = await openRun(ref, ctx);
  return { run, plan: await run.getJson<RunPlan>(RUN_FILES.config) };
}

export function warnOption(ctx: StepContext): { warn?: (message: string) => void } {
  return ctx.warn ? { warn: ctx.warn } : {};
}

export function signalOption(ctx: StepContext): { signal?: AbortSignal } {
  return ctx.signal ? { signal: ctx.signal } : {};
}

/** Decoded datasets are kept per process (a worker thread serves many activities of the same data). */
const datasets = new Map<string, Promise<Dataset>>();

export async function datasetFor(spec: string, seed: number, profile: SearchProfileSpec): Promise<Dataset> {
  const { trainLimit, testLimit } = profile.data;
  const limit = { ...(trainLimit ? { train: trainLimit } : {}), ...(testLimit ? { test: testLimit } : {}) };
  const key = JSON.stringify([spec, seed, limit]);
  let loading = datasets.get(key);
  if (!loading) {
    loading = loadDataset(spec, { seed, limit }).catch((error: Error) => {
      datasets.delete(key);
      throw error instanceof InputError ? error : new InputError('dataset', error.message);
    });
    datasets.set(key, loading);
  }
  return loading;
}

export async function splitFor(plan: RunPlan): Promise<DataSplit> {
  const dataset = await datasetFor(plan.request.dataset, plan.request.seed, plan.profile);
  if (dataset.fingerprint !== plan.dataset.fingerprint) {
    throw new InputError(
      'dataset',
      `'${plan.request.dataset}' changed since the run started (fingerprint ${dataset.fingerprint.slice(0, 12)}, ` +
        `expected ${plan.dataset.fingerprint.slice(0, 12)})`,
      'the data the run started with',
    );
  }
  return splitTrainVal(dataset, { valFraction: plan.profile.data.valFraction, seed: plan.seeds.split });
}
