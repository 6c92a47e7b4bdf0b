/**
 * Real Temporal for tests: the pinned dev server (scripts/temporal.sh) and worker processes running the
 * built CLI (`node dist/cli/main.js worker`), each test file on task queues of its own.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { tcpAnswers } from '../../common/net.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT = `${ROOT}scripts/temporal.sh`;
export const CLI = `${ROOT}dist/cli/main.js`;
const TEMPORAL_CLI = `${ROOT}.spikenas/bin/temporal`;

export function answers(address: string): Promise<boolean> {
  const [host = '127.0.0.1', port = '7233'] = address.split(':');
  return tcpAnswers(host, Number(port));
}

/** Starts the dev server on a port (SQLite file .spikenas/temporal/dev-PORT.db) unless one answers there. */
export function startDevServer(port: number): string {
  execFileSync('bash', [SCRIPT, 'start', String(port)], { stdio: ['ignore', 'ignore', 'inherit'] });
  return `127.0.0.1:${port}`;
}

export function stopDevServer(port: number): void {
  execFileSync('bash', [SCRIPT, 'stop', String(port)], { stdio: 'inherit' });
}

/** The test run's own server, started by the global setup (test/global-setup.ts) on a free port. */
export async function ensureTemporal(): Promise<string> {
  const address = process.env.TEMPORAL_ADDRESS;
  if (address === undefined || !(await answers(address)))
    throw new Error(
      `the test Temporal server (TEMPORAL_ADDRESS=${address}) does not answer; see test/global-setup.ts`,
    );
  return address;
}

/** Task queues of one test file, set in this process's env so the client and the workers agree. */
export function useQueues(name: string): { cpu: string; gpu: string } {
  const queues = { cpu: `test-${name}-cpu-${process.pid}`, gpu: `test-${name}-gpu-${process.pid}` };
  process.env.SPIKENAS_CPU_TASK_QUEUE = queues.cpu;
  process.env.SPIKENAS_GPU_TASK_QUEUE = queues.gpu;
  return queues;
}

export interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the exit code or signal when the process ends. */
  exited: Promise<number | string | null>;
  stop: (signal?: NodeJS.Signals) => Promise<number | string | null>;
}

/** A worker in its own process, as a user runs it: `spikenas worker`. */
export function spawnWorker(
  address: string,
  env: Record<string, string> = {},
  args = ['worker'],
): WorkerProcess {
  let output = '';
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, TEMPORAL_ADDRESS: address, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number | string | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal)),
  );
  return {
    child,
    output: () => output,
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Waits until the worker logged that it polls its queues. */
export async function workerReady(worker: WorkerProcess, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!worker.output().includes('spikenas worker:')) {
    if (worker.child.exitCode !== null) throw new Error(`worker exited early:\n${worker.output()}`);
    if (Date.now() > deadline) throw new Error(`worker not ready:\n${worker.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Creates a namespace on the dev server (with the pinned Temporal CLI) unless it exists, and waits until the
 * frontend serves it. For a test file whose state is global to a namespace: `schedule sync` keeps exactly
 * the file's fleets there, so two files syncing fleets in one namespace would delete each other's schedules.
 */
export async function ensureNamespace(client: Client, address: string, namespace: string): Promise<void> {
  try {
    execFileSync(
      TEMPORAL_CLI,
      ['operator', 'namespace', 'create', '--address', address, '--namespace', namespace],
      {
        stdio: 'pipe',
      },
    );
  } catch (error) {
    if (!String((error as { stderr?: Buffer }).stderr).includes('already')) throw error;
  }
  // The frontend learns of a new namespace at its next namespace-cache refresh.
  const GRPC_NOT_FOUND = 5;
  for (;;) {
    try {
      await client.workflowService.listSchedules({ namespace, maximumPageSize: 1 });
      return;
    } catch (error) {
      if ((error as { code?: number }).code !== GRPC_NOT_FOUND) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}
