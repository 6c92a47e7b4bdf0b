/**
 * The Slack bot end to end: the bot as a real HTTP server, slash commands signed as Slack signs them, a real
 * Temporal dev server and a real worker process, a local HTTP server standing in for response_url and one
 * playing Slack's Web API (SLACK_API_URL) for the announcements and the results posted in their threads.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { openStore } from '../artifacts/index.js';
import { RUN_FILES, RunArtifacts } from '../artifacts/run.js';
import { connectClient, searchRequestOf } from '../client/temporal.js';
import type { Fleet } from '../config/fleets.js';
import type { WinnerRecord } from '../contract/run-records.js';
import type { SearchSummary } from '../contract/summary.js';
import type { FleetSearch } from '../reports/fleet-history.js';
import { type BotServer, startBotServer } from '../slack/server.js';
import {
  postSlashCommand,
  type ReceivedMessage,
  type ResponseUrlServer,
  type SlackApiCall,
  type SlackApiServer,
  type SlashCommandFields,
  startResponseUrlServer,
  startSlackApiServer,
} from './support/slack.js';
import {
  CLI,
  ensureTemporal,
  spawnWorker,
  useQueues,
  type WorkerProcess,
  workerReady,
} from './support/temporal.js';

const FLEET: Omit<Fleet, 'name'> = {
  budget: '1MiB',
  weightBits: [8],
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
let slackApi: SlackApiServer;
let artifacts: string;
let worker: WorkerProcess;
let client: Client;
let cpuQueue: string;

/** The search as `spikenas history --json` lists it from the local artifact folder. */
async function listedInHistory(id: string): Promise<FleetSearch | undefined> {
  const { stdout } = await promisify(execFile)(process.execPath, [
    CLI,
    'history',
    '--fleet',
    fleetName,
    '--out',
    artifacts,
    '--json',
  ]);
  return (JSON.parse(stdout) as FleetSearch[]).find((search) => search.workflowId === id);
}

beforeAll(async () => {
  const address = await ensureTemporal();
  process.env.TEMPORAL_ADDRESS = address;
  cpuQueue = useQueues('slack').cpu;
  const dir = mkdtempSync(join(tmpdir(), 'spikenas-slack-'));
  artifacts = join(dir, 'artifacts');
  slackApi = await startSlackApiServer();
  writeFileSync(join(dir, 'fleets.yaml'), stringify({ fleets: [{ name: fleetName, ...FLEET }] }));
  Object.assign(process.env, {
    SLACK_SIGNING_SECRET: 'spikenas-test-signing-secret',
    SPIKENAS_FLEETS: join(dir, 'fleets.yaml'),
    SPIKENAS_ARTIFACTS: artifacts,
    // The bot and the worker (which inherits this environment) talk to the stand-in Web API.
    SLACK_API_URL: slackApi.url,
    SLACK_BOT_TOKEN: slackApi.token,
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
  await slackApi?.close();
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

/** The bot's announcement of a search in the channel: the post, and the update that names the workflow. */
async function announcementOf(workflowId: string): Promise<{ post: SlackApiCall; update: SlackApiCall }> {
  const update = await slackApi.waitFor(
    (call) => call.method === 'chat.update' && String(call.args.text).includes(`\`${workflowId}\``),
  );
  const post = slackApi.posts().find((call) => call.answer.ts === update.args.ts);
  if (!post) throw new Error(`no announcement of ${workflowId}`);
  return { post, update };
}

/** The ts the stand-in gave a post: what the bot and the workflow refer to it by. */
function announcementTs(post: SlackApiCall): string {
  return post.answer.ts as string;
}

const threadOf = (ts: string) => slackApi.posts().filter((call) => call.args.thread_ts === ts);

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

  it('posted nothing to the response_url or the channel for any refused request', () => {
    const refusedPaths = ['/help', '/forged', '/replayed', '/refused', '/malformed'];
    expect(slack.received.filter((m) => refusedPaths.includes(m.path))).toEqual([]);
    expect(slackApi.posts()).toEqual([]);
  });

  it('starts nothing when Slack refuses the announcement, and says what to do', async () => {
    slackApi.refuseOnce('chat.postMessage', 'not_in_channel');
    await ackBody(await command(`search fleet=${fleetName} budget=3MiB`, 'not-in-channel'));
    const answer = await slack.waitFor((m) => m.path === '/not-in-channel');
    expect(answer.body.response_type).toBe('ephemeral');
    expect(answer.body.text).toContain('not_in_channel (invite the bot');
    expect(await searchesOnQueue()).toEqual([]);
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

    // Announced in the channel; the workflow is told the announcement's ts, to post its result under it.
    const { post, update } = await announcementOf(workflowId);
    expect(post.args.channel).toBe(ALLOWED.channel_id);
    expect(update.args.ts).toBe(announcementTs(post));
    const request = await searchRequestOf(client, workflowId);
    expect(request).toMatchObject({
      fleet: fleetName,
      budget: FLEET.budget,
      dataset: FLEET.dataset,
      weightBits: FLEET.weightBits,
      mode: 'spikenas',
      notify: { slackChannel: ALLOWED.channel_id, slackThreadTs: announcementTs(post) },
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
    // The second announcement is withdrawn: that search reports under the first one.
    const announcements = slackApi
      .posts()
      .filter((call) => String(call.args.text).includes('asked for a search'));
    const deleted = slackApi.calls
      .filter((call) => call.method === 'chat.delete')
      .map((call) => call.args.ts);
    expect(deleted).toEqual([announcementTs(announcements.at(-1) as SlackApiCall)]);
  });

  it('reports status to the caller only', async () => {
    await ackBody(await command(`status ${workflowId}`, 'status'));
    const answer = await slack.waitFor((m) => m.path === '/status');
    expect(answer.body.response_type).toBe('ephemeral');
    expect(JSON.stringify(answer.body)).toContain(workflowId);
  });

  it(
    'posts the result once, in the thread under its announcement',
    async () => {
      const summary = (await whileWorkerRuns(
        client.workflow.getHandle(workflowId).result(),
      )) as SearchSummary;
      expect(summary.workflowId).toBe(workflowId);
      const { post } = await announcementOf(workflowId);
      const replies = threadOf(announcementTs(post));
      expect(replies).toHaveLength(1);
      expect(replies[0]?.args.channel).toBe(ALLOWED.channel_id);
      const blocks = JSON.stringify(replies[0]?.args.blocks);
      expect(blocks).toContain(summary.winner.split(' ').join('\\n'));
      expect(blocks).toContain(summary.workflowId);
      expect(blocks).toContain(summary.artifacts.report);
      // response_url carried only the private answers.
      expect(slack.received.filter((m) => m.body.response_type !== 'ephemeral')).toEqual([]);
    },
    SEARCH_TIMEOUT_MS + 60_000,
  );

  it('is listed by `spikenas history` from the local artifact folder', async () => {
    const summary = (await client.workflow.getHandle(workflowId).result()) as SearchSummary;
    const listed = await listedInHistory(workflowId);
    expect(listed).toMatchObject({
      outcome: 'completed',
      winner: summary.winner,
      params: summary.params,
      weightBytes: summary.weightBytes,
      budgetBytes: summary.budgetBytes,
      accuracy: summary.accuracy,
    });
  });

  it('lists a run published before winner.json carried stage times, with no stage time', async () => {
    const run = new RunArtifacts(await openStore(artifacts), workflowId);
    const { stageWallMs, ...older } = await run.getJson<WinnerRecord>(RUN_FILES.winner);
    expect(Object.keys(stageWallMs)).toContain('train-winner');
    await run.putJson(RUN_FILES.winner, older);
    const listed = await listedInHistory(workflowId);
    expect(listed).toMatchObject({ outcome: 'completed', winner: older.arch, stageMs: null });
    expect(listed?.wallMs).toBeGreaterThan(0);
  });

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
    // An override of the fleet's budget is a separate search with a fresh ID. Slack refusing the update that
    // names it in the announcement does not stop the search.
    slackApi.refuseOnce('chat.update', 'cant_update_message');
    await ackBody(await command(`search fleet=${fleetName} budget=2MiB`, 'to-cancel'));
    const started = await slack.waitFor(
      (m) => m.path === '/to-cancel' && m.body.response_type === 'ephemeral',
    );
    expect(started.body.text).toContain('Started search');
    const workflowId = idIn(started);
    expect(workflowId.startsWith(`spikenas-${fleetName}-`)).toBe(false);

    await ackBody(await command(`cancel ${workflowId}`, 'cancel', { user_id: 'U0SECOND' }));
    const answer = await slack.waitFor((m) => m.path === '/cancel');
    expect(answer.body.text).toContain(`Cancellation of \`${workflowId}\` requested by <@U0SECOND>`);

    const { post } = await announcementOf(workflowId);
    const notice = await slackApi.waitFor((call) => call.args.thread_ts === announcementTs(post));
    expect(String(notice.args.text)).toContain(workflowId);
    expect(String(notice.args.text)).toMatch(/cancel/i);
    // The notice is the workflow's last step; its end follows.
    const handle = client.workflow.getHandle(workflowId);
    await expect(handle.result()).rejects.toThrow();
    expect((await handle.describe()).status.name).toBe('CANCELLED');
  });
});
