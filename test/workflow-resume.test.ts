/**
 * Durability on a real Temporal dev server: a worker killed with SIGKILL in the middle of scoring, the
 * search finishing on a second worker process with the same winner and scores as an uninterrupted run,
 * having re-scored at most one checkpoint chunk; and a search stopped and resumed later reporting the time
 * its stages worked, not the pause.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openStore } from '../artifacts/index.js';
import { RunArtifacts, stageFile } from '../artifacts/run.js';
import { connectClient, startSearch } from '../client/temporal.js';
import type { SearchRequest } from '../contract/request.js';
import type { SearchSummary } from '../contract/summary.js';
import type { Span } from '../pipeline/stage-clock.js';
import type { CandidateStage } from '../pipeline/stages/candidates.js';
import { SCORE_CHUNK, type ScoreShardStage } from '../pipeline/stages/score.js';
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
  weightBits: [32],
  shards: 1,
  artifacts,
};

/**
 * How long the stopped search waits before it is resumed: far longer than what runs before its search stage
 * (prepare-dataset on synthetic data), so a stage clock that counted the pause could not pass.
 */
const PAUSE_MS = 10_000;

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

/** Waits until scoring has stored its first checkpoint, with candidates left to score. */
async function firstCheckpoint(workflowId: string): Promise<{ next: number }> {
  for (;;) {
    const checkpoint = await newestCheckpoint(workflowId);
    if (checkpoint) return checkpoint;
    if ((await client.workflow.getHandle(workflowId).describe()).status.name !== 'RUNNING') {
      throw new Error('the search ended before its worker was stopped: scoring is too fast for this test');
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function startedWorker(): Promise<WorkerProcess> {
  const worker = spawnWorker(address);
  workers.push(worker);
  await workerReady(worker);
  return worker;
}

let reference: { workflowId: string; summary: SearchSummary };

it('finishes on another worker after SIGKILL with the same result, re-scoring at most one chunk', async () => {
  const first = await startedWorker();
  const { workflowId: referenceId } = await startSearch(client, request);
  reference = {
    workflowId: referenceId,
    summary: (await client.workflow.getHandle(referenceId).result()) as SearchSummary,
  };
  const expected = reference.summary;

  const { workflowId } = await startSearch(client, request);
  const atKill = await firstCheckpoint(workflowId);
  expect(await first.stop('SIGKILL')).toBe('SIGKILL');
  const total = (await scoresOf(referenceId)).scores.length;
  expect(atKill.next).toBeLessThan(total);

  await startedWorker();
  const summary = (await client.workflow.getHandle(workflowId).result()) as SearchSummary;

  expect(summary.winner).toBe(expected.winner);
  expect(summary.sahdScore).toBe(expected.sahdScore);
  expect(summary.accuracy).toBe(expected.accuracy);
  const resumed = await scoresOf(workflowId);
  expect(resumed.scores).toEqual((await scoresOf(referenceId)).scores);
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

it('stops gracefully on SIGTERM mid-activity, and another worker finishes the search', async () => {
  const running = workers.at(-1) as WorkerProcess;
  const { workflowId } = await startSearch(client, request);
  const atStop = await firstCheckpoint(workflowId);
  // The worker drains and exits cleanly: the running activity either finishes within the grace time or
  // is cancelled and retried from its checkpoint.
  expect(await running.stop('SIGTERM')).toBe(0);
  await startedWorker();
  const summary = (await client.workflow.getHandle(workflowId).result()) as SearchSummary;
  expect(summary.winner).toBe(reference.summary.winner);
  expect(summary.sahdScore).toBe(reference.summary.sahdScore);
  const resumed = await scoresOf(workflowId);
  expect(resumed.scores).toEqual((await scoresOf(reference.workflowId)).scores);
  expect(resumed.resumedAt === 0 || resumed.resumedAt >= atStop.next).toBe(true);
});

it("counts each execution's share of a stage when a stopped search is resumed, not the pause between", async () => {
  // One worker, so that the one killed is the one doing the work.
  await Promise.all(workers.map((w) => w.stop()));
  const worker = await startedWorker();
  const started = Date.now();
  const { workflowId } = await startSearch(client, request);
  const firstExecution = (await client.workflow.getHandle(workflowId).describe()).runId;
  await firstCheckpoint(workflowId);
  // Killed, the stopped execution keeps no work past this moment.
  await worker.stop('SIGKILL');
  const stoppedAt = Date.now();
  await client.workflow.getHandle(workflowId).terminate('stopped by the test');
  await startedWorker();
  await new Promise((r) => setTimeout(r, PAUSE_MS - (Date.now() - stoppedAt)));
  const resumedAt = Date.now();
  expect((await startSearch(client, request, { workflowId })).started).toBe(true);
  const run = new RunArtifacts(await openStore(artifacts), workflowId);
  while (!(await run.exists(stageFile('memory-aware-search')))) await new Promise((r) => setTimeout(r, 20));
  const searchDone = Date.now();
  const summary = (await client.workflow.getHandle(workflowId).result()) as SearchSummary;
  const secondExecution = (await client.workflow.getHandle(workflowId).describe()).runId;

  const searchWallMs = summary.stageWallMs['memory-aware-search'] as number;
  // The stopped execution's share ends by stoppedAt, the resumed one's begins after resumedAt.
  expect(searchWallMs).toBeLessThanOrEqual(stoppedAt - started + (searchDone - resumedAt));
  const candidates = await run.getJson<CandidateStage>(stageFile('candidates'));
  const shard = await run.getJson<ScoreShardStage>(stageFile('scores-full-0-of-1'));
  expect(shard.spans.map((s) => s.execution)).toEqual([firstExecution, secondExecution]);
  // Both shares count: the stopped one's work up to its newest checkpoint, and the resumed one's.
  const [stopped, resumed] = shard.spans as [Span, Span];
  expect(searchWallMs).toBeGreaterThanOrEqual(
    stopped.to - (candidates.spans[0] as Span).from + (resumed.to - resumed.from),
  );
});
