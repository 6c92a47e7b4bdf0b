/**
 * Fleets file validation, and `schedule sync` against a real Temporal server: exactly one schedule per
 * fleet, idempotent, updates on change, deletes what the file no longer lists.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../cli/exit-codes.js';
import { listSchedules, scheduleIdOf, syncSchedules } from '../cli/schedules.js';
import { connectClient } from '../client/temporal.js';
import { type Fleet, loadFleets, parseFleets } from '../config/fleets.js';
import type { SearchRequest } from '../contract/request.js';
import { CLI, ensureTemporal, useQueues } from './support/temporal.js';

const fleet = (name: string, extra: Partial<Fleet> = {}) => ({
  name,
  budget: '64KiB',
  weightBits: 8,
  dataset: 'fashion-mnist',
  profile: 'quick',
  cron: '0 2 * * *',
  timezone: 'Europe/Berlin',
  ...extra,
});

describe('fleets file', () => {
  it('reads the repository example', async () => {
    const fleets = await loadFleets('fleets.yaml');
    expect(fleets.length).toBeGreaterThan(0);
    for (const f of fleets) expect(f.cron.split(' ')).toHaveLength(5);
  });

  it.each([
    [{ fleets: [fleet('a', { budget: 'huge' })] }, /fleets\[0\]\.budget/],
    [{ fleets: [fleet('a', { weightBits: [12 as 8] })] }, /fleets\[0\]\.weightBits.*32, 8, 6, 4/],
    [{ fleets: [fleet('a', { timezone: 'Mars/Olympus' })] }, /fleets\[0\]\.timezone.*Mars\/Olympus/],
    [{ fleets: [fleet('a', { cron: 'nightly' })] }, /fleets\[0\]\.cron.*5 fields/],
    [{ fleets: [fleet('a'), fleet('a')] }, /fleets\[1\]\.name.*twice/],
    [{ fleets: [fleet('Drone A')] }, /fleets\[0\]\.name/],
    [
      { fleets: [fleet('a', { slackChannel: '#robots' })] },
      /fleets\[0\]\.slackChannel.*channel ID.*C0123ABCD/,
    ],
    [{ fleets: [] }, /fleets/],
    [{ fleet: [fleet('a')] }, /fleet/],
  ])('rejects %j naming the field', (document, message) => {
    expect(() => parseFleets(document, 'fleets.yaml')).toThrow(message);
  });

  it('stops `schedule sync` on a bad slackChannel before it talks to Temporal, naming the field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spikenas-fleets-'));
    const file = join(dir, 'fleets.yaml');
    writeFileSync(file, JSON.stringify({ fleets: [fleet('a'), fleet('b', { slackChannel: 'robots' })] }));
    const sync = spawnSync(process.execPath, [CLI, 'schedule', 'sync', '--fleets', file], {
      encoding: 'utf8',
      // Nothing answers here: the file must be refused before any connection is tried.
      env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:9' },
    });
    expect(sync.status).toBe(EXIT.invalidInput);
    expect(sync.stderr).toContain(`${file}: fleets[1].slackChannel: must be a Slack channel ID`);
    expect(sync.stderr).toContain('allowed: a Slack channel ID such as C0123ABCD');
  });

  it('fills defaults', () => {
    const [f] = parseFleets({ fleets: [{ name: 'x', budget: '1MiB', dataset: 'mnist', cron: '0 1 * * *' }] });
    expect(f).toMatchObject({ weightBits: [8, 6, 4], profile: 'quick', timezone: 'UTC', seed: 1 });
  });
});

describe('schedule sync on a real server', () => {
  let client: Client;
  const dir = mkdtempSync(join(tmpdir(), 'spikenas-fleets-'));
  const file = join(dir, 'fleets.yaml');
  const options = { artifacts: join(dir, 'artifacts'), shards: 2 };
  const write = (fleets: object[]) => writeFileSync(file, JSON.stringify({ fleets }));

  beforeAll(async () => {
    process.env.TEMPORAL_ADDRESS = await ensureTemporal();
    useQueues('schedules');
    client = await connectClient();
    await syncSchedules(client, [], options).catch(() => undefined);
  });

  afterAll(async () => {
    // An empty file is not valid, so clean up by syncing the empty list directly.
    await syncSchedules(client, [], options);
    await client.connection.close();
  });

  it('creates one schedule per fleet, then changes nothing on a second sync', async () => {
    write([fleet('drone-alpha'), fleet('rover-beta', { cron: '30 3 * * *', timezone: 'America/Chicago' })]);
    const first = await syncSchedules(client, await loadFleets(file), options);
    expect(first.created.sort()).toEqual([scheduleIdOf('drone-alpha'), scheduleIdOf('rover-beta')]);
    const second = await syncSchedules(client, await loadFleets(file), options);
    expect(second).toEqual({ created: [], updated: [], deleted: [], unchanged: first.created.sort() });

    // The list comes from the server's visibility store, which catches up within moments.
    let rows = await listSchedules(client);
    for (let tries = 0; rows.length < 2 && tries < 40; tries++) {
      await new Promise((r) => setTimeout(r, 250));
      rows = await listSchedules(client);
    }
    expect(rows.map((r) => r.fleet)).toEqual(['drone-alpha', 'rover-beta']);
    const rover = rows.find((r) => r.fleet === 'rover-beta');
    expect(rover?.cron).toBe('30 3 * * *');
    expect(rover?.timezone).toBe('America/Chicago');
    expect(rover?.nextRuns[0]?.getTime()).toBeGreaterThan(Date.now());
    // 03:30 in Chicago is 08:30 or 09:30 UTC depending on daylight saving time.
    expect([8, 9]).toContain(rover?.nextRuns[0]?.getUTCHours());
  });

  it('updates a changed fleet and deletes a removed one', async () => {
    write([fleet('drone-alpha', { budget: '128KiB' })]);
    const report = await syncSchedules(client, await loadFleets(file), options);
    expect(report).toEqual({
      created: [],
      updated: [scheduleIdOf('drone-alpha')],
      deleted: [scheduleIdOf('rover-beta')],
      unchanged: [],
    });
    const description = await client.schedule.getHandle(scheduleIdOf('drone-alpha')).describe();
    const action = description.action as { args?: { budget: string }[] };
    expect(action.args?.[0]?.budget).toBe('128KiB');
  });

  it("gives a fleet's Slack channel to its nightly searches", async () => {
    write([fleet('drone-alpha', { budget: '128KiB', slackChannel: 'C0ROBOTS' })]);
    const report = await syncSchedules(client, await loadFleets(file), options);
    expect(report.updated).toEqual([scheduleIdOf('drone-alpha')]);
    const description = await client.schedule.getHandle(scheduleIdOf('drone-alpha')).describe();
    const action = description.action as { args?: SearchRequest[] };
    expect(action.args?.[0]?.notify).toEqual({ slackChannel: 'C0ROBOTS' });
  });
});
