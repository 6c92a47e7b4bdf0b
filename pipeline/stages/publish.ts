/** publish: the winner record, the report and the Pareto plot, then the run's manifest and summary. */

import { RUN_FILES, type RunArtifacts, stageFile } from '../../artifacts/run.js';
import { ramBudgetBytes } from '../../config/request.js';
import type { RunPlan, WinnerRecord, WinnerSummary } from '../../contract/run-records.js';
import { type StageName, stagesOf } from '../../contract/stages.js';
import type { SearchSummary } from '../../contract/summary.js';
import { renderParetoSvg } from '../../reports/pareto-plot.js';
import { renderReport } from '../../reports/report.js';
import { parseArch } from '../../search/space/arch.js';
import type { Candidate } from '../../search/space/candidates.js';
import { estimateMemory } from '../../search/space/memory.js';
import type { EnhancedSpace } from '../../search/strategy/enhance.js';
import type { SearchResult } from '../../search/strategy/search-result.js';
import { openPlannedRun, type RunInput, type Timed } from '../run-context.js';
import type { StepContext } from '../types.js';
import type { ImpactStage } from './operation-impact.js';
import type { QuantizeStage } from './quantize-evaluate.js';
import type { CandidateLine } from './select-winner.js';
import type { TrainStage } from './train-winner.js';

export async function publish(input: RunInput, ctx: StepContext = {}): Promise<SearchSummary> {
  const { run, plan } = await openPlannedRun(input.run, ctx);
  const search = await run.getJson<SearchResult>(stageFile('memory-aware-search'));
  const trained = await run.getJson<TrainStage>(stageFile('train-winner'));
  const quantized = await run.getJson<QuantizeStage>(stageFile('quantize-evaluate'));
  const impact =
    plan.request.mode === 'spikenas' ? await run.getJson<ImpactStage>(stageFile('operation-impact')) : null;
  const enhanced =
    plan.request.mode === 'spikenas' ? await run.getJson<EnhancedSpace>(stageFile('cell-enhancement')) : null;
  const best = search.topK[0];
  if (!best) throw new Error(`run ${input.run.runId}: the search has no winner`);
  const stageWallMs = await stageWallTimes(run, plan, search);
  const atStoredWidth = quantized.tried.filter((t) => t.bits === quantized.weightBits);
  const final = atStoredWidth.find((t) => t.method === quantized.chosenMethod);
  const postTraining = atStoredWidth.find((t) => t.method === 'post-training');
  const winner: WinnerSummary = {
    arch: best.arch,
    params: best.params,
    weightBits: best.weightBits,
    weightBytes: best.weightBytes,
    storedBytes: estimateMemory(parseArch(best.arch, plan.config.cellType), plan.config, {
      weightBits: best.weightBits,
    }).storedBytes,
    stateBytes: best.stateBytes,
    score: best.score,
    accuracyBeforeQuantization: trained.testAccuracy,
    quantization:
      final === undefined || final.method === 'none' || postTraining === undefined
        ? null
        : {
            weightBits: final.bits,
            weightBytes: final.bytes,
            accuracy: final.accuracy,
            method: final.method,
            postTrainingAccuracy: postTraining.accuracy,
          },
    spikeRates: trained.spikeRates,
    training: {
      epochs: trained.epochs,
      wallMs: trained.wallMs,
      trainOn: trained.trainOn,
      trainImages: trained.trainImages,
      quantizationAwareEpochs: trained.quantizationAware
        ? trained.epochs - trained.quantizationAware.fromEpoch
        : 0,
    },
  };
  const backendName = trained.backend;
  const winnerRecord: WinnerRecord = {
    ...winner,
    config: { ...plan.config, cellType: search.config.cellType },
    seeds: plan.seeds,
    datasetFingerprint: plan.dataset.fingerprint,
    backend: backendName,
    stageWallMs,
  };
  await run.putJson(RUN_FILES.winner, winnerRecord);
  const reusedFrom = {
    operationImpact: impact?.reused ? impact.computedBy : null,
    winnerTraining: trained.trainedBy === input.run.runId ? null : trained.trainedBy,
  };
  const reportInput = {
    runId: input.run.runId,
    startedAt: plan.startedAt,
    request: { ...plan.request },
    seeds: plan.seeds,
    backend: backendName,
    dataset: plan.dataset,
    stageWallMs,
    search,
    impact: impact?.result ?? null,
    enhanced,
    winner,
    budgetBytes: plan.budgetBytes,
    ramBudgetBytes: ramBudgetBytes(plan.request),
    reusedFrom,
  };
  await run.put(RUN_FILES.report, renderReport(reportInput));
  const lines = await run.getJsonLines<CandidateLine>(RUN_FILES.candidates);
  const withScore = (key: 'score' | 'firstPassScore') =>
    lines.flatMap((c) => {
      const score = c[key];
      return score === null ? [] : [{ ...memoryOf(c), score }];
    });
  await run.put(
    RUN_FILES.pareto,
    renderParetoSvg({
      candidates: withScore('score'),
      firstPass: withScore('firstPassScore'),
      pareto: search.pareto,
      budgetBytes: search.budgetBytes,
      winner: best.arch,
      unusable: lines.filter((c) => c.scoreProblem !== undefined || c.firstPassScoreProblem !== undefined)
        .length,
    }),
  );
  await run.publish();
  return {
    workflowId: input.run.runId,
    runId: input.run.runId,
    mode: plan.request.mode,
    fleet: plan.request.fleet ?? null,
    seed: plan.request.seed,
    backend: backendName,
    winner: best.arch,
    params: best.params,
    weightBits: quantized.weightBits,
    weightBytes: quantized.weightBytes,
    stateBytes: best.stateBytes,
    budgetBytes: plan.budgetBytes,
    sahdScore: best.score,
    accuracy: final?.accuracy ?? trained.testAccuracy,
    accuracyBeforeQuantization: trained.testAccuracy,
    quantization: winner.quantization && {
      method: winner.quantization.method,
      postTrainingAccuracy: winner.quantization.postTrainingAccuracy,
    },
    counters: { ...search.counters },
    stageWallMs,
    reusedFrom,
    artifacts: {
      root: run.rootUri,
      report: run.uriOf(RUN_FILES.report),
      winner: run.uriOf(RUN_FILES.winner),
      weights: run.uriOf(RUN_FILES.modelJson),
    },
  };
}

function memoryOf(c: Candidate) {
  return {
    arch: c.arch,
    params: c.params,
    weightBits: c.weightBits,
    weightBytes: c.weightBytes,
    stateBytes: c.stateBytes,
  };
}

/** Each finished stage's wall time, in the order the stages ran (publish is still running). */
async function stageWallTimes(run: RunArtifacts, plan: RunPlan, search: SearchResult) {
  const times: Partial<Record<StageName, number>> = {};
  for (const stage of stagesOf(plan.request.mode)) {
    if (stage === 'publish') continue;
    times[stage] =
      stage === 'memory-aware-search' ? search.wallMs : (await run.getJson<Timed>(stageFile(stage))).wallMs;
  }
  return times;
}
