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

/** The newest scoring checkpoint the run has stored (its resume point), or null before the first. */
async function newestCheckpoint(runId: string): Promise<{ next: number } | null> {
  const run = new RunArtifacts(await openStore(artifacts), runId);
  return (await run.readCheckpoint<{ next: number }>('scores-full-0-of-1'))?.data ?? null;
}

it('finishes on another worker after SIGKILL with the same result, re-scoring at most one chunk', async () => {
  const first = spawnWorker(address);
  workers.push(first);
  await workerReady(first);

  const reference = await startSearch(client, request);
  const expected = (await client.workflow.getHandle(reference.workflowId).result()) as SearchSummary;

  const { workflowId } = await startSearch(client, request);
  // Kill the worker as soon as scoring has stored its first checkpoint, with candidates left to score.
  let atKill: { next: number } | null = null;
  while (!atKill) {
    atKill = await newestCheckpoint(workflowId);
    if (!atKill && (await client.workflow.getHandle(workflowId).describe()).status.name !== 'RUNNING') {
      throw new Error('the search ended before the kill: scoring is too fast for this test');
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  expect(await first.stop('SIGKILL')).toBe('SIGKILL');
  const total = (await scoresOf(reference.workflowId)).scores.length;
  expect(atKill.next).toBeLessThan(total);

  const second = spawnWorker(address);
  workers.push(second);
  await workerReady(second);
  const summary = (await client.workflow.getHandle(workflowId).result()) as SearchSummary;

  expect(summary.winner).toBe(expected.winner);
  expect(summary.sahdScore).toBe(expected.sahdScore);
  expect(summary.accuracy).toBe(expected.accuracy);
  const resumed = await scoresOf(workflowId);
  expect(resumed.scores).toEqual((await scoresOf(reference.workflowId)).scores);
  // The retry started from a stored checkpoint at or after the one seen at the kill; the killed worker
  // checkpointed every chunk, so it had scored fewer than a chunk past the resume point.
  expect(resumed.resumedAt % SCORE_CHUNK).toBe(0);
  expect(resumed.resumedAt).toBeGreaterThanOrEqual(atKill.next);
  expect(resumed.resumedAt).toBeGreaterThan(0);
  console.log(
    `resume after SIGKILL: checkpoint at ${atKill.next} of ${total} when killed, resumed at ${resumed.resumedAt}; ` +
      `at most ${SCORE_CHUNK - 1} candidates (${((100 * (SCORE_CHUNK - 1)) / total).toFixed(1)} %) re-scored`,
  );
});
