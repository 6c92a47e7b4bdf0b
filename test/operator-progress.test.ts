/**
 * What a person following a search sees, from the CLI as a child process against the real dev server and
 * worker processes: counts inside every heavy stage (candidates, training steps) from the workflow's
 * `progress` query, plain lines at a steady interval without a terminal, no bar templates and no absurd
 * time estimates, a named task queue when work waits and nobody polls it, and a quiet worker log.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../cli/exit-codes.js';
import { connectClient } from '../client/temporal.js';
import { runCli } from './support/cli.js';
import {
  ensureTemporal,
  spawnWorker,
  useQueues,
  type WorkerProcess,
  workerReady,
} from './support/temporal.js';

const artifacts = mkdtempSync(join(tmpdir(), 'spikenas-progress-'));
const snasnet = ['--dataset', 'synthetic', '--mode', 'snasnet', '--out', artifacts];

// One plain progress line a second, so that a short test search prints many.
const plainEveryS = { SPIKENAS_PROGRESS_SECONDS: '1' };
// A plain line at every change: the in-process search's stages can pass in under a second.
const plainEveryChange = { SPIKENAS_PROGRESS_SECONDS: '0' };

interface Line {
  percent: number;
  stage: string;
  done?: number;
  total?: number;
  unit?: string;
}

/** The plain progress lines of a run's stderr. */
function progressLines(stderr: string): Line[] {
  const lines: Line[] = [];
  for (const text of stderr.split('\n')) {
    const match =
      /^spikenas: (\d+)% ([a-z-]+)(?:: (\d+)\/(\d+) ([a-zA-Z -]+?)(?:, about .* left in this stage)?)?$/.exec(
        text,
      );
    if (!match) continue;
    lines.push({
      percent: Number(match[1]),
      stage: match[2] as string,
      ...(match[3] === undefined
        ? {}
        : { done: Number(match[3]), total: Number(match[4]), unit: match[5] as string }),
    });
  }
  return lines;
}

/** Counts a run must have shown moving inside a stage: [stage, unit]. */
type Moving = [string, string][];

function expectTrustworthy(stderr: string, moving: Moving): Line[] {
  const lines = progressLines(stderr);
  // No template left unfilled, no estimate from a rate of zero.
  expect(stderr).not.toMatch(/\{stage\}|\{bar\}|NaN|Infinity|NFs|░/);
  const percents = lines.map((l) => l.percent);
  expect(percents).toEqual([...percents].sort((a, b) => a - b));
  for (const [stage, unit] of moving) {
    const counted = lines.filter((l) => l.stage === stage && l.unit === unit);
    // Inside the stage the count moves (several different counts), within its total...
    expect(new Set(counted.map((l) => l.done)).size, `${stage}: ${unit}`).toBeGreaterThan(1);
    for (const l of counted) expect(l.done).toBeLessThanOrEqual(l.total as number);
    // ...and so does the percentage, not only at the stage's end.
    expect(new Set(counted.map((l) => l.percent)).size, `${stage} percent`).toBeGreaterThan(1);
  }
  return lines;
}

describe('through Temporal', () => {
  let worker: WorkerProcess;
  let client: Client;
  beforeAll(async () => {
    process.env.TEMPORAL_ADDRESS = await ensureTemporal();
    useQueues('progress');
    worker = spawnWorker(process.env.TEMPORAL_ADDRESS);
    await workerReady(worker);
    client = await connectClient();
  });
  afterAll(async () => {
    await worker?.stop();
    await client?.connection.close();
  });

  it('start --wait without a terminal prints a plain line every interval with the count inside the stage', async () => {
    const run = await runCli(['start', ...snasnet, '--seed', '31', '--wait'], {
      env: { ...process.env, ...plainEveryS },
    });
    expect(run.code, run.stderr).toBe(EXIT.ok);
    const lines = expectTrustworthy(run.stderr, [
      ['memory-aware-search', 'full SAHD candidates'],
      ['train-winner', 'training steps'],
    ]);
    expect(lines.filter((l) => l.unit === 'full SAHD candidates').every((l) => l.total === 200)).toBe(true);
    // The worker said nothing about the GPU queue having no workflows, and the AWS SDK nothing at all.
    expect(worker.output()).not.toMatch(/No workflows registered/);
  });

  it('names the queue that has work and no poller, and the command that serves it', async () => {
    // Fresh queues: a CPU worker only, so the first heavy stage waits on a GPU queue nobody polls.
    const queues = useQueues('unpolled');
    const cpuOnly = spawnWorker(process.env.TEMPORAL_ADDRESS as string, {}, ['worker', '--queues', 'cpu']);
    try {
      await workerReady(cpuOnly);
      let workflowId = '';
      const run = await runCli(['start', ...snasnet, '--seed', '32', '--wait', '--timeout', '25s'], {
        onStart: (child) =>
          child.stderr?.on('data', (chunk: Buffer) => {
            workflowId ||= /waiting for (\S+)/.exec(String(chunk))?.[1] ?? '';
          }),
      });
      expect(run.code).toBe(EXIT.timedOut);
      expect(run.stderr).toMatch(
        new RegExp(
          `no worker polls task queue '${queues.gpu}' \\(GPU queue; \\d+ activity tasks? waiting\\)\\. ` +
            'Start one with: npx spikenas worker --queues gpu',
        ),
      );
      expect(run.stderr).not.toContain(`task queue '${queues.cpu}'`);
      expect(cpuOnly.output()).not.toMatch(/No workflows registered/);
      await client.workflow.getHandle(workflowId).terminate('test done');
    } finally {
      await cpuOnly.stop();
    }
  });

  it('names the workflow queue when no worker serves workflows at all', async () => {
    const queues = useQueues('nobody');
    let workflowId = '';
    const run = await runCli(['start', ...snasnet, '--seed', '33', '--wait', '--timeout', '12s'], {
      onStart: (child) =>
        child.stderr?.on('data', (chunk: Buffer) => {
          workflowId ||= /waiting for (\S+)/.exec(String(chunk))?.[1] ?? '';
        }),
    });
    expect(run.code).toBe(EXIT.timedOut);
    expect(run.stderr).toMatch(
      new RegExp(`no worker polls task queue '${queues.cpu}' \\(CPU queue; \\d+ workflow tasks? waiting\\)`),
    );
    await client.workflow.getHandle(workflowId).terminate('test done');
  });
});

describe('in this process', () => {
  it('search without a terminal prints plain lines with counts in every heavy stage, never bar templates', async () => {
    const run = await runCli(
      ['search', '--dataset', 'synthetic', '--budget', '64KiB', '--out', artifacts, '--seed', '34', '--json'],
      { env: { ...process.env, ...plainEveryChange } },
    );
    expect(run.code, run.stderr).toBe(EXIT.ok);
    expect(JSON.parse(run.stdout).winner).toMatch(/^[0-4]{4}( [0-4]{4}){3}$/);
    const lines = expectTrustworthy(run.stderr, [
      ['operation-impact', 'training steps'],
      ['memory-aware-search', 'first-pass candidates'],
      ['train-winner', 'training steps'],
    ]);
    expect(lines.some((l) => l.unit === 'full SAHD candidates')).toBe(true);
  });
});
