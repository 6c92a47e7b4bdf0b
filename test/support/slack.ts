/**
 * Test stand-ins for Slack: slash commands signed as Slack signs them, and a local HTTP server that plays
 * the response_url. Used by the slack-* tests and bench/slack-ack.ts.
 */
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export const TEST_SIGNING_SECRET = 'spikenas-test-signing-secret';

export interface SlashCommandFields {
  text: string;
  team_id?: string;
  channel_id?: string;
  user_id?: string;
  response_url?: string;
}

/** Slack's scheme: `v0=` + hex HMAC-SHA256 of `v0:<timestamp>:<raw body>` with the signing secret. */
export function slackSignature(secret: string, timestampSec: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestampSec}:${body}`).digest('hex')}`;
}

export function slashCommandBody(fields: SlashCommandFields): string {
  return new URLSearchParams({
    token: 'unused-verification-token',
    team_id: fields.team_id ?? 'T0TEST',
    team_domain: 'spikenas-test',
    channel_id: fields.channel_id ?? 'C0TEST',
    channel_name: 'robots',
    user_id: fields.user_id ?? 'U0TEST',
    user_name: 'tester',
    command: '/spikenas',
    text: fields.text,
    api_app_id: 'A0TEST',
    response_url: fields.response_url ?? 'http://127.0.0.1:9/unused',
    trigger_id: '1.2.3',
  }).toString();
}

export interface SignOptions {
  secret?: string;
  /** Seconds since the epoch; defaults to now. */
  timestampSec?: number;
}

/** POSTs a slash command to the bot as Slack would. */
export async function postSlashCommand(
  url: string,
  fields: SlashCommandFields,
  options: SignOptions = {},
): Promise<Response> {
  const body = slashCommandBody(fields);
  const timestampSec = options.timestampSec ?? Math.floor(Date.now() / 1000);
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(timestampSec),
      'x-slack-signature': slackSignature(options.secret ?? TEST_SIGNING_SECRET, timestampSec, body),
    },
    body,
  });
}

export interface ReceivedMessage {
  path: string;
  body: Record<string, unknown>;
}

/** A local HTTP server standing in for Slack's response_url; every path answers `status` (200 by default). */
export interface ResponseUrlServer {
  /** Base URL; append any path to tell commands apart. */
  url: string;
  received: ReceivedMessage[];
  status: number;
  /** Resolves with the first message (already received or still to come) that matches. */
  waitFor(match: (message: ReceivedMessage) => boolean, timeoutMs?: number): Promise<ReceivedMessage>;
  close(): Promise<void>;
}

export async function startResponseUrlServer(): Promise<ResponseUrlServer> {
  const waiters: { match: (message: ReceivedMessage) => boolean; resolve: (m: ReceivedMessage) => void }[] =
    [];
  const state: ResponseUrlServer = {
    url: '',
    received: [],
    status: 200,
    waitFor(match, timeoutMs = 60_000) {
      const found = state.received.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no matching message within ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiters.push({
          match,
          resolve: (message) => {
            clearTimeout(timer);
            resolve(message);
          },
        });
      });
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const message = { path: request.url ?? '/', body: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
      state.received.push(message);
      for (const waiter of waiters.filter((w) => w.match(message))) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(message);
      }
      response
        .writeHead(state.status, { 'content-type': 'text/plain' })
        .end(state.status === 200 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}
