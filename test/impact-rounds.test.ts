/**
 * Operation impact in rounds, through the stage's steps as the workflow calls them: real runtime, real
 * files. The run's looks are set to [1, 2], so that a second round always happens (one pair has no spread
 * to stop on); which subjects a real design continues depends on the data, and impact-looks' own tests
 * cover that rule.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../artifacts/index.js';
import { RUN_FILES, RunArtifacts, stageFile } from '../artifacts/run.js';
import type { SearchRequest } from '../contract/request.js';
import type { RunPlan } from '../contract/run-records.js';
import type { ImpactShardStage, ImpactStage } from '../pipeline/stages/operation-impact.js';
import { planImpact, prepareRun, summariseImpact, trainImpactShard } from '../pipeline/steps.js';
import type { RunRef } from '../pipeline/types.js';
import { impactResultOf } from '../search/strategy/impact.js';
import { planImpactPairs } from '../search/strategy/impact-plan.js';

const artifacts = mkdtempSync(join(tmpdir(), 'spikenas-impact-rounds-'));
const request: SearchRequest = {
  dataset: 'synthetic',
  budget: '64KiB',
  mode: 'spikenas',
  profile: 'quick',
  seed: 3,
  weightBits: [8],
  shards: 2,
  artifacts,
};
const run: RunRef = { artifacts, runId: 'impact-rounds', execution: 'e1' };
let files: RunArtifacts;
let plan: RunPlan;

beforeAll(async () => {
  await prepareRun({ run, request });
  files = new RunArtifacts(await openStore(artifacts), run.runId);
  const prepared = await files.getJson<RunPlan>(RUN_FILES.config);
  plan = {
    ...prepared,
    profile: { ...prepared.profile, impact: { ...prepared.profile.impact, samplesPerLook: [1, 2] } },
  };
  await files.putJson(RUN_FILES.config, plan);
});

/** One round as the workflow runs it: its shards, then the summary. */
async function round(number: number, trainings: number) {
  const shardCount = Math.min(2, trainings);
  for (let shard = 0; shard < shardCount; shard++) {
    await trainImpactShard({ run, round: number, shard, shardCount });
  }
  return { shardCount, ...(await summariseImpact({ run, round: number, shardCount })) };
}

describe('operation impact in rounds', () => {
  it('trains the first look, then the next, and writes the evidence of both', async () => {
    const planned = await planImpact({ run });
    expect(planned.reused).toBe(false);
    const pairs = planImpactPairs(plan.profile.impact, plan.seeds.impact);
    const subjects = new Set(pairs.map((p) => p.subject)).size;
    // Round 0: the first pair of every subject.
    const first = await round(0, planned.trainings);
    expect(first.nextRound?.round).toBe(1);
    expect(await files.exists(stageFile('operation-impact'))).toBe(false);
    // A retried summary of round 0 starts the same round 1, and trains nothing again.
    expect(await summariseImpact({ run, round: 0, shardCount: first.shardCount })).toEqual({
      nextRound: first.nextRound,
    });
    const second = await round(1, first.nextRound?.trainings as number);
    expect(second.nextRound).toBeNull();

    const accuracies: Record<string, number> = {};
    for (const [number, shardCount] of [
      [0, first.shardCount],
      [1, second.shardCount],
    ]) {
      for (let shard = 0; shard < shardCount; shard++) {
        const name = stageFile(`impact-round${number}-${shard}-of-${shardCount}`);
        Object.assign(accuracies, (await files.getJson<ImpactShardStage>(name)).accuracies);
      }
    }
    // Round 1 trained only what round 0 had not: the two rounds' trainings are distinct.
    expect(Object.keys(accuracies)).toHaveLength(planned.trainings + (first.nextRound?.trainings as number));
    const stage = await files.getJson<ImpactStage>(stageFile('operation-impact'));
    expect(stage.result.impacts).toHaveLength(subjects);
    expect(stage.result.samplesPerLook).toEqual([1, 2]);
    for (const impact of stage.result.impacts) {
      expect(impact.n).toBe(2);
      expect(impact.ci?.level).toBeCloseTo(0.975, 12);
      expect(['clear of 0', 'last look']).toContain(impact.stop);
    }
    expect(stage.result.impacts).toEqual(
      impactResultOf(pairs, [1, 2], accuracies, { seed: 0, datasetFingerprint: '', wallMs: 0 }).impacts,
    );
    // The stage's wall time covers both rounds.
    const roundOne = await files.getJson<ImpactShardStage>(stageFile('impact-round-1'));
    expect(stage.wallMs).toBeGreaterThan(0);
    expect(roundOne.spans.length).toBeGreaterThan(0);
    // Finished: every step says so without training.
    expect(await summariseImpact({ run, round: 1, shardCount: second.shardCount })).toEqual({
      nextRound: null,
    });
    expect(await trainImpactShard({ run, round: 1, shard: 0, shardCount: 1 })).toEqual({ trained: 0 });
  });
});
