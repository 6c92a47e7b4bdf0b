/**
 * Faults no retry can fix end a search through Temporal at once, with the store's own message: the CLI
 * (a child process) waits on a real worker process that stores to a real S3-compatible server (moto), or,
 * for the faults moto does not produce, to a labelled local stub in front of it.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EXIT } from '../cli/exit-codes.js';
import { connectClient } from '../client/temporal.js';
import { runCli } from './support/cli.js';
import {
  type LocalHttpServer,
  proxyTo,
  s3Endpoint,
  s3ErrorXml,
  s3WorkerEnv,
  startHttpServer,
} from './support/s3.js';
import {
  ensureTemporal,
  spawnWorker,
  useQueues,
  type WorkerProcess,
  workerReady,
} from './support/temporal.js';

let worker: WorkerProcess;
let client: Client;
let front: LocalHttpServer;

beforeAll(async () => {
  process.env.TEMPORAL_ADDRESS = await ensureTemporal();
  useQueues('fail-fast');
  // Boundary stub in front of moto: buckets named denied-* answer as S3 does for a principal without
  // permission, elsewhere-* as a bucket in another region; every other request goes to moto unchanged.
  front = await startHttpServer((request, writer) => {
    const bucket = (request.url ?? '/').split('/')[1] ?? '';
    if (bucket.startsWith('denied-')) {
      request.resume();
      writer.send(403, s3ErrorXml('AccessDenied', 'Access Denied'));
    } else if (bucket.startsWith('elsewhere-')) {
      request.resume();
      writer.send(301, s3ErrorXml('PermanentRedirect', 'The bucket is in another region'));
    } else {
      proxyTo(s3Endpoint(), request, writer);
    }
  });
  worker = spawnWorker(process.env.TEMPORAL_ADDRESS, s3WorkerEnv(front.endpoint));
  await workerReady(worker);
  client = await connectClient();
});

afterAll(async () => {
  await worker?.stop();
  await client?.connection.close();
  await front?.close();
});

/** Runs a search to `out` and returns its CLI run and how many times each activity was started. */
async function searchTo(out: string, seed: number) {
  const started = Date.now();
  const run = await runCli([
    ...['start', '--dataset', 'synthetic', '--mode', 'snasnet', '--seed', String(seed)],
    ...['--out', out, '--wait', '--json'],
  ]);
  const seconds = (Date.now() - started) / 1000;
  const result = JSON.parse(run.stdout) as { workflowId: string; status: string; error: string };
  const history = await client.workflow.getHandle(result.workflowId).fetchHistory();
  const attempts: Record<string, number> = {};
  for (const event of history.events ?? []) {
    const name = event.activityTaskScheduledEventAttributes?.activityType?.name;
    if (name) attempts[name] = 0;
  }
  for (const event of history.events ?? []) {
    const attempt = event.activityTaskStartedEventAttributes?.attempt;
    if (attempt) attempts.started = Math.max(attempts.started ?? 0, attempt);
  }
  // The figure the README quotes: how long until a permanent fault ends the search.
  console.log(`${out}: ${result.status} after ${seconds.toFixed(1)} s`);
  return { run, result, attempts };
}

it.each([
  [
    'a missing bucket',
    () => `s3://spikenas-absent-${Date.now()}/runs`,
    /bucket 'spikenas-absent-\d+' does not exist\. Check the bucket name in the artifact URI \(--out \/ SPIKENAS_ARTIFACTS\)/,
  ],
  [
    'access denied',
    () => 's3://denied-team/runs',
    /access denied \(AccessDenied\)\. Check which credentials are in use/,
  ],
  [
    'the wrong region',
    () => 's3://elsewhere-bucket/runs',
    /bucket 'elsewhere-bucket' is in another region .* Set AWS_REGION/,
  ],
])("%s fails the search at once with the store's message", async (_what, out, message) => {
  const { run, result, attempts } = await searchTo(out(), 41);
  expect(run.code).toBe(EXIT.searchFailed);
  expect(result.status).toBe('FAILED');
  expect(result.error).toMatch(message);
  expect(result.error).not.toContain('--artifacts');
  // One attempt of the first activity, and nothing after it was scheduled.
  expect(attempts).toEqual({ prepareRun: 0, recordOutcome: 0, started: 1 });
});

it('a local artifact path under a regular file fails at once too', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'spikenas-fail-fast-'));
  writeFileSync(join(dir, 'plain-file'), 'x');
  const { run, result, attempts } = await searchTo(join(dir, 'plain-file', 'store'), 42);
  expect(run.code).toBe(EXIT.searchFailed);
  expect(result.error).toMatch(/cannot use .*plain-file.*: a file is in the way of that folder \(ENOTDIR\)/);
  expect(attempts.started).toBe(1);
});
