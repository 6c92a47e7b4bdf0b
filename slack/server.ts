import type { AddressInfo } from 'node:net';
import { HTTPReceiver, LogLevel } from '@slack/bolt';
import { connectClient } from '../client/temporal.js';
import { createSlackApp } from './app.js';
import { temporalSearches } from './searches.js';
import { botSettingsFromEnv, requireEnv } from './settings.js';

export interface BotServerOptions {
  /** 0 picks a free port. */
  port: number;
  host?: string;
}

export interface BotServer {
  /** The port actually listened on. */
  port: number;
  /** Where Slack sends slash commands: http://host:port/slack/events. */
  url: string;
  stop(): Promise<void>;
}

/**
 * Runs the bot as an HTTP server on Bolt's default path `/slack/events`. Bolt's HTTPReceiver checks every
 * request's signature with SLACK_SIGNING_SECRET and rejects stale timestamps (> 5 min) with 401.
 */
export async function startBotServer(options: BotServerOptions): Promise<BotServer> {
  const signingSecret = requireEnv(process.env, 'SLACK_SIGNING_SECRET', "the Slack app's signing secret");
  const settings = await botSettingsFromEnv(process.env);
  const client = await connectClient();
  const receiver = new HTTPReceiver({ signingSecret, logLevel: LogLevel.WARN });
  const app = createSlackApp({
    receiver,
    searches: temporalSearches(client),
    ...settings,
    botToken: process.env.SLACK_BOT_TOKEN,
    logLevel: LogLevel.WARN,
  });
  const host = options.host ?? '0.0.0.0';
  const server = await app.start({ port: options.port, host });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}/slack/events`,
    async stop() {
      await app.stop();
      await client.connection.close();
    },
  };
}
