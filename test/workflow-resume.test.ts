/**
 * Durability on a real Temporal dev server: a worker killed with SIGKILL in the middle of scoring, the
 * search finishing on a second worker process with the same winner and scores as an uninterrupted run,
 * having re-scored at most one checkpoint chunk.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openStore } from '../artifacts/index.js';
import { RunArtifacts, stageFile } from '../artifacts/run.js';
import { connectClient, startSearch } from '../cli/temporal.js';
import { SCORE_CHUNK } from '../pipeline/steps.js';
import type { StepProgress } from '../pipeline/types.js';
import type { SearchRequest, SearchSummary } from '../workflows/types.js';
import {
  ensureTemporal,
  spawnWorker,
  useQueues,
  type WorkerProcess,
  workerReady,
} from './support/temporal.js';

const artifacts = mkdtempSync(join(tmpdir(), 'spikenas-resume-'));
const request: SearchRequest = {
  dataset: 'synthetic',
  budget: null,
  mode: 'snasnet',
  profile: 'quick',
  seed: 5,
  weightBits: 32,
  shards: 1,
  artifacts,
};

let address: string;
let client: Client;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  address = await ensureTemporal();
  process.env.TEMPORAL_ADDRESS = address;
  useQueues('resume');
  client = await connectClient();
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await client?.connection.close();
});

async function scoresOf(runId: string): Promise<{ scores: number[]; resumedAt: number }> {
  const run = new RunArtifacts(await openStore(artifacts), runId);
  return run.getJson(stageFile('scores-full-0-of-1'));
}

/** The scoring activity's last heartbeat, as the server holds it. */
async function scoringProgress(workflowId: string): Promise<StepProgress | null> {
  const description = await client.workflow.getHandle(workflowId).describe();
  const pending = description.raw.pendingActivities?.find((a) => a.activityType?.name === 'scoreShard');
  const payload = pending?.heartbeatDetails?.payloads?.[0];
  return payload
    ? (client.options.loadedDataConverter.payloadConverter.fromPayload(payload) as StepProgress)
    : null;
}

it('finishes on another worker after SIGKILL with the same result, re-scoring at most one chunk', async () => {
  const first = spawnWorker(address);
  workers.push(first);
  await workerReady(first);

  const reference = await startSearch(client, request);
  const expected = (await client.workflow.getHandle(reference.workflowId).result()) as SearchSummary;

  const { workflowId } = await startSearch(client, request);
  let seen: StepProgress | null = null;
  while (!seen || seen.done < SCORE_CHUNK + 1) {
    seen = await scoringProgress(workflowId);
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(await first.stop('SIGKILL')).toBe('SIGKILL');

  const second = spawnWorker(address);
  workers.push(second);
  await workerReady(second);
  const summary = (await client.workflow.getHandle(workflowId).result()) as SearchSummary;

  expect(summary.winner).toBe(expected.winner);
  expect(summary.sahdScore).toBe(expected.sahdScore);
  expect(summary.accuracy).toBe(expected.accuracy);
  const resumed = await scoresOf(workflowId);
  expect(resumed.scores).toEqual((await scoresOf(reference.workflowId)).scores);
  // The retry started from the newest checkpoint: a multiple of the chunk, and no more than one chunk
  // behind the progress the killed worker had reported.
  expect(resumed.resumedAt % SCORE_CHUNK).toBe(0);
  expect(resumed.resumedAt).toBeGreaterThan(0);
  expect(seen.done - resumed.resumedAt).toBeLessThanOrEqual(SCORE_CHUNK);
  console.log(
    `resume after SIGKILL: ${seen.done} of ${seen.total} scored before the kill, resumed at ${resumed.resumedAt}, ` +
      `re-scored ${seen.done - resumed.resumedAt} (${((100 * (seen.done - resumed.resumedAt)) / seen.total).toFixed(1)} %)`,
  );
});
