/** prepare-dataset: checks the request, loads the data, fixes the plan (config.json) of the run. */

import { RUN_FILES, stageFile } from '../../artifacts/run.js';
import { InfeasibleBudgetError, InputError } from '../../common/errors.js';
import { deriveSeed } from '../../common/rng.js';
import { parseSize } from '../../common/size.js';
import { checkBuildable } from '../../config/net-config.js';
import { validateSearchRequest } from '../../config/request.js';
import type { SearchRequest } from '../../contract/request.js';
import type { RunPlan } from '../../contract/run-records.js';
import { splitTrainVal } from '../../datasets/index.js';
import type { Dataset } from '../../datasets/types.js';
import { parseArch } from '../../search/space/arch.js';
import { estimateMemory } from '../../search/space/memory.js';
import { resolveProfile, type SearchProfileSpec } from '../../search/strategy/profiles.js';
import type { NetConfig } from '../../snn/config.js';
import { resolvePreset } from '../../snn/index.js';
import { datasetFor, openRun, type RunInput } from '../run-context.js';
import type { StepContext } from '../types.js';

export interface PrepareInput extends RunInput {
  request: SearchRequest;
}

export async function prepareRun(input: PrepareInput, ctx: StepContext = {}) {
  const request = validateSearchRequest(input.request);
  const run = await openRun(input.run, ctx);
  if (await run.exists(RUN_FILES.config)) {
    const plan = await run.getJson<RunPlan>(RUN_FILES.config);
    if (JSON.stringify(computedPart(plan.request)) !== JSON.stringify(computedPart(request))) {
      throw new InputError(
        'runId',
        `run ${input.run.runId} already exists with a different request`,
        'a new workflow ID',
      );
    }
    return planSummary(plan);
  }
  const started = Date.now();
  const profile = resolveProfile(request.profile);
  const dataset = await datasetFor(request.dataset, request.seed, profile);
  const preset = profile.presets[dataset.name] ?? defaultPreset(profile, dataset);
  const config: NetConfig = {
    ...resolvePreset(preset),
    inputShape: dataset.inputShape,
    numClasses: dataset.numClasses,
  };
  // The dataset's image size meets the preset's strides here: refuse a network that cannot be built.
  checkBuildable(config);
  const seed = request.seed;
  const seeds = {
    search: seed,
    split: deriveSeed(seed, 'split'),
    impact: deriveSeed(seed, 'impact'),
    candidates: deriveSeed(seed, 'candidates'),
    sahd: deriveSeed(seed, 'sahd'),
    sahdBatches: deriveSeed(seed, 'sahd-batches'),
    train: deriveSeed(seed, 'train'),
  };
  const split = splitTrainVal(dataset, { valFraction: profile.data.valFraction, seed: seeds.split });
  const budgetBytes = request.budget === null ? null : parseSize(request.budget, 'budget');
  if (budgetBytes !== null && request.mode === 'spikenas')
    checkBudgetFloor(budgetBytes, config, request.weightBits);
  const plan: RunPlan = {
    request,
    startedAt: new Date(started).toISOString(),
    profile,
    preset,
    config,
    budgetBytes,
    seeds,
    dataset: {
      name: dataset.name,
      source: dataset.source,
      fingerprint: dataset.fingerprint,
      inputShape: dataset.inputShape,
      numClasses: dataset.numClasses,
      trainCount: split.train.count,
      valCount: split.val.count,
      testCount: split.test.count,
    },
  };
  await run.putJson(RUN_FILES.config, plan);
  await run.putJson(stageFile('prepare-dataset'), { wallMs: Date.now() - started });
  return planSummary(plan);
}

/** The request without what only says where its outcome is told and when its winner may train. */
function computedPart(request: SearchRequest): Omit<SearchRequest, 'notify' | 'holdTraining'> {
  const { notify: _notify, holdTraining: _holdTraining, ...rest } = request;
  return rest;
}

function planSummary(plan: RunPlan) {
  return {
    datasetFingerprint: plan.dataset.fingerprint,
    budgetBytes: plan.budgetBytes,
    preset: plan.preset,
    trainCount: plan.dataset.trainCount,
  };
}

/**
 * Every candidate holds at least the backbone (stem, down block, head): the cell with only the 0->3 skip
 * has no parameters of its own. A budget below that admits nothing, and is known before any work starts.
 */
function checkBudgetFloor(
  budgetBytes: number,
  config: NetConfig,
  weightBits: SearchRequest['weightBits'],
): void {
  // The narrowest width stores the fewest bytes (the widths come widest first).
  const narrowest = weightBits.at(-1) as number;
  const floor = estimateMemory(parseArch('0001 0000 0000 0000', config.cellType), config, {
    weightBits: narrowest,
  }).storedBytes;
  if (budgetBytes < floor) {
    throw new InfeasibleBudgetError(
      `budget ${budgetBytes} B admits no candidate: the smallest network of this config needs ${floor} B of ` +
        `weights at ${narrowest} bits as stored (backbone without cell parameters)`,
    );
  }
}

/** A dataset without a preset of its own (synthetic, a folder) runs the profile's Fashion-MNIST network. */
function defaultPreset(profile: SearchProfileSpec, dataset: Dataset): string {
  const preset = profile.presets['fashion-mnist'];
  if (preset === undefined)
    throw new InputError('dataset', `profile ${profile.name} has no preset for ${dataset.name}`);
  return preset;
}
