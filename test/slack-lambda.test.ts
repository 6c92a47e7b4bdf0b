/**
 * The Lambda entry point with real parts: the secret in a local Secrets Manager (moto, started by the test
 * global setup), a real Temporal server, Bolt's AwsLambdaReceiver checking signatures, a local server
 * standing in for response_url and one playing Slack's Web API (SLACK_API_URL). No worker runs on this file's queues: started searches are terminated.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { connectClient, searchRequestOf } from '../client/temporal.js';
import {
  type ResponseUrlServer,
  type SlackApiServer,
  slackSignature,
  slashCommandBody,
  startResponseUrlServer,
  startSlackApiServer,
  TEST_SIGNING_SECRET,
} from './support/slack.js';
import { ensureTemporal, useQueues } from './support/temporal.js';

const fleetName = `lambda-test-${process.pid}`;
const ALLOWED = { team_id: 'T0LAMBDA', channel_id: 'C0LAMBDA', user_id: 'U0LAMBDA' };

let slack: ResponseUrlServer;
let slackApi: SlackApiServer;
let client: Client;
let handler: typeof import('../slack/lambda.js').handler;
const started: string[] = [];

beforeAll(async () => {
  const endpoint = process.env.SPIKENAS_TEST_S3_ENDPOINT;
  if (!endpoint) throw new Error('SPIKENAS_TEST_S3_ENDPOINT is not set: run through the test global setup');
  process.env.TEMPORAL_ADDRESS = await ensureTemporal();
  useQueues('slack-lambda');
  const dir = mkdtempSync(join(tmpdir(), 'spikenas-slack-lambda-'));
  writeFileSync(
    join(dir, 'fleets.yaml'),
    stringify({
      fleets: [{ name: fleetName, budget: '512KiB', dataset: 'synthetic', cron: '0 3 * * *', weightBits: 8 }],
    }),
  );
  // moto answers every AWS service on one endpoint; the SDK's per-service variable points Secrets Manager there.
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    SPIKENAS_FLEETS: join(dir, 'fleets.yaml'),
    SPIKENAS_ARTIFACTS: join(dir, 'artifacts'),
    SPIKENAS_SLACK_ALLOWED_TEAMS: ALLOWED.team_id,
    SPIKENAS_SLACK_ALLOWED_CHANNELS: ALLOWED.channel_id,
    SPIKENAS_SLACK_ALLOWED_USERS: ALLOWED.user_id,
  });
  slackApi = await startSlackApiServer();
  process.env.SLACK_API_URL = slackApi.url;
  const secrets = new SecretsManagerClient({});
  const secret = await secrets.send(
    new CreateSecretCommand({
      Name: `spikenas-slack-${process.pid}-${Date.now()}`,
      SecretString: JSON.stringify({
        SLACK_SIGNING_SECRET: TEST_SIGNING_SECRET,
        SLACK_BOT_TOKEN: slackApi.token,
      }),
    }),
  );
  process.env.SPIKENAS_SLACK_SECRET_ARN = secret.ARN;
  slack = await startResponseUrlServer();
  client = await connectClient();
  ({ handler } = await import('../slack/lambda.js'));
});

afterAll(async () => {
  for (const id of started) await client.workflow.getHandle(id).terminate('slack-lambda test cleanup');
  await client?.connection.close();
  await slack?.close();
  await slackApi?.close();
});

/** A Lambda function URL event (payload format 2.0) carrying a slash command. */
function functionUrlEvent(text: string, path: string, options: { secret?: string } = {}) {
  const body = slashCommandBody({ ...ALLOWED, text, response_url: `${slack.url}/${path}` });
  const timestamp = Math.floor(Date.now() / 1000);
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/slack/events',
    rawQueryString: '',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': slackSignature(options.secret ?? TEST_SIGNING_SECRET, timestamp, body),
    },
    requestContext: { http: { method: 'POST', path: '/slack/events' } },
    body,
    isBase64Encoded: false,
  };
}

describe('slack/lambda handler', () => {
  it('answers help with the signing secret read from Secrets Manager', async () => {
    const response = await handler(functionUrlEvent('help', 'help'), {}, () => {});
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ response_type: 'ephemeral' });
    expect(response.body).toContain('/spikenas search fleet=<name>');
  });

  it('rejects a request signed with another secret with 401', async () => {
    const event = functionUrlEvent(`search fleet=${fleetName}`, 'forged', { secret: 'another-secret' });
    const response = await handler(event, {}, () => {});
    expect(response.statusCode).toBe(401);
    expect(slack.received.filter((m) => m.path === '/forged')).toEqual([]);
  });

  it('starts the search and has answered with its ID before the invocation returns', async () => {
    const response = await handler(functionUrlEvent(`search fleet=${fleetName}`, 'search'), {}, () => {});
    expect(response.statusCode).toBe(200);
    // Lambda freezes after returning, so the ephemeral answer must already be at the response_url.
    const answer = slack.received.find((m) => m.path === '/search');
    const workflowId = /`(spikenas-[^`]+)`/.exec(String(answer?.body.text))?.[1] as string;
    expect(workflowId).toContain(fleetName);
    started.push(workflowId);
    // Announced in the channel with the bot token from the secret; the result will go in that thread.
    const [announcement] = slackApi.posts();
    expect(announcement?.args.channel).toBe(ALLOWED.channel_id);
    const request = await searchRequestOf(client, workflowId);
    expect(request).toMatchObject({
      fleet: fleetName,
      budget: '512KiB',
      weightBits: [8],
      notify: { slackChannel: ALLOWED.channel_id, slackThreadTs: announcement?.answer.ts },
    });
  });
});
