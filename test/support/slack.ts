/**
 * Test stand-ins for Slack: slash commands signed as Slack signs them (bench/slack-request.ts, shared with
 * the Slack bench), a local HTTP server that plays the response_url, and one that plays the Web API
 * (SLACK_API_URL). Used by the slack-* tests.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export {
  postSlashCommand,
  type SignOptions,
  type SlashCommandFields,
  slackSignature,
  slashCommandBody,
  TEST_SIGNING_SECRET,
} from '../../bench/slack-request.js';

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

/** One request to the stand-in Web API, as it arrived, and the HTTP status it was answered with. */
export interface SlackApiCall {
  method: string;
  /** Form fields; `blocks` parsed from the JSON the client sends it as. */
  args: Record<string, unknown>;
  status: number;
  /** What the stand-in answered, e.g. the `ts` it gave a post. */
  answer: Record<string, unknown>;
  /** Whether the answer was `ok: true`. */
  ok: boolean;
  receivedAt: number;
}

/**
 * A local HTTP server playing Slack's Web API for the bot token `token`: chat.postMessage, chat.update,
 * chat.delete and auth.test, each recorded. `rateLimitOnce(method, seconds)` makes the next call of a method
 * answer 429 with Retry-After; `refuseOnce(method, error)` makes it answer `{ ok: false, error }`.
 */
export interface SlackApiServer {
  /** Base URL for SLACK_API_URL. */
  url: string;
  token: string;
  calls: SlackApiCall[];
  /** chat.postMessage calls answered ok: the messages that appeared. */
  posts(): SlackApiCall[];
  rateLimitOnce(method: string, retryAfterSec: number): void;
  refuseOnce(method: string, error: string): void;
  waitFor(match: (call: SlackApiCall) => boolean, timeoutMs?: number): Promise<SlackApiCall>;
  close(): Promise<void>;
}

export async function startSlackApiServer(token = 'xoxb-spikenas-test'): Promise<SlackApiServer> {
  const rateLimited = new Map<string, number>();
  const refused = new Map<string, string>();
  const waiters: { match: (call: SlackApiCall) => boolean; resolve: (call: SlackApiCall) => void }[] = [];
  let sequence = 0;
  const state: SlackApiServer = {
    url: '',
    token,
    calls: [],
    posts: () => state.calls.filter((call) => call.method === 'chat.postMessage' && call.ok),
    rateLimitOnce: (method, seconds) => rateLimited.set(method, seconds),
    refuseOnce: (method, error) => refused.set(method, error),
    waitFor(match, timeoutMs = 60_000) {
      const found = state.calls.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no matching call within ${timeoutMs} ms`)),
          timeoutMs,
        );
        waiters.push({
          match,
          resolve: (call) => {
            clearTimeout(timer);
            resolve(call);
          },
        });
      });
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const answer = (
    method: string,
    args: Record<string, unknown>,
    authorization: string | undefined,
  ): Record<string, unknown> & { ok: boolean } => {
    if (authorization !== `Bearer ${token}`) return { ok: false, error: 'invalid_auth' };
    const error = refused.get(method);
    if (error !== undefined) {
      refused.delete(method);
      return { ok: false, error };
    }
    switch (method) {
      case 'auth.test':
        return { ok: true, team_id: 'T0TEST', user_id: 'U0BOT', bot_id: 'B0BOT', user: 'spikenas' };
      case 'chat.postMessage':
        sequence += 1;
        return {
          ok: true,
          channel: args.channel,
          ts: `${Math.floor(Date.now() / 1000)}.${String(sequence).padStart(6, '0')}`,
        };
      case 'chat.update':
      case 'chat.delete':
        return { ok: true, channel: args.channel, ts: args.ts };
      default:
        return { ok: false, error: 'unknown_method' };
    }
  };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const method = (request.url ?? '/').split('?')[0]?.split('/').pop() ?? '';
      const args: Record<string, unknown> = Object.fromEntries(
        new URLSearchParams(Buffer.concat(chunks).toString('utf8')),
      );
      if (typeof args.blocks === 'string') args.blocks = JSON.parse(args.blocks);
      const retryAfter = rateLimited.get(method);
      rateLimited.delete(method);
      const body =
        retryAfter === undefined
          ? answer(method, args, request.headers.authorization)
          : { ok: false, error: 'ratelimited' };
      const call: SlackApiCall = {
        method,
        args,
        status: retryAfter === undefined ? 200 : 429,
        answer: body,
        ok: body.ok,
        receivedAt: Date.now(),
      };
      state.calls.push(call);
      for (const waiter of waiters.filter((w) => w.match(call))) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(call);
      }
      response.writeHead(call.status, {
        'content-type': 'application/json',
        ...(retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) }),
      });
      response.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`;
  return state;
}
