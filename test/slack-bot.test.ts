/**
 * The Slack bot end to end: the bot as a real HTTP server, slash commands signed as Slack signs them, a real
 * Temporal dev server and a real worker process, and a local HTTP server standing in for response_url.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { formatSlackResult } from '../activities/notify.js';
import { connectClient, searchRequestOf } from '../cli/temporal.js';
import type { Fleet } from '../config/fleets.js';
import { type BotServer, startBotServer } from '../slack/server.js';
import type { SearchSummary } from '../workflows/types.js';
import {
  postSlashCommand,
  type ReceivedMessage,
  type ResponseUrlServer,
  type SlashCommandFields,
  startResponseUrlServer,
} from './support/slack.js';
import {
  ensureTemporal,
  spawnWorker,
  useQueues,
  type WorkerProcess,
  workerReady,
} from './support/temporal.js';

const FLEET: Omit<Fleet, 'name'> = {
  budget: '1MiB',
  weightBits: 8,
  dataset: 'synthetic',
  profile: 'quick',
  cron: '0 2 * * *',
  timezone: 'UTC',
  seed: 3,
};
const fleetName = `slack-test-${process.pid}`;
const ALLOWED = { team_id: 'T0TEST', channel_id: 'C0TEST', user_id: 'U0TEST' };
// A whole quick search on synthetic data, on a shared 2-core machine.
const SEARCH_TIMEOUT_MS = 20 * 60_000;

let bot: BotServer;
let slack: ResponseUrlServer;
let worker: WorkerProcess;
let client: Client;
let cpuQueue: string;

beforeAll(async () => {
  const address = await ensureTemporal();
  process.env.TEMPORAL_ADDRESS = address;
  cpuQueue = useQueues('slack').cpu;
  const dir = mkdtempSync(join(tmpdir(), 'spikenas-slack-'));
  writeFileSync(join(dir, 'fleets.yaml'), stringify({ fleets: [{ name: fleetName, ...FLEET }] }));
  Object.assign(process.env, {
    SLACK_SIGNING_SECRET: 'spikenas-test-signing-secret',
    SPIKENAS_FLEETS: join(dir, 'fleets.yaml'),
    SPIKENAS_ARTIFACTS: join(dir, 'artifacts'),
    SPIKENAS_SLACK_ALLOWED_TEAMS: ALLOWED.team_id,
    SPIKENAS_SLACK_ALLOWED_CHANNELS: ALLOWED.channel_id,
    SPIKENAS_SLACK_ALLOWED_USERS: `${ALLOWED.user_id},U0SECOND`,
  });
  slack = await startResponseUrlServer();
  bot = await startBotServer({ port: 0, host: '127.0.0.1' });
  client = await connectClient();
  worker = spawnWorker(address);
  await workerReady(worker);
});

afterAll(async () => {
  // A search the test left running (a failed assertion) would wait for this file's queues forever.
  for (const id of client ? await searchesOnQueue() : []) {
    await client.workflow
      .getHandle(id)
      .terminate('slack-bot test cleanup')
      .catch(() => undefined);
  }
  await worker?.stop();
  await bot?.stop();
  await slack?.close();
  await client?.connection.close();
});

/** Sends `/spikenas <text>` from an allowed caller unless fields say otherwise; replies go to /<path>. */
function command(text: string, path: string, fields: Partial<SlashCommandFields> = {}) {
  return postSlashCommand(bot.url, { ...ALLOWED, text, response_url: `${slack.url}/${path}`, ...fields });
}

async function ackBody(response: Response): Promise<{ response_type?: string; text?: string }> {
  expect(response.status).toBe(200);
  const text = await response.text();
  return text === '' ? {} : JSON.parse(text);
}

async function searchesOnQueue(): Promise<string[]> {
  const ids: string[] = [];
  for await (const execution of client.workflow.list({ query: `TaskQueue = '${cpuQueue}'` })) {
    ids.push(execution.workflowId);
  }
  return ids;
}

/** Fails fast, with the worker's log, if the worker process dies while a test waits for it. */
function whileWorkerRuns<T>(waiting: Promise<T>): Promise<T> {
  const died = worker.exited.then((code) => {
    throw new Error(`worker exited (${code}) while waiting:\n${worker.output().slice(-4000)}`);
  });
  return Promise.race([waiting, died]);
}

const idIn = (message: ReceivedMessage) =>
  /`(spikenas-[^`]+)`/.exec(String(message.body.text))?.[1] as string;

describe('requests that must start nothing', () => {
  it('answers help to anyone, as an ephemeral ack', async () => {
    const body = await ackBody(await command('help', 'help', { user_id: 'U0STRANGER', team_id: 'T0OTHER' }));
    expect(body.response_type).toBe('ephemeral');
    expect(body.text).toContain('/spikenas search fleet=<name>');
  });

  it('rejects a bad signature with 401', async () => {
    const response = await postSlashCommand(
      bot.url,
      { ...ALLOWED, text: `search fleet=${fleetName}`, response_url: `${slack.url}/forged` },
      { secret: 'not-the-signing-secret' },
    );
    expect(response.status).toBe(401);
  });

  it('rejects a correctly signed request replayed after more than 5 minutes with 401', async () => {
    const sixMinutesAgo = Math.floor(Date.now() / 1000) - 6 * 60;
    const response = await postSlashCommand(
      bot.url,
      { ...ALLOWED, text: `search fleet=${fleetName}`, response_url: `${slack.url}/replayed` },
      { timestampSec: sixMinutesAgo },
    );
    expect(response.status).toBe(401);
  });

  it.each([
    ['user', { user_id: 'U0STRANGER' }, 'U0STRANGER'],
    ['channel', { channel_id: 'C0ELSEWHERE' }, 'C0ELSEWHERE'],
    ['workspace', { team_id: 'T0OTHER' }, 'T0OTHER'],
  ])('refuses an unauthorised %s ephemerally', async (_what, fields, id) => {
    for (const text of [`search fleet=${fleetName}`, 'cancel spikenas-anything']) {
      const body = await ackBody(await command(text, 'refused', fields));
      expect(body.response_type).toBe('ephemeral');
      expect(body.text).toContain(id);
    }
  });

  it.each([
    ['search', 'fleet'],
    ['search fleet=', 'fleet'],
    ['search fleet=no-such-fleet', 'no-such-fleet'],
    [`search fleet=${fleetName} budget=lots`, 'budget'],
    [`search fleet=${fleetName} dataset=`, 'dataset'],
    [`search fleet=${fleetName} seed=1`, 'seed=1'],
    ['launch', 'launch'],
  ])('answers %j with the usage message', async (text, named) => {
    const body = await ackBody(await command(text, 'malformed'));
    expect(body.response_type).toBe('ephemeral');
    expect(body.text).toContain(named);
    expect(body.text).toContain('*Usage*');
  });

  it('posted nothing to the response_url of any refused request', () => {
    const refusedPaths = ['/help', '/forged', '/replayed', '/refused', '/malformed'];
    expect(slack.received.filter((m) => refusedPaths.includes(m.path))).toEqual([]);
  });
});

describe('a search started from Slack', () => {
  let workflowId: string;

  it('acks, starts the workflow on the server and answers with its ID', async () => {
    const body = await ackBody(await command(`search fleet=${fleetName}`, 'search'));
    expect(body).toEqual({});
    const started = await slack.waitFor((m) => m.path === '/search' && m.body.response_type === 'ephemeral');
    workflowId = idIn(started);
    expect(workflowId.startsWith(`spikenas-${fleetName}-`)).toBe(true);

    const request = await searchRequestOf(client, workflowId);
    expect(request).toMatchObject({
      fleet: fleetName,
      budget: FLEET.budget,
      dataset: FLEET.dataset,
      weightBits: FLEET.weightBits,
      mode: 'spikenas',
      notify: { slackResponseUrl: `${slack.url}/search` },
    });

    // Visibility lags a little behind the start; once this search is listed, the refused ones would be too.
    let ids: string[] = [];
    for (let attempt = 0; attempt < 100 && ids.length === 0; attempt += 1) {
      ids = await searchesOnQueue();
      if (ids.length === 0) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(ids).toEqual([workflowId]);
  });

  it('finds the same search on a second trigger the same day', async () => {
    await ackBody(await command(`search fleet=${fleetName}`, 'again'));
    const answer = await slack.waitFor((m) => m.path === '/again');
    expect(idIn(answer)).toBe(workflowId);
    expect(answer.body.text).toContain('already has');
    expect(await searchesOnQueue()).toEqual([workflowId]);
  });

  it('reports status to the caller only', async () => {
    await ackBody(await command(`status ${workflowId}`, 'status'));
    const answer = await slack.waitFor((m) => m.path === '/status');
    expect(answer.body.response_type).toBe('ephemeral');
    expect(JSON.stringify(answer.body)).toContain(workflowId);
  });

  it(
    'posts the result in the channel through the notify activity',
    async () => {
      const result = await whileWorkerRuns(
        slack.waitFor(
          (m) => m.path === '/search' && m.body.response_type === 'in_channel',
          SEARCH_TIMEOUT_MS,
        ),
      );
      const summary = (await client.workflow.getHandle(workflowId).result()) as SearchSummary;
      expect(summary.workflowId).toBe(workflowId);
      expect(result.body).toEqual(JSON.parse(JSON.stringify(formatSlackResult(summary))));
    },
    SEARCH_TIMEOUT_MS + 60_000,
  );

  it('says there is nothing to cancel once the search has ended', async () => {
    await ackBody(await command(`cancel ${workflowId}`, 'cancel-ended'));
    const answer = await slack.waitFor((m) => m.path === '/cancel-ended');
    expect(answer.body.text).toContain('No running search');
  });

  it('answers status for an unknown ID', async () => {
    await ackBody(await command('status spikenas-never-started', 'status-unknown'));
    const answer = await slack.waitFor((m) => m.path === '/status-unknown');
    expect(answer.body.text).toContain('No search has ID');
  });
});

describe('cancelling from Slack', () => {
  it('cancels a running search and posts that it did not finish', async () => {
    // An override of the fleet's budget is a separate search with a fresh ID.
    await ackBody(await command(`search fleet=${fleetName} budget=2MiB`, 'to-cancel'));
    const started = await slack.waitFor(
      (m) => m.path === '/to-cancel' && m.body.response_type === 'ephemeral',
    );
    const workflowId = idIn(started);
    expect(workflowId.startsWith(`spikenas-${fleetName}-`)).toBe(false);

    await ackBody(await command(`cancel ${workflowId}`, 'cancel', { user_id: 'U0SECOND' }));
    const answer = await slack.waitFor((m) => m.path === '/cancel');
    expect(answer.body.text).toContain(`Cancellation of \`${workflowId}\` requested by <@U0SECOND>`);

    const notice = await slack.waitFor(
      (m) => m.path === '/to-cancel' && m.body.response_type === 'in_channel',
    );
    expect(String(notice.body.text)).toContain(workflowId);
    expect(String(notice.body.text)).toMatch(/cancel/i);
    // The notice is the workflow's last step; its end follows.
    const handle = client.workflow.getHandle(workflowId);
    await expect(handle.result()).rejects.toThrow();
    expect((await handle.describe()).status.name).toBe('CANCELLED');
  });
});
