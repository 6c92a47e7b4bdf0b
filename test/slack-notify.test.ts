/**
 * The notifySlack activity against a local HTTP server playing Slack's Web API (SLACK_API_URL), with its
 * record of posts in a real run folder; and the result message's blocks.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { type NotifySlackInput, notifySlack } from '../activities/notify.js';
import type { SearchSummary } from '../contract/summary.js';
import type { FleetSearch } from '../reports/fleet-history.js';
import { formatSlackFailure, formatSlackResult } from '../reports/slack-messages.js';
import { type SlackApiServer, startSlackApiServer } from './support/slack.js';

const summary: SearchSummary = {
  workflowId: 'spikenas-drone-alpha-2026-03-04',
  runId: 'spikenas-drone-alpha-2026-03-04',
  mode: 'spikenas',
  fleet: 'drone-alpha',
  seed: 7,
  backend: 'wasm',
  winner: '0302 0030 3003 0000',
  params: 49_152,
  weightBits: 8,
  weightBytes: 196_608,
  stateBytes: 8_192,
  budgetBytes: 262_144,
  sahdScore: 1234.5678,
  accuracy: 0.8765,
  accuracyBeforeQuantization: 0.88,
  quantization: { method: 'quantization-aware', postTrainingAccuracy: 0.871 },
  counters: {},
  stageWallMs: { 'prepare-dataset': 1_100, 'operation-impact': 92_500, 'train-winner': 3_725_000 },
  reusedFrom: { operationImpact: null, winnerTraining: null },
  artifacts: {
    root: 's3://bucket/runs/r1/',
    report: 's3://bucket/runs/r1/report.md',
    winner: 's3://bucket/runs/r1/winner.json',
    weights: 's3://bucket/runs/r1/weights/model.json',
  },
};

const lastNight: FleetSearch = {
  workflowId: 'spikenas-drone-alpha-nightly-2026-03-03T01:00:00Z',
  startedAt: '2026-03-03T01:00:02.000Z',
  outcome: 'completed',
  winner: '0301 0013 0003 0000',
  params: 40_000,
  weightBits: 8,
  weightBytes: 163_840,
  budgetBytes: 262_144,
  accuracy: 0.8665,
  accuracyBeforeQuantization: 0.87,
  wallMs: 3_900_000,
  stageMs: 3_850_000,
};

const blocksText = (message: { blocks?: unknown }) => JSON.stringify(message.blocks);

describe('formatSlackResult', () => {
  const message = formatSlackResult(summary);
  const text = blocksText(message);

  it('shows the winner matrix one row per line', () => {
    expect(text).toContain(JSON.stringify('0302\n0030\n3003\n0000').slice(1, -1));
  });

  it('shows memory against the budget, accuracy at 32 bits and quantized, and the report', () => {
    // 196608 B = 192 KiB of a 256 KiB budget = 75 %.
    expect(text).toContain('192.0 KiB of 256.0 KiB budget (75.0%, within)');
    expect(text).toContain('87.65% at 8-bit weights, quantization-aware (87.10% quantized after training)');
    expect(text).toContain('88.00% at 32 bits');
    expect(text).toContain('s3://bucket/runs/r1/report.md');
    expect(message.text).toContain('drone-alpha');
  });

  it('shows the total and each stage time', () => {
    expect(text).toContain('*Time* 1 h 3 min in total');
    expect(text).toContain('operation-impact 1 min 32 s');
    expect(text).toContain('prepare-dataset 1.1 s');
    expect(text).toContain('train-winner 1 h 2 min');
  });

  it('says which work was reused from which earlier run, and nothing when none was', () => {
    const reused = {
      ...summary,
      reusedFrom: {
        operationImpact: 'spikenas-drone-alpha-2026-03-03',
        winnerTraining: 'spikenas-drone-alpha-2026-03-02',
      },
    };
    expect(blocksText(formatSlackResult(reused))).toContain(
      '*Reused* operation impact from spikenas-drone-alpha-2026-03-03; winner training and quantization from spikenas-drone-alpha-2026-03-02',
    );
    expect(text).not.toContain('Reused');
  });

  it('says what changed since the previous successful night of the history', () => {
    const failedSince: FleetSearch = {
      ...lastNight,
      workflowId: 'spikenas-drone-alpha-2026-03-03b',
      startedAt: '2026-03-03T20:00:00.000Z',
      outcome: 'failed',
      winner: null,
    };
    const changes = blocksText(formatSlackResult(summary, [failedSince, lastNight]));
    expect(changes).toContain(`*Since 2026-03-03* (\`${lastNight.workflowId}\`)`);
    expect(changes).toContain('winner changed from `0301 0013 0003 0000` to `0302 0030 3003 0000`');
    expect(changes).toContain('memory 160.0 KiB at 8 bits → 192.0 KiB at 8 bits (+32.0 KiB)');
    expect(changes).toContain('accuracy 86.65% → 87.65% (+1.00 pp)');
    const same = blocksText(
      formatSlackResult(summary, [{ ...lastNight, winner: summary.winner, accuracy: 0.8865 }]),
    );
    expect(same).toContain('winner unchanged');
    expect(same).toContain('(−1.00 pp)');
  });

  it('says when the fleet has no earlier success, and leaves the section out without a history', () => {
    expect(blocksText(formatSlackResult(summary, []))).toContain('no earlier successful search');
    expect(text).not.toContain('Since');
  });

  it('flags a winner over the budget, a search without one, and links an https report', () => {
    expect(blocksText(formatSlackResult({ ...summary, budgetBytes: 131_072 }))).toContain('OVER');
    expect(blocksText(formatSlackResult({ ...summary, budgetBytes: null }))).toContain('no budget');
    const https = { ...summary, artifacts: { ...summary.artifacts, report: 'https://example.org/r.html' } };
    expect(blocksText(formatSlackResult(https))).toContain('<https://example.org/r.html|');
  });

  it('keeps a long failure within the size Slack accepts', () => {
    const failure = formatSlackFailure('spikenas-x', 'x'.repeat(5000));
    expect(failure.text.length).toBeLessThanOrEqual(3000);
    expect(failure.text).toContain('spikenas-x');
  });
});

describe('notifySlack', () => {
  let slack: SlackApiServer;
  let artifacts: string;
  let runCount = 0;
  const saved = { url: process.env.SLACK_API_URL, token: process.env.SLACK_BOT_TOKEN };

  beforeAll(async () => {
    slack = await startSlackApiServer();
    artifacts = mkdtempSync(join(tmpdir(), 'spikenas-notify-'));
    process.env.SLACK_API_URL = slack.url;
    process.env.SLACK_BOT_TOKEN = slack.token;
  });
  beforeEach(() => {
    slack.calls.length = 0;
  });
  afterAll(async () => {
    await slack.close();
    process.env.SLACK_API_URL = saved.url;
    process.env.SLACK_BOT_TOKEN = saved.token;
  });

  /** A failure notice of a search of its own (own run folder), to C0FLEET. */
  function failureInput(extra: Partial<NotifySlackInput> = {}): NotifySlackInput {
    runCount += 1;
    return {
      run: { artifacts, runId: `spikenas-notify-${runCount}`, execution: 'execution-1' },
      destination: { slackChannel: 'C0FLEET' },
      failure: 'train-winner: out of memory',
      ...extra,
    };
  }

  it('posts the result with chat.postMessage in the thread it is given', async () => {
    const post = await notifySlack({
      run: { artifacts, runId: summary.runId, execution: 'execution-1' },
      destination: { slackChannel: 'C0TEAM', slackThreadTs: '1712345678.000100' },
      summary,
    });
    const [call] = slack.posts();
    expect(slack.posts()).toHaveLength(1);
    expect(call?.args).toMatchObject({ channel: 'C0TEAM', thread_ts: '1712345678.000100' });
    expect(call?.args.blocks).toEqual(JSON.parse(JSON.stringify(formatSlackResult(summary, []).blocks)));
    expect(post).toEqual({ channel: 'C0TEAM', ts: expect.stringMatching(/^\d+\.\d+$/) });
  });

  it('posts a failure at the top of the fleet channel, naming the search', async () => {
    const input = failureInput();
    await notifySlack(input);
    const [call] = slack.posts();
    expect(call?.args.channel).toBe('C0FLEET');
    expect(call?.args.thread_ts).toBeUndefined();
    expect(String(call?.args.text)).toContain(input.run.runId);
    expect(String(call?.args.text)).toContain('train-winner: out of memory');
  });

  it('posts once however often the activity runs for one execution, again for the next execution', async () => {
    const input = failureInput();
    const first = await notifySlack(input);
    expect(await notifySlack(input)).toEqual(first);
    expect(await notifySlack(input)).toEqual(first);
    expect(slack.posts()).toHaveLength(1);
    // A resumed search is a new execution under the same workflow ID: its own outcome gets its own message.
    await notifySlack({ ...input, run: { ...input.run, execution: 'execution-2' } });
    expect(slack.posts()).toHaveLength(2);
  });

  it('tells a failure even when the store cannot be opened or written (it may be why the search failed)', async () => {
    const file = join(artifacts, 'a-regular-file');
    writeFileSync(file, 'not a folder');
    await notifySlack(
      failureInput({
        run: { artifacts: join(file, 'store'), runId: 'spikenas-broken-store', execution: 'execution-1' },
      }),
    );
    await notifySlack(
      failureInput({
        run: { artifacts: 'ftp://example.org/x', runId: 'spikenas-no-store', execution: 'execution-1' },
      }),
    );
    expect(slack.posts().map((call) => String(call.args.text))).toEqual([
      expect.stringContaining('spikenas-broken-store'),
      expect.stringContaining('spikenas-no-store'),
    ]);
  });

  it("waits out a 429's Retry-After and then posts exactly once", async () => {
    slack.rateLimitOnce('chat.postMessage', 1);
    await notifySlack(failureInput());
    const attempts = slack.calls.filter((call) => call.method === 'chat.postMessage');
    expect(attempts.map((call) => call.status)).toEqual([429, 200]);
    expect(slack.posts()).toHaveLength(1);
    const waitedMs = (attempts[1]?.receivedAt ?? 0) - (attempts[0]?.receivedAt ?? 0);
    console.log(`notifySlack: retried chat.postMessage ${waitedMs} ms after a 429 with Retry-After: 1`);
    expect(waitedMs).toBeGreaterThanOrEqual(1000);
  });

  it('fails without retry, saying what to do, when Slack refuses the channel; a later retry may post', async () => {
    slack.refuseOnce('chat.postMessage', 'not_in_channel');
    const input = failureInput();
    const error = await notifySlack(input).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect((error as ApplicationFailure).nonRetryable).toBe(true);
    expect((error as Error).message).toContain('not_in_channel (invite the bot');
    expect(slack.posts()).toHaveLength(0);
    await notifySlack(input);
    expect(slack.posts()).toHaveLength(1);
  });

  it('fails without retry when the worker has no bot token, and with a token Slack rejects', async () => {
    delete process.env.SLACK_BOT_TOKEN;
    const missing = await notifySlack(failureInput()).catch((e: unknown) => e);
    process.env.SLACK_BOT_TOKEN = 'xoxb-not-the-token';
    const wrong = await notifySlack(failureInput()).catch((e: unknown) => e);
    process.env.SLACK_BOT_TOKEN = slack.token;
    expect((missing as ApplicationFailure).nonRetryable).toBe(true);
    expect((missing as Error).message).toContain('SLACK_BOT_TOKEN');
    expect((wrong as ApplicationFailure).nonRetryable).toBe(true);
    expect((wrong as Error).message).toContain('invalid_auth');
    expect(slack.posts()).toHaveLength(0);
  });
});

describe('the Slack app manifest in docs/slack.md', () => {
  it('asks for the bot scopes the bot and the workers use', async () => {
    const doc = await readFile(new URL('../docs/slack.md', import.meta.url), 'utf8');
    const manifest = parseYaml(/```yaml\n(display_information:[\s\S]*?)```/.exec(doc)?.[1] ?? '') as {
      oauth_config: { scopes: { bot: string[] } };
    };
    expect(manifest.oauth_config.scopes.bot).toEqual(expect.arrayContaining(['commands', 'chat:write']));
  });
});
