/**
 * Slash commands signed as Slack signs them, posted to a bot: what bench/slack-ack.ts times and what the
 * slack-* tests (through test/support/slack.ts) send. The signing secret is a fixed one for local bots.
 */
import { createHmac } from 'node:crypto';

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
