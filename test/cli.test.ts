/**
 * The CLI as a user and a CI job run it: a child process (`node dist/cli/main.js …`) against the real
 * Temporal server and a real worker process, checking output and every exit code.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../cli/exit-codes.js';
import { connectClient } from '../client/temporal.js';
import { parseArch } from '../search/space/arch.js';
import { estimateMemory } from '../search/space/memory.js';
import { resolvePreset } from '../snn/presets.js';
import { runCli } from './support/cli.js';
import {
  ensureTemporal,
  spawnWorker,
  useQueues,
  type WorkerProcess,
  workerReady,
} from './support/temporal.js';

const artifacts = mkdtempSync(join(tmpdir(), 'spikenas-cli-'));
let worker: WorkerProcess;

const cli = (args: string[], onStart?: (child: ChildProcess) => void) => runCli(args, { onStart });

describe('in-process commands', () => {
  it('inspect prints the memory model of a matrix as JSON', async () => {
    const arch = '0302 0030 3003 0000';
    const run = await cli([
      'inspect',
      '--arch',
      arch,
      '--config',
      'fmnist-tiny',
      '--weight-bits',
      '8',
      '--json',
    ]);
    expect(run.code).toBe(EXIT.ok);
    const printed = JSON.parse(run.stdout);
    const expected = estimateMemory(parseArch(arch, 'backward'), resolvePreset('fmnist-tiny'), {
      weightBits: 8,
    });
    expect(printed).toMatchObject({
      params: expected.params,
      weightBytes: expected.weightBytes,
      valid: true,
    });
    expect(printed.stateBytes).toBe(expected.stateBytes);
    expect(typeof printed.canonical).toBe('string');
  });

  it('inspect reads a config file', async () => {
    const file = join(artifacts, 'net.json');
    writeFileSync(file, JSON.stringify({ ...resolvePreset('fmnist-tiny'), stemChannels: 4 }));
    const run = await cli(['inspect', '--arch', '0001 0000 0000 0000', '--config', file, '--json']);
    expect(run.code).toBe(EXIT.ok);
    expect(JSON.parse(run.stdout).params).toBeLessThan(
      estimateMemory(parseArch('0001 0000 0000 0000', 'backward'), resolvePreset('fmnist-tiny'), {
        weightBits: 32,
      }).params,
    );
  });

  it.each([
    [['inspect', '--arch', '0302 0030', '--json'], /arch/],
    [['inspect', '--arch', '0302 0030 3003 0000', '--weight-bits', '12'], /weightBits.*32, 8, 6, 4/],
    [['inspect', '--arch', '0302 0030 3003 0000', '--config', 'cifar-giant'], /config.*snasnet-cifar10/],
    [['search', '--budget', '12 parsecs'], /budget.*KiB/],
    [['search', '--budget', '64KiB', '--dataset', 'imagenet-xxl'], /dataset.*fashion-mnist/],
    [['search', '--budget', '64KiB', '--mode', 'fastest'], /mode.*spikenas/],
    [['search', '--budget', '64KiB', '--ram-budget', 'lots'], /ramBudget.*KiB/],
    [['start', '--budget', '64KiB', '--shards', '0'], /shards/],
  ])('%j exits with the invalid-input code and names the field', async (args, message) => {
    const run = await cli(args);
    expect(run.code).toBe(EXIT.invalidInput);
    expect(run.stderr).toMatch(message);
  });

  it('train trains one architecture and stores its weights in tfjs format', async () => {
    const arch = '0301 0013 0003 0000';
    const args = ['train', '--arch', arch, '--dataset', 'synthetic', '--epochs', '1', '--max-steps', '10'];
    const run = await cli([...args, '--out', artifacts, '--json']);
    expect(run.code).toBe(EXIT.ok);
    const result = JSON.parse(run.stdout);
    expect(result.testAccuracy).toBeGreaterThanOrEqual(0);
    expect(result.testAccuracy).toBeLessThanOrEqual(1);
    const modelJson = JSON.parse(readFileSync(fileURLToPath(result.weights), 'utf8'));
    expect(modelJson.weightsManifest[0].paths).toEqual(['weights.bin']);
    expect(modelJson.modelTopology.spikenas.arch).toBe(result.arch);
    const bad = await cli(['train', '--arch', '0300 0000 0000 0000', '--dataset', 'synthetic']);
    expect(bad.code).toBe(EXIT.invalidInput);
    expect(bad.stderr).toMatch(/arch/);
  });

  it('prints help for every command', async () => {
    for (const command of [
      'inspect',
      'search',
      'train',
      'start',
      'status',
      'resume',
      'cancel',
      'list',
      'worker',
      'bot',
      'run',
    ]) {
      const run = await cli([command, '--help']);
      expect(run.code).toBe(EXIT.ok);
      expect(run.stdout).toMatch(/Usage: spikenas/);
    }
  });
});

describe('start --wait --json against Temporal', () => {
  beforeAll(async () => {
    process.env.TEMPORAL_ADDRESS = await ensureTemporal();
    useQueues('cli');
    worker = spawnWorker(process.env.TEMPORAL_ADDRESS);
    await workerReady(worker);
  });

  afterAll(async () => {
    await worker?.stop();
  });

  const search = ['start', '--dataset', 'synthetic', '--out', artifacts, '--wait', '--json'];

  it('exits 0 with one JSON object holding the winner', async () => {
    const run = await cli([...search, '--mode', 'snasnet', '--seed', '21']);
    expect(run.code).toBe(EXIT.ok);
    const result = JSON.parse(run.stdout);
    expect(result.status).toBe('COMPLETED');
    expect(result.winner).toMatch(/^[0-4]{4}( [0-4]{4}){3}$/);
    expect(result.artifacts.report).toMatch(/^file:\/\/.*report\.md$/);
    expect(typeof result.accuracy).toBe('number');
    // status and list know the search too.
    const status = JSON.parse((await cli(['status', result.workflowId, '--json'])).stdout);
    expect(status.status).toBe('COMPLETED');
    // A completed search answers from its result, without a progress query that replays its history.
    expect(status.summary.winner).toBe(result.winner);
    expect(status.progress).toBeNull();
    const list = await cli(['list', '--json']);
    expect(JSON.parse(list.stdout).map((r: { workflowId: string }) => r.workflowId)).toContain(
      result.workflowId,
    );
  });

  it('exits 3 when no candidate can fit the budget', async () => {
    const run = await cli([...search, '--budget', '1KiB']);
    expect(run.code).toBe(EXIT.infeasibleBudget);
    expect(JSON.parse(run.stdout).error).toMatch(/admits no candidate/);
  });

  it('exits 4 when the search fails', async () => {
    const notAFolder = join(artifacts, 'plain-file');
    writeFileSync(notAFolder, 'x');
    const run = await cli([...search, '--mode', 'snasnet', '--out', join(notAFolder, 'store')]);
    expect(run.code).toBe(EXIT.searchFailed);
    expect(JSON.parse(run.stdout).status).toBe('FAILED');
  });

  it('exits 5 when the search is cancelled', async () => {
    let workflowId = '';
    const run = await cli([...search, '--budget', '64KiB', '--seed', '22'], (child) => {
      child.stderr?.on('data', async (chunk: Buffer) => {
        const match = /waiting for (\S+)/.exec(String(chunk));
        if (match && !workflowId) {
          workflowId = match[1] as string;
          await cli(['cancel', workflowId]);
        }
      });
    });
    expect(run.code).toBe(EXIT.cancelled);
    expect(JSON.parse(run.stdout).status).toBe('CANCELLED');
  });

  it('exits 6 when --timeout runs out, and the search goes on', async () => {
    const run = await cli([...search, '--budget', '64KiB', '--seed', '23', '--timeout', '2s']);
    expect(run.code).toBe(EXIT.timedOut);
    const { workflowId, status } = JSON.parse(run.stdout);
    expect(status).toBe('RUNNING');
    const client = await connectClient();
    const description = await client.workflow.getHandle(workflowId).describe();
    expect(description.status.name).toBe('RUNNING');
    await client.workflow.getHandle(workflowId).cancel();
    await client.connection.close();
  });
});
