/**
 * A whole quick search storing to a real S3-compatible server over HTTP (moto), cancelled part way and
 * resumed from what it had stored in S3.
 */
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RUN_FILES, RunArtifacts, stageFile } from '../artifacts/run.js';
import { cancelSearch, connectClient, searchRequestOf, startSearch } from '../client/temporal.js';
import type { SearchProgress } from '../contract/progress.js';
import type { SearchRequest } from '../contract/request.js';
import type { SearchSummary } from '../contract/summary.js';
import { freshBucket, openTestStore, s3WorkerEnv } from './support/s3.js';
import {
  ensureTemporal,
  spawnWorker,
  useQueues,
  type WorkerProcess,
  workerReady,
} from './support/temporal.js';

let client: Client;
let worker: WorkerProcess;

beforeAll(async () => {
  process.env.TEMPORAL_ADDRESS = await ensureTemporal();
  useQueues('s3');
  worker = spawnWorker(process.env.TEMPORAL_ADDRESS, s3WorkerEnv());
  await workerReady(worker);
  client = await connectClient();
});

afterAll(async () => {
  await worker?.stop();
  await client?.connection.close();
});

it('stores a search in S3 and resumes it from S3 after a cancel', async () => {
  const bucket = await freshBucket('workflow');
  const request: SearchRequest = {
    dataset: 'synthetic',
    budget: null,
    mode: 'snasnet',
    profile: 'quick',
    seed: 13,
    weightBits: [32],
    shards: 2,
    artifacts: `s3://${bucket}/fleet-runs`,
  };
  const { workflowId } = await startSearch(client, request);
  const handle = client.workflow.getHandle(workflowId);
  for (;;) {
    const progress = await handle.query<SearchProgress>('progress');
    if (progress.finishedStages.includes('memory-aware-search')) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  await cancelSearch(client, workflowId);
  await handle.result().catch(() => undefined);

  const run = new RunArtifacts(await openTestStore(`s3://${bucket}/fleet-runs`), workflowId);
  expect(await run.exists(stageFile('memory-aware-search'))).toBe(true);
  expect(await run.exists(RUN_FILES.manifest)).toBe(false);
  const searchBefore = await run.getJson(stageFile('memory-aware-search'));

  await startSearch(client, await searchRequestOf(client, workflowId), { workflowId });
  const summary = (await handle.result()) as SearchSummary;
  expect(summary.artifacts.report).toBe(`s3://${bucket}/fleet-runs/runs/${workflowId}/report.md`);
  // The search stage was not redone: its stored result is the one from before the cancel.
  expect(await run.getJson(stageFile('memory-aware-search'))).toEqual(searchBefore);
  // The AWS SDK's Node-version notice stays out of the worker's log, in every thread that used S3.
  expect(worker.output()).not.toMatch(/NodeVersionSupportWarning/);
  const manifest = await run.verify();
  expect(manifest.objects.map((o) => o.name)).toEqual(
    expect.arrayContaining([RUN_FILES.winner, RUN_FILES.weightsBin]),
  );
});
