import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatSlackFailure, formatSlackResult, notifySlack } from '../activities/notify.js';
import type { SearchSummary } from '../workflows/types.js';
import { type ResponseUrlServer, startResponseUrlServer } from './support/slack.js';

const summary: SearchSummary = {
  workflowId: 'spikenas-drone-alpha-2026-03-04',
  runId: 'run-1',
  mode: 'spikenas',
  fleet: 'drone-alpha',
  seed: 7,
  backend: 'wasm',
  winner: '0302 0030 3003 0000',
  params: 49_152,
  weightBits: 32,
  weightBytes: 196_608,
  stateBytes: 8_192,
  budgetBytes: 262_144,
  sahdScore: 1234.5678,
  accuracy: 0.8765,
  accuracyBeforeQuantization: 0.88,
  counters: {},
  stageWallMs: {},
  artifacts: {
    root: 's3://bucket/runs/r1',
    report: 's3://bucket/runs/r1/report.md',
    winner: 's3://bucket/runs/r1/winner.json',
    weights: 's3://bucket/runs/r1/weights.bin',
  },
};

describe('formatSlackResult', () => {
  const message = formatSlackResult(summary);
  const text = JSON.stringify(message.blocks);

  it('posts in the channel with the winner matrix one row per line', () => {
    expect(message.response_type).toBe('in_channel');
    expect(text).toContain(JSON.stringify('0302\n0030\n3003\n0000').slice(1, -1));
  });

  it('shows memory against the budget and the accuracy in percent', () => {
    // 196608 B = 192 KiB of a 256 KiB budget = 75 %.
    expect(text).toContain('192.0 KiB of 256.0 KiB budget (75.0%, within)');
    expect(text).toContain('87.65% at 32-bit weights');
    expect(text).toContain('88.00% before quantization');
    expect(text).toContain('s3://bucket/runs/r1/report.md');
    expect(message.text).toContain('drone-alpha');
  });

  it('flags a winner over the budget and a search without one', () => {
    expect(JSON.stringify(formatSlackResult({ ...summary, budgetBytes: 131_072 }).blocks)).toContain('OVER');
    expect(JSON.stringify(formatSlackResult({ ...summary, budgetBytes: null }).blocks)).toContain(
      'no budget',
    );
  });

  it('links an https report', () => {
    const https = { ...summary, artifacts: { ...summary.artifacts, report: 'https://example.org/r.html' } };
    expect(JSON.stringify(formatSlackResult(https).blocks)).toContain('<https://example.org/r.html|');
  });

  it('keeps a long failure within the size Slack accepts', () => {
    const failure = formatSlackFailure('spikenas-x', 'x'.repeat(5000));
    expect(failure.text.length).toBeLessThanOrEqual(3000);
    expect(failure.text).toContain('spikenas-x');
  });
});

describe('notifySlack', () => {
  let slack: ResponseUrlServer;
  beforeAll(async () => {
    slack = await startResponseUrlServer();
  });
  afterAll(async () => {
    await slack.close();
  });

  it('posts the result as JSON to the response_url', async () => {
    await notifySlack({ responseUrl: `${slack.url}/ok`, summary });
    const message = await slack.waitFor((m) => m.path === '/ok');
    expect(message.body).toEqual(JSON.parse(JSON.stringify(formatSlackResult(summary))));
  });

  it('posts a failure with the workflow ID', async () => {
    await notifySlack({
      responseUrl: `${slack.url}/failed`,
      failure: 'budget: too small',
      workflowId: 'wf-9',
    });
    const message = await slack.waitFor((m) => m.path === '/failed');
    expect(message.body.response_type).toBe('in_channel');
    expect(String(message.body.text)).toContain('wf-9');
    expect(String(message.body.text)).toContain('budget: too small');
  });

  it('throws a retryable error when Slack answers 5xx', async () => {
    slack.status = 503;
    const error = await notifySlack({ responseUrl: `${slack.url}/busy`, summary }).catch((e: unknown) => e);
    slack.status = 200;
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(ApplicationFailure);
    expect((error as Error).message).toContain('503');
  });

  it('fails without retry when Slack rejects the URL', async () => {
    slack.status = 404;
    const error = await notifySlack({ responseUrl: `${slack.url}/expired`, summary }).catch(
      (e: unknown) => e,
    );
    slack.status = 200;
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect((error as ApplicationFailure).nonRetryable).toBe(true);
  });

  it('fails without retry on a URL that is not http(s)', async () => {
    const error = await notifySlack({ responseUrl: 'ftp://example.org/x', summary }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect((error as ApplicationFailure).nonRetryable).toBe(true);
  });
});
