/**
 * operation-impact (spikenas mode): how much each operation helps, from short trainings of sampled cells,
 * in rounds of the sequential design (search/strategy/impact-looks.ts). Three steps, so that several heavy
 * workers train at once: planImpact (light) reuses a finished or cached result or counts round 0's
 * trainings; trainImpactShard (heavy) trains one contiguous share of a round's trainings
 * (stages/impact-round<r>-<shard>-of-<n>); summariseImpact (light) merges a round's shares and either
 * starts the next round (stages/impact-round-<r+1>: everything trained before it) or, once every subject
 * has stopped, writes stages/operation-impact.
 */

import { ArtifactCache, cacheKey } from '../../artifacts/cache.js';
import { type RunArtifacts, stageFile } from '../../artifacts/run.js';
import { InputError } from '../../common/errors.js';
import type { RunPlan } from '../../contract/run-records.js';
import { shardCandidates } from '../../search/predictors/scoring.js';
import {
  type ImpactResume,
  type ImpactSettings,
  impactCacheKey,
  impactResultOf,
  nextImpactJobs,
  trainImpactJobs,
} from '../../search/strategy/impact.js';
import { type ImpactResult, planImpactPairs } from '../../search/strategy/impact-plan.js';
import { initBackend } from '../../snn/index.js';
import {
  openPlannedRun,
  type RunInput,
  signalOption,
  splitFor,
  type Timed,
  TRAINING_STEPS,
  warnOption,
} from '../run-context.js';
import { type Clocked, StepClock, spansOf, wallMsOf } from '../stage-clock.js';
import type { StepContext } from '../types.js';
import type { ShardsInput } from './score.js';

/** stages/operation-impact.json. */
export interface ImpactStage extends Timed {
  result: ImpactResult;
  reused: boolean;
  /** The run that trained the pairs: this one, or the earlier one whose evidence was reused. */
  computedBy: string;
  cacheUri: string;
}

/** What the cache keeps: the evidence and the run that computed it. */
interface CachedImpact {
  result: ImpactResult;
  computedBy: string;
}

/** stages/impact-plan.json: the plan step's span, where the stage's wall time begins. */
type ImpactPlanStage = Clocked;

/** stages/impact-round<r>-<shard>-of-<n>.json: one share's accuracies by training key. */
export interface ImpactShardStage extends Clocked {
  accuracies: Record<string, number>;
}

/** stages/impact-round-<r>.json (r >= 1): the accuracies of every round before r, and their spans. */
type ImpactRoundStage = ImpactShardStage;

export interface ImpactRoundInput extends ShardsInput {
  round: number;
}

export interface ImpactShardInput extends ImpactRoundInput {
  shard: number;
}

/** A round's trainings to shard, or null when the design has stopped every subject. */
export type ImpactNextRound = { round: number; trainings: number } | null;

const STAGE = stageFile('operation-impact');
const PLAN = stageFile('impact-plan');
const roundFile = (round: number) => stageFile(`impact-round-${round}`);
const shardName = (round: number, shard: number, shardCount: number) =>
  `impact-round${round}-${shard}-of-${shardCount}`;

function settingsOf(plan: RunPlan): ImpactSettings {
  const { ops, feedback, samplesPerLook, train } = plan.profile.impact;
  return { config: plan.config, ops, feedback, samplesPerLook, train };
}

/** The pairs the analysis may train, fixed by the run's plan (pure and seeded). */
function impactPairsOf(plan: RunPlan) {
  return planImpactPairs(settingsOf(plan), plan.seeds.impact);
}

/** The trainings the next round needs after those given: pure, from the plan and the accuracies. */
function nextJobsOf(plan: RunPlan, accuracies: Readonly<Record<string, number>>) {
  return nextImpactJobs(impactPairsOf(plan), plan.profile.impact.samplesPerLook, accuracies);
}

/** What the rounds before `round` trained, and their spans (round 0 starts at the plan step). */
async function beforeRound(run: RunArtifacts, round: number): Promise<ImpactRoundStage> {
  if (round === 0) return { accuracies: {}, spans: spansOf(await run.getJson<ImpactPlanStage>(PLAN)) };
  return run.getJson<ImpactRoundStage>(roundFile(round));
}

/** Impact evidence depends only on data, config, settings and seed: a nightly run reuses last night's. */
function cacheOf(run: RunArtifacts, plan: RunPlan, ctx: StepContext) {
  const cache = new ArtifactCache(run.store, 'operation-impact', warnOption(ctx));
  const key = cacheKey(
    impactCacheKey({ ...settingsOf(plan), datasetFingerprint: plan.dataset.fingerprint }, plan.seeds.impact),
  );
  return { cache, key };
}

/** Reuses the stage's result or the cache's; otherwise records the start and counts the trainings. */
export async function planImpact(
  input: RunInput,
  ctx: StepContext = {},
): Promise<{ reused: boolean; trainings: number }> {
  const { run, plan } = await openPlannedRun(input.run, ctx);
  if (await run.exists(STAGE))
    return { reused: (await run.getJson<ImpactStage>(STAGE)).reused, trainings: 0 };
  const clock = new StepClock(input.run.execution);
  const { cache, key } = cacheOf(run, plan, ctx);
  const cached = await cache.get<CachedImpact>(key);
  if (cached) {
    const stage: ImpactStage = {
      ...cached,
      reused: true,
      cacheUri: cache.uriOf(key),
      wallMs: wallMsOf(clock.spans()),
    };
    await run.putJson(STAGE, stage);
    return { reused: true, trainings: 0 };
  }
  // Written once: a retried or resumed stage keeps its first start.
  if (!(await run.exists(PLAN))) await run.putJson(PLAN, { spans: clock.spans() } satisfies ImpactPlanStage);
  return { reused: false, trainings: nextJobsOf(plan, {}).length };
}

/** Trains one contiguous share of a round's trainings, resuming from its own checkpoint. */
export async function trainImpactShard(
  input: ImpactShardInput,
  ctx: StepContext = {},
): Promise<{ trained: number }> {
  const { run, plan } = await openPlannedRun(input.run, ctx);
  const name = shardName(input.round, input.shard, input.shardCount);
  const file = stageFile(name);
  if (await run.exists(file))
    return { trained: Object.keys((await run.getJson<ImpactShardStage>(file)).accuracies).length };
  // A finished stage (planImpact then says trainings: 0) needs no shard, whatever shards it was trained in.
  if (await run.exists(STAGE)) return { trained: 0 };
  const { accuracies: before } = await beforeRound(run, input.round);
  const mine = shardCandidates(nextJobsOf(plan, before), input.shardCount)[input.shard];
  if (mine === undefined)
    throw new InputError('shard', `${input.shard} is not below shardCount ${input.shardCount}`);
  const resume = await run.readCheckpoint<ImpactResume & Clocked>(name);
  const clock = new StepClock(input.run.execution, resume?.data.spans);
  const data = await splitFor(plan);
  await initBackend();
  const { accuracies } = await trainImpactJobs(
    { config: plan.config, data, train: plan.profile.impact.train, jobs: mine },
    {
      seed: plan.seeds.impact,
      ...(resume ? { resume: resume.data } : {}),
      ...signalOption(ctx),
      onProgress: async (progress) => {
        await run.writeCheckpoint(name, { ...progress.resume, spans: clock.spans() });
      },
      onStep: (progress) => ctx.onProgress?.({ unit: TRAINING_STEPS, ...progress }),
    },
  );
  await run.putJson(file, { accuracies, spans: clock.spans() } satisfies ImpactShardStage);
  return { trained: mine.length };
}

/**
 * Merges a round's shares with the rounds before it. Starts the next round when the design asks for more
 * pairs; otherwise writes the evidence, caches it and writes stages/operation-impact.
 */
export async function summariseImpact(
  input: ImpactRoundInput,
  ctx: StepContext = {},
): Promise<{ nextRound: ImpactNextRound }> {
  const { run, plan } = await openPlannedRun(input.run, ctx);
  if (await run.exists(STAGE)) return { nextRound: null };
  const next = input.round + 1;
  // A retried summary of a round that already started the next one.
  if (await run.exists(roundFile(next))) {
    const { accuracies } = await run.getJson<ImpactRoundStage>(roundFile(next));
    return { nextRound: { round: next, trainings: nextJobsOf(plan, accuracies).length } };
  }
  const clock = new StepClock(input.run.execution);
  const before = await beforeRound(run, input.round);
  const accuracies = { ...before.accuracies };
  const spans = [...spansOf(before)];
  for (let shard = 0; shard < input.shardCount; shard++) {
    const stage = await run.getJson<ImpactShardStage>(
      stageFile(shardName(input.round, shard, input.shardCount)),
    );
    Object.assign(accuracies, stage.accuracies);
    spans.push(...spansOf(stage));
  }
  const trainings = nextJobsOf(plan, accuracies).length;
  if (trainings > 0) {
    await run.putJson(roundFile(next), {
      accuracies,
      spans: [...spans, ...clock.spans()],
    } satisfies ImpactRoundStage);
    return { nextRound: { round: next, trainings } };
  }
  const wallMs = wallMsOf([...spans, ...clock.spans()]);
  const result = impactResultOf(impactPairsOf(plan), plan.profile.impact.samplesPerLook, accuracies, {
    seed: plan.seeds.impact,
    datasetFingerprint: plan.dataset.fingerprint,
    wallMs,
  });
  const { cache, key } = cacheOf(run, plan, ctx);
  const stage: ImpactStage = {
    result,
    reused: false,
    computedBy: run.runId,
    cacheUri: cache.uriOf(key),
    wallMs,
  };
  await run.putJson(STAGE, stage);
  await cache.put(key, { result, computedBy: run.runId } satisfies CachedImpact);
  return { nextRound: null };
}
