/**
 * `npm test` leaves nothing running: a nested test run (the real global setup, one probe file) gets a
 * Temporal server and an S3-compatible server of its own, neither the user's dev server on 7233 nor this
 * run's, and both stop answering once that run has ended, even when it was killed outright.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { answers, ROOT } from './support/temporal.js';

it('starts servers of its own and stops them when it ends', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'spikenas-servers-')), 'probe.json');
  const nested = spawnSync(
    process.execPath,
    [`${ROOT}node_modules/vitest/vitest.mjs`, 'run', '--config', 'test/fixtures/servers/vitest.config.ts'],
    { cwd: ROOT, env: { ...process.env, SPIKENAS_PROBE_OUT: out }, encoding: 'utf8' },
  );
  expect(nested.status, nested.stdout + nested.stderr).toBe(0);
  const seen = JSON.parse(readFileSync(out, 'utf8')) as { temporal: string; s3: string };
  expect(seen.temporal).not.toBe('127.0.0.1:7233');
  expect(seen.temporal).not.toBe(process.env.TEMPORAL_ADDRESS);
  expect(seen.s3).not.toBe(process.env.SPIKENAS_TEST_S3_ENDPOINT);
  expect(await answers(seen.temporal)).toBe(false);
  expect(await answers(seen.s3.replace('http://', ''))).toBe(false);
});

/** Waits until `check` holds, up to `tries` half-second steps. */
async function eventually(check: () => Promise<boolean> | boolean, tries: number): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 500));
  }
  return check();
}

it('stops them too when the test run is killed with SIGKILL and cannot tear down', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'spikenas-servers-')), 'probe.json');
  const nested = spawn(
    process.execPath,
    [`${ROOT}node_modules/vitest/vitest.mjs`, 'run', '--config', 'test/fixtures/servers/vitest.config.ts'],
    {
      cwd: ROOT,
      env: { ...process.env, SPIKENAS_PROBE_OUT: out, SPIKENAS_PROBE_HOLD: '1' },
      stdio: 'ignore',
    },
  );
  const exited = new Promise((resolve) => nested.once('exit', resolve));
  expect(await eventually(() => existsSync(out), 240)).toBe(true);
  const seen = JSON.parse(readFileSync(out, 'utf8')) as { temporal: string; s3: string };
  expect(await answers(seen.temporal)).toBe(true);
  nested.kill('SIGKILL');
  await exited;
  // The guards notice within a second or two; the servers then shut down.
  expect(await eventually(async () => !(await answers(seen.temporal)), 60)).toBe(true);
  expect(await eventually(async () => !(await answers(seen.s3.replace('http://', ''))), 60)).toBe(true);
});
