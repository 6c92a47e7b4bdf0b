/**
 * What the README says keeps running after `npm start` (`spikenas run`): the Temporal dev server it started,
 * and nothing else; and `bash scripts/temporal.sh stop` stops that. Run on a port of its own, on synthetic
 * data, as a child process. On the way it says nothing about queues without a worker: it runs its own.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { EXIT } from '../cli/exit-codes.js';
import { answers, CLI, ROOT } from './support/temporal.js';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Command lines of this machine's processes that mention `text`. */
function processesWith(text: string): string[] {
  return execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.includes(text) && !line.startsWith('ps '));
}

it('leaves only the dev server running, which temporal.sh stop stops', async () => {
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const out = mkdtempSync(join(tmpdir(), 'spikenas-npm-start-'));
  try {
    const run = spawnSync(process.execPath, [CLI, 'run', '--dataset', 'synthetic', '--out', out], {
      cwd: ROOT,
      env: { ...process.env, TEMPORAL_ADDRESS: address },
      encoding: 'utf8',
    });
    expect(run.status, run.stderr).toBe(EXIT.ok);
    expect(run.stderr).toContain(`starting the Temporal dev server on ${address}`);
    // Its own worker serves both queues: no notice that nobody polls them while that worker starts.
    expect(run.stderr).not.toContain('no worker polls task queue');
    // The README's account: the dev server answers still, and no worker or CLI of the run is left.
    expect(await answers(address)).toBe(true);
    expect(processesWith(out)).toEqual([]);
    expect(processesWith(`--port ${port} `)).toHaveLength(1);
  } finally {
    execFileSync('bash', [`${ROOT}scripts/temporal.sh`, 'stop', String(port)]);
    rmSync(out, { recursive: true, force: true });
  }
  for (let i = 0; i < 60 && (await answers(address)); i++) await new Promise((r) => setTimeout(r, 500));
  expect(await answers(address)).toBe(false);
  expect(processesWith(`--port ${port} `)).toEqual([]);
  for (const file of [`dev-${port}.db`, `server-${port}.log`])
    rmSync(join(ROOT, '.spikenas', 'temporal', file), { force: true });
});
