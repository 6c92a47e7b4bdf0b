/**
 * CPU workers publish the GPU queue's backlog (the metric the CDK stack scales GPU workers on): a search
 * waiting for a GPU worker shows up as a backlog of one in the CPU worker's metric lines.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { connectClient, startSearch } from '../client/temporal.js';
import type { SearchRequest } from '../contract/request.js';
import {
  ensureTemporal,
  spawnWorker,
  useQueues,
  type WorkerProcess,
  workerReady,
} from './support/temporal.js';

let worker: WorkerProcess | undefined;
afterAll(async () => {
  await worker?.stop();
});

it('reports the activity tasks waiting on the GPU queue', async () => {
  const address = await ensureTemporal();
  process.env.TEMPORAL_ADDRESS = address;
  const queues = useQueues('backlog');
  // A CPU-only worker: light stages run, the first heavy stage waits on the GPU queue.
  worker = spawnWorker(address, { SPIKENAS_BACKLOG_METRIC_SECONDS: '1' }, ['worker', '--queues', 'cpu']);
  await workerReady(worker);
  const client = await connectClient();
  const request: SearchRequest = {
    dataset: 'synthetic',
    budget: '64KiB',
    mode: 'spikenas',
    profile: 'quick',
    seed: 1,
    weightBits: [32],
    shards: 1,
    artifacts: mkdtempSync(join(tmpdir(), 'spikenas-backlog-')),
  };
  const { workflowId } = await startSearch(client, request);
  const metric = () =>
    worker
      ?.output()
      .split('\n')
      .filter((line) => line.includes('GpuTaskQueueBacklog'))
      .map((line) => JSON.parse(line) as { GpuTaskQueueBacklog: number; taskQueue: string; _aws: object });
  const deadline = Date.now() + 60_000;
  while (!metric()?.some((m) => m.GpuTaskQueueBacklog >= 1) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
  }
  const lines = metric() ?? [];
  expect(lines.some((m) => m.GpuTaskQueueBacklog === 1)).toBe(true);
  expect(lines.every((m) => m.taskQueue === queues.gpu)).toBe(true);
  expect(lines[0]?._aws).toMatchObject({ CloudWatchMetrics: [{ Namespace: 'SpikeNAS' }] });
  await client.workflow.getHandle(workflowId).terminate('test done');
  await client.connection.close();
});
