/**
 * How a command waits for a search, against the real dev server: a search whose task queue nobody polls
 * (so it stays running) is followed for 50 s and then terminated. The wait must notice the end, and must
 * not pile abort listeners on one signal as it goes: awaiting handle.result() on a wait's abort signal
 * added one per 20-s long poll and never removed them, so Node warned of a leak 4 minutes into every
 * `spikenas search --wait` and `npm start`.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { EXIT } from '../cli/exit-codes.js';
import { waitAndReport } from '../cli/remote.js';
import { connectClient, outcomeIfClosed, startSearch } from '../client/temporal.js';
import type { SearchRequest } from '../contract/request.js';
import { ensureTemporal, useQueues } from './support/temporal.js';

const request: SearchRequest = {
  dataset: 'synthetic',
  budget: '64KiB',
  mode: 'snasnet',
  profile: 'quick',
  seed: 1,
  weightBits: [32],
  shards: 1,
  artifacts: mkdtempSync(join(tmpdir(), 'spikenas-wait-')),
};

let client: Client;

beforeAll(async () => {
  process.env.TEMPORAL_ADDRESS = await ensureTemporal();
  // No worker polls these: the search stays running until the test ends it.
  useQueues('cli-wait');
  client = await connectClient();
});

afterAll(async () => {
  vi.restoreAllMocks();
  await client?.connection.close();
});

it('follows a running search without collecting abort listeners, and reports its end', async () => {
  const listeners = new Map<EventTarget, number>();
  const addEventListener = EventTarget.prototype.addEventListener;
  vi.spyOn(EventTarget.prototype, 'addEventListener').mockImplementation(function (
    this: EventTarget,
    ...args: Parameters<EventTarget['addEventListener']>
  ) {
    if (args[0] === 'abort') listeners.set(this, (listeners.get(this) ?? 0) + 1);
    return addEventListener.apply(this, args);
  });
  const { workflowId } = await startSearch(client, request);
  const handle = client.workflow.getHandle(workflowId);
  expect(await outcomeIfClosed(handle)).toBeNull();

  const waiting = waitAndReport(client, workflowId, { json: true });
  await new Promise((resolve) => setTimeout(resolve, 50_000));
  await handle.terminate('the test is done waiting');
  const code = await waiting;
  vi.restoreAllMocks();

  expect(code).toBe(EXIT.searchFailed);
  const closed = await outcomeIfClosed(handle);
  expect(closed !== null && 'error' in closed).toBe(true);
  // Each round of the wait (describe, query) runs on a signal of its own: at most 2 listeners each.
  // result() held one signal for the whole wait, which had 3 by 50 s and one more every 20 s.
  expect(listeners.size).toBeGreaterThan(10);
  expect(Math.max(...listeners.values())).toBeLessThanOrEqual(2);
});

it('reports a search that does not exist as closed with its error', async () => {
  const closed = await outcomeIfClosed(client.workflow.getHandle('spikenas-no-such-search'));
  expect(closed !== null && 'error' in closed && String(closed.error)).toMatch(/not found/i);
});
