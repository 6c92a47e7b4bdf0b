/**
 * Nightly fleet searches in Slack, with real parts: schedules on the real Temporal dev server, a worker
 * process, artifacts on the real S3-compatible server, and a local HTTP server playing Slack's Web API
 * (SLACK_API_URL) that rate-limits the first post. Each night posts exactly one message to the fleet's
 * channel; the second compares itself with the first, from the same history `spikenas history` prints.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scheduleIdOf, syncSchedules } from '../cli/schedules.js';
import { connectClient } from '../client/temporal.js';
import { formatSize } from '../common/size.js';
import { loadFleets } from '../config/fleets.js';
import { totalStageMs } from '../contract/stages.js';
import type { SearchSummary } from '../contract/summary.js';
import type { FleetSearch } from '../reports/fleet-history.js';
import { freshBucket, s3WorkerEnv } from './support/s3.js';
import { type SlackApiServer, startSlackApiServer } from './support/slack.js';
import {
  CLI,
  ensureNamespace,
  ensureTemporal,
  spawnWorker,
  useQueues,
  type WorkerProcess,
  workerReady,
} from './support/temporal.js';

const run = promisify(execFile);
const fleetName = `nightly-${process.pid}`;
const brokenFleet = `nightly-broken-${process.pid}`;
// `schedule sync` keeps exactly the synced fleets' schedules in a namespace; other test files sync theirs.
const NAMESPACE = 'spikenas-test-nightly';
const CHANNEL = 'C0NIGHTLY';
const BROKEN_CHANNEL = 'C0BROKEN';
// Two quick searches on synthetic data, on a shared 2-core machine.
const SEARCH_TIMEOUT_MS = 20 * 60_000;

let slack: SlackApiServer;
let worker: WorkerProcess;
let client: Client;
let artifacts: string;
const s3Env = s3WorkerEnv();

beforeAll(async () => {
  const address = await ensureTemporal();
  process.env.TEMPORAL_ADDRESS = address;
  process.env.TEMPORAL_NAMESPACE = NAMESPACE;
  useQueues('slack-fleet');
  artifacts = `s3://${await freshBucket('nightly')}/fleets`;
  slack = await startSlackApiServer();
  const dir = mkdtempSync(join(tmpdir(), 'spikenas-nightly-'));
  const file = join(dir, 'fleets.yaml');
  // Crons that do not fire while the test runs: the test triggers the nights itself.
  writeFileSync(
    file,
    JSON.stringify({
      fleets: [
        {
          name: fleetName,
          budget: '1MiB',
          weightBits: 8,
          dataset: 'synthetic',
          cron: '0 3 1 1 *',
          seed: 3,
          slackChannel: CHANNEL,
        },
        {
          name: brokenFleet,
          budget: '1MiB',
          dataset: join(dir, 'no-such-dataset'),
          cron: '0 3 1 1 *',
          slackChannel: BROKEN_CHANNEL,
        },
      ],
    }),
  );
  client = await connectClient();
  await ensureNamespace(client, address, NAMESPACE);
  await syncSchedules(client, await loadFleets(file), { artifacts, shards: 1 });
  worker = spawnWorker(address, { ...s3Env, SLACK_API_URL: slack.url, SLACK_BOT_TOKEN: slack.token });
  await workerReady(worker);
});

afterAll(async () => {
  for (const fleet of [fleetName, brokenFleet]) {
    await client?.schedule
      .getHandle(scheduleIdOf(fleet))
      .delete()
      .catch(() => undefined);
  }
  await worker?.stop();
  await slack?.close();
  await client?.connection.close();
});

/** Triggers the fleet's schedule now and returns the ID of the search it starts. */
async function triggerNight(fleet: string, before: string[]): Promise<string> {
  const handle = client.schedule.getHandle(scheduleIdOf(fleet));
  await handle.trigger();
  for (;;) {
    const started = (await handle.describe()).info.recentActions
      .map((action) => action.action.workflow.workflowId)
      .find((id) => !before.includes(id));
    if (started) return started;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Fails fast, with the worker's log, if the worker process dies while a test waits for it. */
function whileWorkerRuns<T>(waiting: Promise<T>): Promise<T> {
  const died = worker.exited.then((code) => {
    throw new Error(`worker exited (${code}) while waiting:\n${worker.output().slice(-4000)}`);
  });
  return Promise.race([waiting, died]);
}

const postsTo = (channel: string) => slack.posts().filter((call) => call.args.channel === channel);
const blocksOf = (call: { args: Record<string, unknown> } | undefined) => JSON.stringify(call?.args.blocks);

describe('a fleet whose scheduled search fails', () => {
  it('posts the failure to its channel at once, exactly once', async () => {
    const workflowId = await triggerNight(brokenFleet, []);
    await expect(whileWorkerRuns(client.workflow.getHandle(workflowId).result())).rejects.toThrow();
    const posts = postsTo(BROKEN_CHANNEL);
    expect(posts).toHaveLength(1);
    expect(String(posts[0]?.args.text)).toContain(`\`${workflowId}\` did not finish`);
    expect(String(posts[0]?.args.text)).toContain('dataset');
  });
});

describe("a fleet's scheduled nights", () => {
  const nights: SearchSummary[] = [];

  it(
    'posts the first night exactly once to the channel, through a 429 with Retry-After',
    async () => {
      slack.rateLimitOnce('chat.postMessage', 1);
      const workflowId = await triggerNight(fleetName, []);
      expect(workflowId.startsWith(`spikenas-${fleetName}-nightly-`)).toBe(true);
      nights.push(await whileWorkerRuns(client.workflow.getHandle(workflowId).result()));

      const attempts = slack.calls.filter(
        (call) => call.method === 'chat.postMessage' && call.args.channel === CHANNEL,
      );
      expect(attempts.map((call) => call.status)).toEqual([429, 200]);
      const posts = postsTo(CHANNEL);
      expect(posts).toHaveLength(1);
      expect(posts[0]?.args.thread_ts).toBeUndefined();
      const blocks = blocksOf(posts[0]);
      expect(blocks).toContain(nights[0]?.winner.split(' ').join('\\n'));
      expect(blocks).toContain('budget');
      expect(blocks).toContain('at 32 bits');
      expect(blocks).toContain('in total');
      expect(blocks).toContain(`runs/${workflowId}/report.md`);
      expect(blocks).toContain('no earlier successful search');
    },
    SEARCH_TIMEOUT_MS,
  );

  it(
    'posts the second night exactly once, with what changed since the first',
    async () => {
      const first = nights[0] as SearchSummary;
      const workflowId = await triggerNight(fleetName, [first.workflowId]);
      nights.push(await whileWorkerRuns(client.workflow.getHandle(workflowId).result()));
      const posts = postsTo(CHANNEL);
      expect(posts).toHaveLength(2);
      const blocks = blocksOf(posts[1]);
      const second = nights[1] as SearchSummary;
      expect(blocks).toContain(`(\`${first.workflowId}\`)`);
      expect(blocks).toContain(
        first.winner === second.winner ? 'winner unchanged' : `winner changed from \`${first.winner}\``,
      );
      expect(blocks).toContain(`memory ${formatSize(first.weightBytes)} at ${first.weightBits} bits → `);
      const percent = (fraction: number) => `${(100 * fraction).toFixed(2)}%`;
      expect(blocks).toContain(`accuracy ${percent(first.accuracy)} → ${percent(second.accuracy)}`);
    },
    SEARCH_TIMEOUT_MS,
  );

  it('lists both nights with `spikenas history` on s3://, newest first', async () => {
    const { stdout } = await run(
      process.execPath,
      [CLI, 'history', '--fleet', fleetName, '--out', artifacts, '--json'],
      { env: { ...process.env, ...s3Env } },
    );
    const history = JSON.parse(stdout) as FleetSearch[];
    expect(history.map((search) => search.workflowId)).toEqual(
      nights.map((night) => night.workflowId).reverse(),
    );
    for (const search of history) {
      const night = nights.find((n) => n.workflowId === search.workflowId) as SearchSummary;
      expect(search).toMatchObject({
        outcome: 'completed',
        winner: night.winner,
        params: night.params,
        weightBits: night.weightBits,
        weightBytes: night.weightBytes,
        budgetBytes: night.budgetBytes,
        accuracy: night.accuracy,
        accuracyBeforeQuantization: night.accuracyBeforeQuantization,
      });
      expect(search.stageMs).toBe(totalStageMs(night.stageWallMs));
      // The stages' own times leave out the workflow's own steps and waits: never more than the night took.
      expect(search.stageMs).toBeLessThanOrEqual(search.wallMs as number);
    }
    const table = await run(process.execPath, [CLI, 'history', '--fleet', fleetName, '--out', artifacts], {
      env: { ...process.env, ...s3Env },
    });
    expect(table.stdout).toContain(nights[0]?.workflowId);
    expect(table.stdout).toContain('completed');
  });
});
