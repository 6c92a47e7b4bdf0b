/**
 * The memory-aware search's scoring: SAHD scores per pass and shard (stages/scores-<pass>-<shard>-of-<n>),
 * and, after a cheap first pass, the survivors that go on to full SAHD (stages/survivors).
 */

import { type RunArtifacts, stageFile } from '../../artifacts/run.js';
import { InputError } from '../../common/errors.js';
import { deriveSeed } from '../../common/rng.js';
import type { RunPlan } from '../../contract/run-records.js';
import { PASS_UNIT } from '../../contract/stages.js';
import { sampleBatches } from '../../datasets/index.js';
import { type ScoreResume, scoreCandidates, shardCandidates } from '../../search/predictors/scoring.js';
import type { Candidate } from '../../search/space/candidates.js';
import { survivorIndices } from '../../search/strategy/select.js';
import type { NetConfig } from '../../snn/config.js';
import { initBackend } from '../../snn/index.js';
import { openPlannedRun, type RunInput, signalOption, splitFor } from '../run-context.js';
import { type Clocked, type Span, StepClock, spansOf } from '../stage-clock.js';
import type { StepContext } from '../types.js';
import type { CandidateStage } from './candidates.js';

/** Scores are checkpointed every this many candidates: a killed worker re-scores at most this many. */
export const SCORE_CHUNK = 8;

export interface ShardsInput extends RunInput {
  shardCount: number;
}
export interface ScoreShardInput extends ShardsInput {
  pass: 'first' | 'full';
  shard: number;
}

/** scores-<pass>-<shard>-of-<n>.json: one shard's scores, in its candidates' order. */
export interface ScoreShardStage extends Clocked {
  scores: number[];
  /** The candidate its last attempt began at: above 0 when it resumed from a checkpoint. */
  resumedAt: number;
}

/**
 * survivors.json: the candidates (indices into candidates.json) the first pass sends on to full SAHD, with
 * the spans of the first pass's shards and of this step.
 */
export interface SurvivorStage extends Clocked {
  indices: number[];
  firstPassScores: number[];
}

export async function scoreShard(input: ScoreShardInput, ctx: StepContext = {}): Promise<{ scored: number }> {
  const { run, plan } = await openPlannedRun(input.run, ctx);
  const name = shardName(input.pass, input.shard, input.shardCount);
  const file = stageFile(name);
  if (await run.exists(file)) return { scored: (await run.getJson<ScoreShardStage>(file)).scores.length };
  const resume = await run.readCheckpoint<ScoreResume & Clocked>(name);
  const clock = new StepClock(input.run.execution, resume?.data.spans);
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
  const output = await scoreCandidates(
    { candidates: mine.map((c) => c.arch), config, batches, batchSize: scoring.batchSize },
    {
      seed: plan.seeds.sahd,
      ...(resume ? { resume: resume.data } : {}),
      ...signalOption(ctx),
      onProgress: async (progress) => {
        if (progress.done % SCORE_CHUNK === 0 || progress.done === progress.total) {
          await run.writeCheckpoint(name, { ...progress.resume, spans: clock.spans() });
        }
        ctx.onProgress?.({ unit: PASS_UNIT[input.pass], done: progress.done, total: progress.total });
      },
    },
  );
  await run.putJson(file, {
    scores: output.scores,
    resumedAt: resume?.data.next ?? 0,
    spans: clock.spans(),
  } satisfies ScoreShardStage);
  return { scored: output.scores.length };
}

function scoringSetup(plan: RunPlan, cellType: NetConfig['cellType'], pass: 'first' | 'full') {
  const config: NetConfig = { ...plan.config, cellType };
  const firstPass = plan.profile.firstPass;
  if (pass === 'full' || firstPass === null) return { config, scoring: plan.profile.sahd };
  return {
    config: { ...config, timesteps: firstPass.timesteps },
    scoring: { batchSize: firstPass.batchSize, repeats: firstPass.repeats },
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

function shardName(pass: 'first' | 'full', shard: number, shardCount: number): string {
  return `scores-${pass}-${shard}-of-${shardCount}`;
}

/** One pass's scores, in candidate order, and the spans of the work, from all its shards. */
export async function mergedScores(
  run: RunArtifacts,
  pass: 'first' | 'full',
  shardCount: number,
): Promise<{ scores: number[]; spans: Span[] }> {
  const scores: number[] = [];
  const spans: Span[] = [];
  for (let shard = 0; shard < shardCount; shard++) {
    const stage = await run.getJson<ScoreShardStage>(stageFile(shardName(pass, shard, shardCount)));
    scores.push(...stage.scores);
    spans.push(...spansOf(stage));
  }
  return { scores, spans };
}

export async function selectSurvivors(input: ShardsInput, ctx: StepContext = {}): Promise<{ count: number }> {
  const { run, plan } = await openPlannedRun(input.run, ctx);
  const file = stageFile('survivors');
  if (!(await run.exists(file))) {
    const clock = new StepClock(input.run.execution);
    const candidates = await run.getJson<CandidateStage>(stageFile('candidates'));
    const firstPass = await mergedScores(run, 'first', input.shardCount);
    const survivors = plan.profile.firstPass?.survivors ?? candidates.candidates.length;
    const indices = survivorIndices(candidates.candidates, firstPass.scores, survivors);
    const spans = [...firstPass.spans, ...clock.spans()];
    await run.putJson(file, { indices, firstPassScores: firstPass.scores, spans } satisfies SurvivorStage);
  }
  return { count: (await run.getJson<SurvivorStage>(file)).indices.length };
}
