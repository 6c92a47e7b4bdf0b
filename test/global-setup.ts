/**
 * Starts the servers the tests talk to, once per test run, and stops them when the run ends: a Temporal dev
 * server and an S3-compatible server (moto), each on a free port of its own and each with throwaway state.
 * A user's own dev server (`npm start`, port 7233) and its workflows are never touched, and nothing the
 * tests started keeps running afterwards. Two test runs at once (several people share a checkout) do not
 * meet either.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { answers, ROOT } from './support/temporal.js';

const STATE = process.env.SPIKENAS_STATE_DIR ?? `${ROOT}.spikenas`;

export default async function setup(): Promise<() => Promise<void>> {
  // Binaries only: scripts/setup.sh (run by `npm test`) has built them already, so these return at once.
  execFileSync('bash', [`${ROOT}scripts/temporal.sh`, 'install'], { stdio: ['ignore', 'ignore', 'inherit'] });
  execFileSync('bash', [`${ROOT}scripts/s3-server.sh`, 'install'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const state = mkdtempSync(join(tmpdir(), 'spikenas-test-servers-'));
  const started: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(started.map(stopProcess));
    rmSync(state, { recursive: true, force: true });
  };
  try {
    const temporalPort = await freePort();
    started.push(
      guarded(`${STATE}/bin/temporal`, [
        ...['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(temporalPort), '--headless'],
        ...['--db-filename', join(state, 'temporal.db'), '--log-level', 'warn'],
      ]),
    );
    const s3Port = await freePort();
    started.push(guarded(`${STATE}/venv/bin/moto_server`, ['-H', '127.0.0.1', '-p', String(s3Port)]));
    const temporal = `127.0.0.1:${temporalPort}`;
    await until(() => answers(temporal), `the test Temporal server on ${temporal}`, started[0]);
    await until(() => answers(`127.0.0.1:${s3Port}`), `moto on port ${s3Port}`, started[1]);
    // Test files (forked after this) and the CLI and worker processes they spawn inherit these.
    process.env.TEMPORAL_ADDRESS = temporal;
    process.env.TEMPORAL_NAMESPACE = 'default';
    process.env.SPIKENAS_TEST_S3_ENDPOINT = `http://127.0.0.1:${s3Port}`;
  } catch (error) {
    await stop();
    throw error;
  }
  return stop;
}

/**
 * Runs a server under a small shell guard that stops it when told to (SIGTERM) and also when this test
 * run's process is gone: a run killed outright (SIGKILL, a CI timeout) never tears down, and its servers
 * would otherwise keep running with no owner.
 */
function guarded(command: string, args: string[]): ChildProcess {
  const guard =
    `trap 'kill "$server" 2>/dev/null' TERM INT; "$@" & server=$!; ` +
    `while kill -0 "$server" 2>/dev/null && kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ` +
    'kill "$server" 2>/dev/null; wait "$server"';
  return spawn('bash', ['-c', guard, 'guard', command, ...args], { stdio: 'ignore' });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function until(check: () => Promise<boolean>, what: string, child: ChildProcess | undefined) {
  for (let i = 0; i < 240; i++) {
    if (await check()) return;
    if (child?.exitCode !== null) throw new Error(`${what} exited with code ${child?.exitCode}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not answer within 60 s`);
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
