/**
 * A dev server restarted mid-search (same SQLite file) loses no workflow: the search started before the
 * restart completes after it. Runs its own server on its own port so other test files are not disturbed.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { connectClient, startSearch } from '../client/temporal.js';
import type { SearchProgress } from '../contract/progress.js';
import type { SearchRequest } from '../contract/request.js';
import type { SearchSummary } from '../contract/summary.js';
import {
  spawnWorker,
  startDevServer,
  stopDevServer,
  useQueues,
  type WorkerProcess,
  workerReady,
} from './support/temporal.js';

const PORT = 7391;
let worker: WorkerProcess | undefined;

afterAll(async () => {
  await worker?.stop();
  stopDevServer(PORT);
});

it('completes a search across a restart of the Temporal server', async () => {
  const address = startDevServer(PORT);
  process.env.TEMPORAL_ADDRESS = address;
  useQueues('restart');
  worker = spawnWorker(address);
  await workerReady(worker);
  const request: SearchRequest = {
    dataset: 'synthetic',
    budget: null,
    mode: 'snasnet',
    profile: 'quick',
    seed: 3,
    weightBits: [32],
    shards: 2,
    artifacts: mkdtempSync(join(tmpdir(), 'spikenas-restart-')),
  };
  const before = await connectClient();
  const { workflowId } = await startSearch(before, request);
  for (;;) {
    const progress = await before.workflow.getHandle(workflowId).query<SearchProgress>('progress');
    if (progress.stage === 'memory-aware-search' || progress.finishedStages.length >= 2) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  await before.connection.close();

  stopDevServer(PORT);
  await new Promise((r) => setTimeout(r, 2000));
  startDevServer(PORT);

  const after = await connectClient();
  const summary = (await after.workflow.getHandle(workflowId).result()) as SearchSummary;
  expect(summary.workflowId).toBe(workflowId);
  expect(summary.winner).toMatch(/^[0-4]{4}( [0-4]{4}){3}$/);
  const history = await after.workflow.getHandle(workflowId).fetchHistory();
  expect(history.events?.[0]?.workflowExecutionStartedEventAttributes).toBeTruthy();
  await after.connection.close();
});
