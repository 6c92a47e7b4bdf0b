/**
 * The search workflow on a real Temporal dev server with a real worker process: a whole quick search on
 * synthetic data, identical winners for 1, 2 and 4 shards (and identical impact evidence trained in 2
 * shards), impact in rounds, non-retryable bad input, duplicate triggers, and cancel followed by resume.
 */

import { mkdtempSync, readdirSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Client, WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../artifacts/index.js';
import { RUN_FILES, RunArtifacts, stageFile } from '../artifacts/run.js';
import {
  cancelSearch,
  connectClient,
  describeSearch,
  searchRequestOf,
  startSearch,
} from '../client/temporal.js';
import type { SearchProgress } from '../contract/progress.js';
import type { SearchRequest } from '../contract/request.js';
import type { RunPlan } from '../contract/run-records.js';
import type { SearchSummary } from '../contract/summary.js';
import { SEARCH_WORKFLOW } from '../contract/temporal.js';
import type { ImpactShardStage, ImpactStage } from '../pipeline/stages/operation-impact.js';
import { prepareRun } from '../pipeline/steps.js';
import { impactResultOf } from '../search/strategy/impact.js';
import { planImpactPairs } from '../search/strategy/impact-plan.js';
import type { SearchResult } from '../search/strategy/search-result.js';
import {
  ensureTemporal,
  spawnWorker,
  useQueues,
  type WorkerProcess,
  workerReady,
} from './support/temporal.js';

const artifacts = mkdtempSync(join(tmpdir(), 'spikenas-wf-'));
const base: SearchRequest = {
  dataset: 'synthetic',
  budget: '64KiB',
  mode: 'spikenas',
  profile: 'quick',
  seed: 7,
  weightBits: [32],
  shards: 1,
  artifacts,
};

let client: Client;
let worker: WorkerProcess;
let queues: { cpu: string; gpu: string };

beforeAll(async () => {
  const address = await ensureTemporal();
  process.env.TEMPORAL_ADDRESS = address;
  queues = useQueues('search');
  worker = spawnWorker(address);
  await workerReady(worker);
  client = await connectClient();
});

afterAll(async () => {
  await worker?.stop();
  await client?.connection.close();
});

async function runToEnd(
  request: SearchRequest,
): Promise<{ summary: SearchSummary; progress: SearchProgress[] }> {
  const { workflowId } = await startSearch(client, request);
  const handle = client.workflow.getHandle(workflowId);
  const seen: SearchProgress[] = [];
  const result = handle.result() as Promise<SearchSummary>;
  let done = false;
  void result.finally(() => {
    done = true;
  });
  while (!done) {
    const progress = await handle.query<SearchProgress>('progress').catch(() => null);
    if (progress) seen.push(progress);
    await new Promise((r) => setTimeout(r, 250));
  }
  return { summary: await result, progress: seen };
}

async function searchResultOf(summary: SearchSummary, store = artifacts): Promise<SearchResult> {
  const run = new RunArtifacts(await openStore(store), summary.runId);
  return run.getJson<SearchResult>(stageFile('memory-aware-search'));
}

describe('spikeNasSearch workflow', () => {
  let reference: SearchSummary;

  it('runs a whole quick search and publishes a verified run', async () => {
    const { summary, progress } = await runToEnd(base);
    reference = summary;
    expect(summary.winner).toMatch(/^[0-4]{4}( [0-4]{4}){3}$/);
    expect(summary.weightBytes).toBeLessThanOrEqual(summary.budgetBytes as number);
    expect(summary.accuracy).toBeGreaterThan(0.2);
    expect(summary.counters.scored).toBeGreaterThan(0);
    // The winner trained alone in a heavy-step process with every core, as the thread policy gives it.
    const cores = availableParallelism();
    expect(summary.backend).toMatch(
      new RegExp(
        `^tensorflow \\(.*, ${cores} threads?\\), heavy steps in 1 process x ${cores} TensorFlow threads? \\(small network, step alone\\)$`,
      ),
    );
    expect(Object.keys(summary.stageWallMs).sort()).toEqual([
      'cell-enhancement',
      'memory-aware-search',
      'operation-impact',
      'prepare-dataset',
      'quantize-evaluate',
      'train-winner',
    ]);
    // The progress query walked through the stages and ended at 100 %.
    const stages = new Set(progress.map((p) => p.stage));
    expect(stages.has('memory-aware-search') || stages.has('train-winner')).toBe(true);
    const percents = progress.map((p) => p.percent);
    expect([...percents].sort((a, b) => a - b)).toEqual(percents);
    const run = new RunArtifacts(await openStore(artifacts), summary.runId);
    const manifest = await run.verify();
    const names = manifest.objects.map((o) => o.name);
    for (const file of [
      RUN_FILES.config,
      RUN_FILES.report,
      RUN_FILES.pareto,
      RUN_FILES.winner,
      RUN_FILES.modelJson,
      RUN_FILES.candidates,
    ]) {
      expect(names).toContain(file);
    }
  });

  it('gives the same winner and scores for 1, 2 and 4 shards', async () => {
    const expected = await searchResultOf(reference);
    // 2 shards in a store of its own, whose impact cache is empty: its impact trainings are sharded too.
    const fresh = mkdtempSync(join(tmpdir(), 'spikenas-wf-shards-'));
    let sharded = '';
    for (const shards of [2, 4]) {
      const store = shards === 2 ? fresh : artifacts;
      const { summary } = await runToEnd({ ...base, shards, artifacts: store });
      expect(summary.winner).toBe(reference.winner);
      expect(summary.sahdScore).toBe(reference.sahdScore);
      if (shards === 2) sharded = summary.runId;
      const result = await searchResultOf(summary, store);
      expect(result.topK).toEqual(expected.topK);
      expect(result.counters).toEqual(expected.counters);
      // Each shard wrote its own scores.
      const run = new RunArtifacts(await openStore(store), summary.runId);
      expect(await run.exists(stageFile(`scores-full-${shards - 1}-of-${shards}`))).toBe(true);
    }
    const run = new RunArtifacts(await openStore(fresh), sharded);
    const impact = await run.getJson<ImpactStage>(stageFile('operation-impact'));
    expect(impact.reused).toBe(false);
    // Every round's shards (the design decides from round 0 whether a subject needs more pairs).
    const shardFiles = (await run.verify()).objects
      .map((o) => o.name)
      .filter((name) => /^stages\/impact-round\d+-\d+-of-\d+\.json$/.test(name));
    expect(shardFiles).toContain(stageFile('impact-round0-1-of-2'));
    const accuracies = Object.assign(
      {},
      ...(await Promise.all(shardFiles.map((f) => run.getJson<ImpactShardStage>(f)))).map(
        (s) => s.accuracies,
      ),
    );
    // Every pair the plan names, with the accuracies its shards trained, and the reference's evidence.
    const plan = await run.getJson<RunPlan>(RUN_FILES.config);
    const pairs = planImpactPairs(plan.profile.impact, plan.seeds.impact);
    expect(impact.result).toMatchObject(
      impactResultOf(pairs, plan.profile.impact.samplesPerLook, accuracies, {
        seed: plan.seeds.impact,
        datasetFingerprint: plan.dataset.fingerprint,
        wallMs: impact.result.wallMs,
      }),
    );
    const referenceRun = new RunArtifacts(await openStore(artifacts), reference.runId);
    const referenceImpact = await referenceRun.getJson<ImpactStage>(stageFile('operation-impact'));
    expect(impact.result.impacts).toEqual(referenceImpact.result.impacts);
  });

  it('trains operation impact in the rounds its looks ask for, sharded in each', async () => {
    // Looks of 1 and 2 pairs always take two rounds (one pair has no spread to stop on). The run's plan is
    // written before the workflow starts; its prepare step keeps a plan made for the same request.
    const store = mkdtempSync(join(tmpdir(), 'spikenas-wf-rounds-'));
    const request = { ...base, shards: 2, artifacts: store };
    const workflowId = `impact-rounds-${Date.now()}`;
    await prepareRun({ run: { artifacts: store, runId: workflowId, execution: 'setup' }, request });
    const run = new RunArtifacts(await openStore(store), workflowId);
    const prepared = await run.getJson<RunPlan>(RUN_FILES.config);
    const impactSettings = { ...prepared.profile.impact, samplesPerLook: [1, 2] };
    await run.putJson(RUN_FILES.config, {
      ...prepared,
      profile: { ...prepared.profile, impact: impactSettings },
    });
    const handle = await client.workflow.start(SEARCH_WORKFLOW, {
      taskQueue: queues.cpu,
      workflowId,
      args: [request, queues],
    });
    await handle.result();
    for (const round of [0, 1]) {
      expect(await run.exists(stageFile(`impact-round${round}-1-of-2`))).toBe(true);
    }
    const impact = await run.getJson<ImpactStage>(stageFile('operation-impact'));
    expect(impact.result.samplesPerLook).toEqual([1, 2]);
    expect(impact.result.impacts.map((i) => i.n)).toEqual(impact.result.impacts.map(() => 2));
  });

  it.each([
    ['budget', { budget: 'lots' }, /budget/],
    ['dataset', { dataset: 'imagenet-xxl' }, /dataset/],
    ['include', { include: ['0302 0030 3003'] }, /include\[0\]/],
  ])('fails bad %s at once, without retries or heavy work', async (_field, change, message) => {
    const workflowId = `bad-input-${_field}-${Date.now()}`;
    const handle = await client.workflow.start(SEARCH_WORKFLOW, {
      taskQueue: queues.cpu,
      workflowId,
      args: [{ ...base, ...change }, queues],
    });
    const error = await handle.result().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const cause = (error as WorkflowFailedError).cause?.cause as {
      type?: string;
      nonRetryable?: boolean;
      message: string;
    };
    expect(cause.type).toBe('InputError');
    expect(cause.message).toMatch(message);
    const history = await handle.fetchHistory();
    const scheduled = history.events?.filter((e) => e.activityTaskScheduledEventAttributes) ?? [];
    const names = scheduled.map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name);
    // prepareRun once, then only the failure record: no retry, no heavy stage.
    expect(names).toEqual(['prepareRun', 'recordOutcome']);
    const started = history.events?.filter((e) => e.activityTaskStartedEventAttributes) ?? [];
    expect(started[0]?.activityTaskStartedEventAttributes?.attempt).toBe(1);
  });

  it('does not start a second search for the same fleet and day', async () => {
    const request = { ...base, fleet: `dedupe-${Date.now()}`, budget: '1B' };
    const first = await startSearch(client, request);
    const second = await startSearch(client, request);
    expect(first.started).toBe(true);
    expect(second.started).toBe(false);
    expect(second.workflowId).toBe(first.workflowId);
    const runs = [];
    for await (const execution of client.workflow.list({ query: `WorkflowId = '${first.workflowId}'` }))
      runs.push(execution);
    expect(runs).toHaveLength(1);
    await client.workflow
      .getHandle(first.workflowId)
      .result()
      .catch(() => undefined);
  });

  it('cancels cleanly, keeps finished stages, and resumes to the same result', async () => {
    const request = { ...base, seed: 11 };
    const { workflowId } = await startSearch(client, request);
    const handle = client.workflow.getHandle(workflowId);
    // Cancel once the impact analysis is under way.
    for (;;) {
      const progress = await handle.query<SearchProgress>('progress').catch(() => null);
      if (progress?.finishedStages.includes('prepare-dataset')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    await cancelSearch(client, workflowId);
    await handle.result().catch(() => undefined);
    const cancelled = await describeSearch(client, workflowId);
    expect(cancelled.status).toBe('CANCELLED');
    expect(cancelled.progress?.stage).toBe('cancelled');
    const run = new RunArtifacts(await openStore(artifacts), workflowId);
    expect(await run.exists(RUN_FILES.config)).toBe(true);
    expect((await run.getJson<{ outcome: string }>(stageFile('outcome'))).outcome).toBe('cancelled');

    // resume = the same request under the same ID; finished stages are reused.
    const again = await searchRequestOf(client, workflowId);
    expect(again).toEqual(request);
    await startSearch(client, again, { workflowId });
    const resumed = (await handle.result()) as SearchSummary;
    const { summary: uninterrupted } = await runToEnd({ ...request });
    expect(resumed.winner).toBe(uninterrupted.winner);
    expect(resumed.sahdScore).toBe(uninterrupted.sahdScore);
    expect(readdirSync(join(artifacts, 'runs', workflowId, 'stages'))).toContain('train-winner.json');
  });
});
