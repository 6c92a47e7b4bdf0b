/**
 * The benchmark's Temporal server and worker processes: `spikenas worker` on both queues, each computing
 * on one core (two one-thread processes train the small networks faster than one two-thread process), and
 * none outliving the benchmark.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { temporalConnectConfig } from '../../client/temporal.js';
import { tcpAnswers } from '../../common/net.js';
import { log } from './log.js';
import { CLI, TEMPORAL_SCRIPT } from './paths.js';

/** Each worker process computes on one core (see the header): one heavy step at a time, on one TensorFlow thread. */
export const WORKER_ENV = { SPIKENAS_THREAD_POLICY: '1x1' };

/** Starts the pinned dev server at TEMPORAL_ADDRESS unless something answers there (as cli/embedded.ts). */
export async function ensureTemporal(): Promise<{ address: string; startedDevServer: boolean }> {
  const address = temporalConnectConfig().connectionOptions.address as string;
  const [host = '127.0.0.1', portText = '7233'] = address.split(':');
  if (await tcpAnswers(host, Number(portText))) return { address, startedDevServer: false };
  if (host !== '127.0.0.1' && host !== 'localhost')
    throw new Error(`no Temporal server answers at ${address} (TEMPORAL_ADDRESS)`);
  log(`starting the Temporal dev server on ${address} (it keeps running; bash scripts/temporal.sh stop)`);
  const started = spawnSync('bash', [TEMPORAL_SCRIPT, 'start', portText], { stdio: ['ignore', 2, 2] });
  if (started.status !== 0) throw new Error(`scripts/temporal.sh start ${portText} failed`);
  return { address, startedDevServer: true };
}

export interface WorkerChild {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/**
 * A `spikenas worker` process under a shell guard in a process group of its own: the guard stops the
 * worker when told to, and also when this process is gone (even killed outright), so no worker outlives
 * the benchmark.
 */
export function spawnWorker(index: number, address: string): WorkerChild {
  const guard =
    `trap 'kill -TERM "$w" 2>/dev/null' TERM INT; "$@" & w=$!; ` +
    `while kill -0 "$w" 2>/dev/null && kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ` +
    'kill -TERM "$w" 2>/dev/null; wait "$w"';
  const child = spawn(
    'bash',
    ['-c', guard, 'guard', process.execPath, CLI, 'worker', '--queues', 'cpu,gpu'],
    {
      env: { ...process.env, TEMPORAL_ADDRESS: address, ...WORKER_ENV },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    },
  );
  let output = '';
  const forward = (chunk: Buffer) => {
    output += chunk;
    if (output.length > 200_000) output = output.slice(-100_000);
    for (const line of chunk.toString().split('\n')) if (line.trim()) log(`worker ${index}: ${line}`);
  };
  child.stdout?.on('data', forward);
  child.stderr?.on('data', forward);
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return { child, output: () => output, exited };
}

export async function stopWorkers(workers: WorkerChild[]): Promise<void> {
  await Promise.all(
    workers.map(async ({ child, exited }) => {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      const pid = child.pid;
      const signal = (target: number, name: NodeJS.Signals) => {
        try {
          process.kill(target, name);
        } catch {
          // Gone already.
        }
      };
      // The guard passes SIGTERM on to the worker once (a second one would cut its shutdown short)...
      signal(pid, 'SIGTERM');
      // ...which gives running activities 10 s to finish (shutdownGraceTime) and exits; past that, the
      // whole process group goes.
      const force = setTimeout(() => signal(-pid, 'SIGKILL'), 15_000);
      await exited;
      clearTimeout(force);
    }),
  );
}

export async function workersReady(workers: WorkerChild[]): Promise<void> {
  const deadline = Date.now() + 180_000;
  for (const [i, worker] of workers.entries()) {
    while (!worker.output().includes('spikenas worker:')) {
      if (worker.child.exitCode !== null)
        throw new Error(`worker ${i + 1} exited with ${worker.child.exitCode}`);
      if (Date.now() > deadline) throw new Error(`worker ${i + 1} did not start within 180 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** Rejects, with its last output, when any worker exits while the benchmark still needs it. */
export function anyWorkerDown(workers: WorkerChild[]): Promise<never> {
  const down = Promise.race(
    workers.map((w, i) =>
      w.exited.then((code) => {
        throw new Error(`worker ${i + 1} exited (${code}) during the benchmark:\n${w.output().slice(-4000)}`);
      }),
    ),
  );
  down.catch(() => undefined);
  return down;
}
