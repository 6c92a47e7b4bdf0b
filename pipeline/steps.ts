/**
 * The pipeline steps of one search, over its run folder in an artifact store. Each step reads what earlier
 * steps wrote, writes its own stage result, and returns a small summary. A step whose result already exists
 * returns it without redoing the work, and long steps continue from their newest good checkpoint, so a
 * retried or resumed step repeats at most one chunk of work. The workflow (workflows/index.ts) and the
 * in-process runner (pipeline/local.ts) call these same steps in the same order.
 */

import { ArtifactCache, cacheKey } from '../artifacts/cache.js';
import { openStore } from '../artifacts/index.js';
import {
  renderParetoSvg,
  renderReport,
  type SearchReportInput,
  type WinnerSummary,
} from '../artifacts/report.js';
import { RUN_FILES, RunArtifacts, stageFile } from '../artifacts/run.js';
import { InfeasibleBudgetError, InputError } from '../common/errors.js';
import { deriveSeed } from '../common/rng.js';
import { parseSize } from '../common/size.js';
import { checkBuildable } from '../config/net-config.js';
import { validateSearchRequest } from '../config/request.js';
import { loadDataset, sampleBatches, splitTrainVal } from '../datasets/index.js';
import type { DataSplit, Dataset } from '../datasets/types.js';
import { canonicalizeArch, parseArch } from '../search/arch.js';
import { estimateMemory } from '../search/memory.js';
import { resolveProfile, type SearchProfileSpec } from '../search/profiles.js';
import {
  type Candidate,
  type CandidateSet,
  generateCandidates as generateCandidateSet,
} from '../search/stages/candidates.js';
import { enhanceSpace } from '../search/stages/enhance.js';
import { analyzeOperationImpact, type ImpactResume, impactCacheKey } from '../search/stages/impact.js';
import { type QuantizeResult, quantizeForBudget } from '../search/stages/quantize.js';
import {
  isUsableScore,
  type ScoreResume,
  scoreCandidates,
  shardCandidates,
} from '../search/stages/scoring.js';
import { buildSearchResult, selectSurvivors as pickSurvivors } from '../search/stages/select.js';
import type { EnhancedSpace, ImpactResult, SearchResult } from '../search/stages/types.js';
import type { NetConfig } from '../snn/config.js';
import {
  describeBackend,
  initBackend,
  resolvePreset,
  type SerializedWeights,
  type TrainResult,
  type TrainResume,
  trainNetwork,
} from '../snn/index.js';
import {
  PASS_UNIT,
  type SearchRequest,
  type SearchSummary,
  type StageName,
  stagesOf,
} from '../workflows/types.js';
import { toModelArtifacts } from './model-artifacts.js';
import type { RunRef, StepContext } from './types.js';

export type { StepContext } from './types.js';

const TRAINING_STEPS = 'training steps';

/** Scores are checkpointed every this many candidates: a killed worker re-scores at most this many. */
export const SCORE_CHUNK = 8;

/** Everything fixed when a run starts: written once to config.json, read by every later step. */
export interface RunPlan {
  request: SearchRequest;
  startedAt: string;
  profile: SearchProfileSpec;
  preset: string;
  config: NetConfig;
  budgetBytes: number | null;
  seeds: Record<'split' | 'impact' | 'candidates' | 'sahd' | 'sahdBatches' | 'train', number> & {
    search: number;
  };
  dataset: SearchReportInput['dataset'];
}

export interface RunInput {
  run: RunRef;
}
export interface PrepareInput extends RunInput {
  request: SearchRequest;
}
export interface ShardsInput extends RunInput {
  shardCount: number;
}
export interface ScoreShardInput extends ShardsInput {
  pass: 'first' | 'full';
  shard: number;
}
export interface OutcomeInput extends RunInput {
  outcome: 'failed' | 'cancelled';
  message: string;
}

export interface Timed {
  wallMs: number;
}

/** candidates.json: the generated list every shard indexes into. */
interface CandidateStage extends CandidateSet, Timed {
  cellType: NetConfig['cellType'];
  firstPass: boolean;
  /** Included matrices (request.include) that were added to the list. */
  included: string[];
  startedAt: number;
}

interface TrainStage extends Omit<TrainResult, 'weights'> {
  epochs: number;
  /** The tfjs backend that trained the winner, e.g. 'tensorflow (@tensorflow/tfjs-node 4.22.0, TensorFlow 2.16.2, 2 threads)'. */
  backend: string;
}

interface QuantizeStage extends QuantizeResult, Timed {
  weightBits: number;
  weightBytes: number;
}

// ---------------------------------------------------------------------------------------------- steps

export async function prepareRun(input: PrepareInput, ctx: StepContext = {}) {
  const request = validateSearchRequest(input.request);
  const run = await openRun(input.run, ctx);
  if (await run.exists(RUN_FILES.config)) {
    const plan = await run.getJson<RunPlan>(RUN_FILES.config);
    if (JSON.stringify(withoutNotify(plan.request)) !== JSON.stringify(withoutNotify(request))) {
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

export async function analyzeImpact(
  input: RunInput,
  ctx: StepContext = {},
): Promise<{ reused: boolean } & Timed> {
  const { run, plan } = await openPlannedRun(input.run, ctx);
  const file = stageFile('operation-impact');
  if (await run.exists(file)) return summaryOf(await run.getJson<ImpactStage>(file));
  const started = Date.now();
  const { profile, config } = plan;
  const analysis = {
    config,
    ops: profile.impact.ops,
    feedback: profile.impact.feedback,
    samplesPerOp: profile.impact.samplesPerOp,
    train: profile.impact.train,
  };
  // Impact evidence depends only on data, config, settings and seed: a nightly run reuses last night's.
  const cache = new ArtifactCache(run.store, 'operation-impact', warnOption(ctx));
  const key = cacheKey(
    impactCacheKey({ ...analysis, datasetFingerprint: plan.dataset.fingerprint }, plan.seeds.impact),
  );
  const cached = await cache.get<ImpactResult>(key);
  if (cached) {
    const stage: ImpactStage = {
      result: cached,
      reused: true,
      cacheUri: cache.uriOf(key),
      wallMs: Date.now() - started,
    };
    await run.putJson(file, stage);
    return summaryOf(stage);
  }
  await initBackend();
  const resume = await run.readCheckpoint<ImpactResume>('operation-impact');
  const result = await analyzeOperationImpact(
    { ...analysis, data: await splitFor(plan) },
    {
      seed: plan.seeds.impact,
      ...(resume ? { resume: resume.data } : {}),
      ...signalOption(ctx),
      onProgress: async (progress) => {
        await run.writeCheckpoint('operation-impact', progress.resume);
      },
      onStep: (progress) => ctx.onProgress?.({ unit: TRAINING_STEPS, ...progress }),
    },
  );
  await cache.put(key, result);
  const stage: ImpactStage = {
    result,
    reused: false,
    cacheUri: cache.uriOf(key),
    wallMs: Date.now() - started,
  };
  await run.putJson(file, stage);
  return summaryOf(stage);
}

interface ImpactStage extends Timed {
  result: ImpactResult;
  reused: boolean;
  cacheUri: string;
}

function summaryOf(stage: ImpactStage) {
  return { reused: stage.reused, wallMs: stage.wallMs };
}

export async function enhanceCell(input: RunInput, ctx: StepContext = {}): Promise<EnhancedSpace> {
  const { run } = await openPlannedRun(input.run, ctx);
  const file = stageFile('cell-enhancement');
  if (await run.exists(file)) return run.getJson<EnhancedSpace & Timed>(file);
  const started = Date.now();
  const impact = await run.getJson<ImpactStage>(stageFile('operation-impact'));
  const space = enhanceSpace(impact.result);
  await run.putJson(file, { ...space, wallMs: Date.now() - started });
  return space;
}

export async function generateCandidates(input: RunInput, ctx: StepContext = {}) {
  const { run, plan } = await openPlannedRun(input.run, ctx);
  const file = stageFile('candidates');
  if (!(await run.exists(file))) {
    const started = Date.now();
    const { request, profile, config } = plan;
    const space =
      request.mode === 'spikenas'
        ? await run.getJson<EnhancedSpace>(stageFile('cell-enhancement'))
        : { ops: [0, 1, 2, 3, 4] as EnhancedSpace['ops'], cellType: 'backward' as const };
    const spaceConfig: NetConfig = { ...config, cellType: space.cellType };
    const set = generateCandidateSet(
      {
        mode: request.mode,
        ops: space.ops,
        cellType: space.cellType,
        config: spaceConfig,
        budgetBytes: request.mode === 'spikenas' ? plan.budgetBytes : null,
        weightBits: request.weightBits,
        limit: request.mode === 'spikenas' ? profile.searchCandidates : profile.snasnetCandidates,
      },
      plan.seeds.candidates,
    );
    const included = includeCandidates(
      set,
      request.include ?? [],
      spaceConfig,
      plan.budgetBytes,
      request.weightBits,
    );
    const firstPass =
      request.mode === 'spikenas' &&
      profile.firstPass !== null &&
      set.candidates.length > profile.firstPass.survivors;
    const stage: CandidateStage = {
      ...set,
      cellType: space.cellType,
      firstPass,
      included,
      startedAt: started,
      wallMs: Date.now() - started,
    };
    await run.putJson(file, stage);
  }
  const stage = await run.getJson<CandidateStage>(file);
  return { candidates: stage.candidates.length, firstPass: stage.firstPass, counters: { ...stage.counters } };
}

/** Adds the requested matrices that the space did not already hold, when they fit the budget. */
function includeCandidates(
  set: CandidateSet,
  include: string[],
  config: NetConfig,
  budgetBytes: number | null,
  weightBits: SearchRequest['weightBits'],
): string[] {
  const added: string[] = [];
  const present = new Set(set.candidates.map((c) => c.arch));
  for (const text of include) {
    const arch = canonicalizeArch(parseArch(text, config.cellType));
    if (present.has(arch)) continue;
    const memory = estimateMemory(parseArch(arch, config.cellType), config, { weightBits });
    if (budgetBytes !== null && memory.weightBytes > budgetBytes) continue;
    set.candidates.push({ arch, ...memory });
    present.add(arch);
    added.push(arch);
  }
  return added;
}

export async function scoreShard(input: ScoreShardInput, ctx: StepContext = {}): Promise<{ scored: number }> {
  const { run, plan } = await openPlannedRun(input.run, ctx);
  const name = `scores-${input.pass}-${input.shard}-of-${input.shardCount}`;
  const file = stageFile(name);
  if (await run.exists(file))
    return { scored: (await run.getJson<{ scores: number[] }>(file)).scores.length };
  const candidates = await run.getJson<CandidateStage>(stageFile('candidates'));
  const list = await passCandidates(run, candidates, input.pass);
  const mine = shardCandidates(list, input.shardCount)[input.shard];
  if (mine === undefined)
    throw new InputError('shard', `${input.shard} is not below shardCount ${input.shardCount}`);
  const { config, scoring } = scoringSetup(plan, candidates.cellType, input.pass);
  const split = await splitFor(plan);
  const batches = sampleBatches(split.train, {
    batchSize: scoring.batchSize,
    count: scoring.repeats,
    seed: deriveSeed(plan.seeds.sahdBatches, input.pass),
  });
  await initBackend();
  const resume = await run.readCheckpoint<ScoreResume>(name);
  const output = await scoreCandidates(
    { candidates: mine.map((c) => c.arch), config, batches, batchSize: scoring.batchSize },
    {
      seed: plan.seeds.sahd,
      ...(resume ? { resume: resume.data } : {}),
      ...signalOption(ctx),
      onProgress: async (progress) => {
        if (progress.done % SCORE_CHUNK === 0 || progress.done === progress.total) {
          await run.writeCheckpoint(name, progress.resume);
        }
        ctx.onProgress?.({ unit: PASS_UNIT[input.pass], done: progress.done, total: progress.total });
      },
    },
  );
  await run.putJson(file, {
    scores: output.scores,
    resumedAt: resume?.data.next ?? 0,
    wallMs: output.wallMs,
  });
  return { scored: output.scores.length };
}

function scoringSetup(plan: RunPlan, cellType: NetConfig['cellType'], pass: 'first' | 'full') {
  const config: NetConfig = { ...plan.config, cellType };
  const firstPass = plan.profile.firstPass;
  if (pass === 'full' || firstPass === null) return { config, scoring: plan.profile.sahd };
  return {
    config: { ...config, timesteps: firstPass.timesteps },
    scoring: { batchSize: firstPass.batchSize, repeats: 1 },
  };
}

/** The candidates a pass scores: all of them for the first pass (or when there is none), else the survivors. */
async function passCandidates(
  run: RunArtifacts,
  stage: CandidateStage,
  pass: 'first' | 'full',
): Promise<Candidate[]> {
  if (pass === 'first' || !stage.firstPass) return stage.candidates;
  const survivors = await run.getJson<SurvivorStage>(stageFile('survivors'));
  return survivors.indices.map((i) => stage.candidates[i] as Candidate);
}

interface SurvivorStage {
  indices: number[];
  firstPassScores: number[];
}

async function mergedScores(
  run: RunArtifacts,
  pass: 'first' | 'full',
  shardCount: number,
): Promise<number[]> {
  const scores: number[] = [];
  for (let shard = 0; shard < shardCount; shard++) {
    scores.push(
      ...(await run.getJson<{ scores: number[] }>(stageFile(`scores-${pass}-${shard}-of-${shardCount}`)))
        .scores,
    );
  }
  return scores;
}

export async function selectSurvivors(input: ShardsInput, ctx: StepContext = {}): Promise<{ count: number }> {
  const { run, plan } = await openPlannedRun(input.run, ctx);
  const file = stageFile('survivors');
  if (!(await run.exists(file))) {
    const candidates = await run.getJson<CandidateStage>(stageFile('candidates'));
    const firstPassScores = await mergedScores(run, 'first', input.shardCount);
    const survivors = plan.profile.firstPass?.survivors ?? candidates.candidates.length;
    const indices = pickSurvivors(candidates.candidates, firstPassScores, survivors);
    await run.putJson(file, { indices, firstPassScores } satisfies SurvivorStage);
  }
  return { count: (await run.getJson<SurvivorStage>(file)).indices.length };
}

export async function selectWinner(input: ShardsInput, ctx: StepContext = {}) {
  const { run, plan } = await openPlannedRun(input.run, ctx);
  const file = stageFile('memory-aware-search');
  if (!(await run.exists(file))) {
    const stage = await run.getJson<CandidateStage>(stageFile('candidates'));
    const full = await mergedScores(run, 'full', input.shardCount);
    const survivors = stage.firstPass ? await run.getJson<SurvivorStage>(stageFile('survivors')) : null;
    const fullScores: (number | null)[] = survivors ? stage.candidates.map(() => null) : full;
    survivors?.indices.forEach((candidate, k) => {
      fullScores[candidate] = full[k] as number;
    });
    const result = buildSearchResult({
      seed: plan.seeds.search,
      mode: plan.request.mode,
      config: { ...plan.config, cellType: stage.cellType },
      budgetBytes: plan.request.mode === 'spikenas' ? plan.budgetBytes : null,
      weightBits: plan.request.weightBits,
      wallMs: Date.now() - stage.startedAt,
      topK: plan.profile.topK,
      generation: stage.counters,
      candidates: stage.candidates,
      firstPassScores: survivors?.firstPassScores ?? null,
      fullScores,
    });
    await run.putJsonLines(
      RUN_FILES.candidates,
      stage.candidates.map((c, i) => ({
        ...c,
        ...scoreField('firstPassScore', survivors?.firstPassScores[i]),
        ...scoreField('score', fullScores[i]),
      })),
    );
    await run.putJson(file, result);
  }
  const result = await run.getJson<SearchResult>(file);
  const winner = result.topK[0];
  if (!winner) throw new Error(`run ${input.run.runId}: no candidate got a usable score`);
  return { winner: winner.arch, counters: { ...result.counters } };
}

export async function trainWinner(
  input: RunInput,
  ctx: StepContext = {},
): Promise<{ testAccuracy: number } & Timed> {
  const { run, plan } = await openPlannedRun(input.run, ctx);
  const file = stageFile('train-winner');
  if (!(await run.exists(file))) {
    const { arch, config } = await winnerOf(run, plan);
    const backend = await initBackend();
    const resume = await run.readCheckpoint<TrainResume>('train-winner');
    const training = plan.profile.winner;
    const options = {
      ...training,
      onStep: (done: number, total: number) => ctx.onProgress?.({ unit: TRAINING_STEPS, done, total }),
    };
    const result = await trainNetwork(arch, config, await splitFor(plan), options, {
      seed: plan.seeds.train,
      ...(resume ? { resume: resume.data } : {}),
      ...signalOption(ctx),
      onProgress: async (progress) => {
        await run.writeCheckpoint('train-winner', progress.resume);
      },
    });
    const { weights, ...summary } = result;
    await run.putJson(TRAINED_WEIGHTS, weights);
    await run.putJson(file, {
      ...summary,
      epochs: training.epochs,
      backend: describeBackend(backend),
    } satisfies TrainStage);
  }
  const stage = await run.getJson<TrainStage>(file);
  return { testAccuracy: stage.testAccuracy, wallMs: stage.wallMs };
}

/** The trained 32-bit weights, kept beside the final (maybe quantized) ones. */
const TRAINED_WEIGHTS = 'trained-weights.json';

export async function quantizeEvaluate(input: RunInput, ctx: StepContext = {}) {
  const { run, plan } = await openPlannedRun(input.run, ctx);
  const file = stageFile('quantize-evaluate');
  if (!(await run.exists(file))) {
    const started = Date.now();
    const { arch, text, config } = await winnerOf(run, plan);
    const trained = await run.getJson<TrainStage>(stageFile('train-winner'));
    const weights = await run.getJson<SerializedWeights>(TRAINED_WEIGHTS);
    await initBackend();
    // snasnet mode has no budget: its winner is measured at full precision.
    const budgetBytes = plan.budgetBytes ?? Number.MAX_SAFE_INTEGER;
    const split = await splitFor(plan);
    const result = await quantizeForBudget(
      {
        arch,
        config,
        weights,
        budgetBytes,
        test: split.test,
        batchSize: 100,
        accuracy32: trained.testAccuracy,
      },
      signalOption(ctx),
    );
    if (result.chosenBits === null || result.weights === null) {
      const smallest = result.tried.at(-1);
      throw new InputError(
        'budget',
        `the winner does not fit ${plan.request.budget} even at ${smallest?.bits} bits (${smallest?.bytes} bytes)`,
        'a larger budget',
      );
    }
    const chosen = result.tried.find((t) => t.bits === result.chosenBits);
    await run.writeWeights(toModelArtifacts(result.weights, { arch: text, config }));
    await run.putJson(file, {
      ...result,
      weights: null,
      weightBits: result.chosenBits,
      weightBytes: chosen?.bytes ?? 0,
      wallMs: Date.now() - started,
    } satisfies QuantizeStage);
  }
  const stage = await run.getJson<QuantizeStage>(file);
  return { weightBits: stage.weightBits, weightBytes: stage.weightBytes };
}

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
  const final = quantized.tried.find((t) => t.bits === quantized.weightBits);
  const winner: WinnerSummary = {
    arch: best.arch,
    params: best.params,
    weightBits: search.weightBits,
    weightBytes: best.weightBytes,
    stateBytes: best.stateBytes,
    score: best.score,
    accuracyBeforeQuantization: trained.testAccuracy,
    quantization:
      quantized.weightBits === 32 || !final
        ? null
        : { weightBits: final.bits, weightBytes: final.bytes, accuracy: final.accuracy },
    spikeRates: trained.spikeRates,
    training: { epochs: trained.epochs, wallMs: trained.wallMs },
  };
  const backendName = trained.backend;
  await run.putJson(RUN_FILES.winner, {
    ...winner,
    config: { ...plan.config, cellType: search.config.cellType },
    seeds: plan.seeds,
    datasetFingerprint: plan.dataset.fingerprint,
    backend: backendName,
  });
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
    counters: { ...search.counters },
    stageWallMs,
    artifacts: {
      root: run.rootUri,
      report: run.uriOf(RUN_FILES.report),
      winner: run.uriOf(RUN_FILES.winner),
      weights: run.uriOf(RUN_FILES.modelJson),
    },
  };
}

export async function recordOutcome(input: OutcomeInput, ctx: StepContext = {}): Promise<void> {
  const run = await openRun(input.run, ctx);
  await run.putJson(stageFile('outcome'), {
    outcome: input.outcome,
    message: input.message,
    at: new Date().toISOString(),
  });
  if (input.outcome === 'failed') {
    // CloudWatch embedded metric format: on AWS this log line is the SpikeNAS/WorkflowsFailed metric the
    // stack alarms on (infra/stack.ts); elsewhere it is one JSON log line.
    console.log(
      JSON.stringify({
        _aws: {
          Timestamp: Date.now(),
          CloudWatchMetrics: [
            {
              Namespace: 'SpikeNAS',
              Dimensions: [[]],
              Metrics: [{ Name: 'WorkflowsFailed', Unit: 'Count' }],
            },
          ],
        },
        WorkflowsFailed: 1,
        runId: input.run.runId,
      }),
    );
  }
}

// ---------------------------------------------------------------------------------------------- helpers

/** One line of candidates.jsonl: a score is a number, or null with the reason when it cannot rank. */
interface CandidateLine extends Candidate {
  firstPassScore: number | null;
  firstPassScoreProblem?: string;
  score: number | null;
  scoreProblem?: string;
}

/** Why a computed score cannot rank a candidate (the scorer's stand-in for it is -Number.MAX_VALUE). */
const UNUSABLE_REASON = 'singular SAHD kernel: log |det K| is minus infinity, so the score cannot rank it';

/** `{ score }`, `{ score: null }` when not computed, or `{ score: null, scoreProblem }` when unusable. */
function scoreField<K extends 'score' | 'firstPassScore'>(key: K, score: number | null | undefined) {
  if (score === undefined || score === null) return { [key]: null };
  if (!isUsableScore(score)) return { [key]: null, [`${key}Problem`]: UNUSABLE_REASON };
  return { [key]: score };
}

function memoryOf(c: Candidate) {
  return { arch: c.arch, params: c.params, weightBytes: c.weightBytes, stateBytes: c.stateBytes };
}

async function openRun(ref: RunRef, ctx: StepContext): Promise<RunArtifacts> {
  return new RunArtifacts(await openStore(ref.artifacts), ref.runId, warnOption(ctx));
}

async function openPlannedRun(ref: RunRef, ctx: StepContext): Promise<{ run: RunArtifacts; plan: RunPlan }> {
  const run = await openRun(ref, ctx);
  return { run, plan: await run.getJson<RunPlan>(RUN_FILES.config) };
}

function warnOption(ctx: StepContext): { warn?: (message: string) => void } {
  return ctx.warn ? { warn: ctx.warn } : {};
}

function signalOption(ctx: StepContext): { signal?: AbortSignal } {
  return ctx.signal ? { signal: ctx.signal } : {};
}

function withoutNotify(request: SearchRequest): Omit<SearchRequest, 'notify'> {
  const { notify: _notify, ...rest } = request;
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
  const floor = estimateMemory(parseArch('0001 0000 0000 0000', config.cellType), config, {
    weightBits,
  }).weightBytes;
  if (budgetBytes < floor) {
    throw new InfeasibleBudgetError(
      `budget ${budgetBytes} B admits no candidate: the smallest network of this config needs ${floor} B of ` +
        `weights at ${weightBits} bits (backbone without cell parameters)`,
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

/** Decoded datasets are kept per process (a worker thread serves many activities of the same data). */
const datasets = new Map<string, Promise<Dataset>>();

async function datasetFor(spec: string, seed: number, profile: SearchProfileSpec): Promise<Dataset> {
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

async function splitFor(plan: RunPlan): Promise<DataSplit> {
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

async function winnerOf(run: RunArtifacts, plan: RunPlan) {
  const search = await run.getJson<SearchResult>(stageFile('memory-aware-search'));
  const best = search.topK[0];
  if (!best) throw new Error('the search has no winner');
  const config: NetConfig = { ...plan.config, cellType: search.config.cellType };
  return { arch: parseArch(best.arch, config.cellType), text: best.arch, config };
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
