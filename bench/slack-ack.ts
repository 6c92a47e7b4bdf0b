/**
 * Ack latency of the Slack bot: 100 signed `/spikenas help` requests, one after another, against the bot
 * running as a real HTTP server (Bolt's HTTPReceiver with signature checks). Prints JSON with p50/p99 in ms.
 * `help` touches no Temporal server, so this measures what Slack's 3-second limit is about: receive,
 * verify the signature, parse, ack. Run: `npm run build && node dist/bench/slack-ack.js`.
 */
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { HTTPReceiver, LogLevel } from '@slack/bolt';
import { createSlackApp } from '../slack/app.js';
import { slackAuthFromEnv } from '../slack/auth.js';
import type { SearchControl } from '../slack/search-control.js';
import { postSlashCommand, TEST_SIGNING_SECRET } from './slack-request.js';

const REQUESTS = 100;
const WARMUP = 10;

const unused = async (): Promise<never> => {
  throw new Error('help must not reach Temporal');
};
const searches: SearchControl = { start: unused, describe: unused, cancel: unused };

const app = createSlackApp({
  receiver: new HTTPReceiver({
    signingSecret: TEST_SIGNING_SECRET,
    logLevel: LogLevel.ERROR,
  }),
  searches,
  fleets: [],
  auth: slackAuthFromEnv({}),
  requestDefaults: { artifacts: '.spikenas/artifacts', shards: 1 },
  logLevel: LogLevel.ERROR,
});
const server = await app.start({ port: 0, host: '127.0.0.1' });
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;

async function ackMs(): Promise<number> {
  const started = performance.now();
  const response = await postSlashCommand(url, { text: 'help' });
  const body = (await response.json()) as { text?: string };
  if (response.status !== 200 || !body.text?.includes('Usage')) {
    throw new Error(`unexpected answer ${response.status}: ${JSON.stringify(body)}`);
  }
  return performance.now() - started;
}

for (let i = 0; i < WARMUP; i += 1) await ackMs();
const samples: number[] = [];
for (let i = 0; i < REQUESTS; i += 1) samples.push(await ackMs());
await app.stop();

samples.sort((a, b) => a - b);
const quantile = (q: number) =>
  samples[Math.min(samples.length - 1, Math.ceil(q * samples.length) - 1)] as number;
const round = (ms: number) => Math.round(ms * 100) / 100;
console.log(
  JSON.stringify({
    bench: 'slack-ack',
    command: '/spikenas help',
    requests: REQUESTS,
    warmup: WARMUP,
    p50Ms: round(quantile(0.5)),
    p99Ms: round(quantile(0.99)),
    maxMs: round(samples.at(-1) as number),
    meanMs: round(samples.reduce((sum, ms) => sum + ms, 0) / samples.length),
    slackLimitMs: 3000,
    node: process.version,
  }),
);
