import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AwsLambdaReceiver, LogLevel } from '@slack/bolt';
import { connectClient } from '../client/temporal.js';
import { InputError } from '../common/errors.js';
import { createSlackApp } from './app.js';
import { temporalSearches } from './searches.js';
import { botSettingsFromEnv, requireEnv } from './settings.js';

/** The JSON kept in the secret named by SPIKENAS_SLACK_SECRET_ARN. */
export interface SlackSecret {
  SLACK_SIGNING_SECRET: string;
  SLACK_BOT_TOKEN?: string;
}

/** Reads and checks the Slack secret; errors name the field, never the value. */
export async function readSlackSecret(
  secrets: SecretsManagerClient,
  secretArn: string,
): Promise<SlackSecret> {
  const { SecretString } = await secrets.send(new GetSecretValueCommand({ SecretId: secretArn }));
  let parsed: unknown;
  try {
    parsed = JSON.parse(SecretString ?? '');
  } catch {
    throw new InputError('SPIKENAS_SLACK_SECRET_ARN', 'the secret is not a JSON object', SECRET_SHAPE);
  }
  const secret = parsed as Partial<SlackSecret> | null;
  if (typeof secret?.SLACK_SIGNING_SECRET !== 'string' || secret.SLACK_SIGNING_SECRET === '') {
    throw new InputError('SLACK_SIGNING_SECRET', 'is missing from the secret', SECRET_SHAPE);
  }
  const botToken = typeof secret.SLACK_BOT_TOKEN === 'string' ? secret.SLACK_BOT_TOKEN : undefined;
  return { SLACK_SIGNING_SECRET: secret.SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN: botToken };
}

/**
 * The Temporal connection settings (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, …) come from the
 * secret named by SPIKENAS_TEMPORAL_SECRET_ARN when it is set; they become this process's environment,
 * where connectClient reads them like every other spikenas process does.
 */
async function loadTemporalSecret(secrets: SecretsManagerClient): Promise<void> {
  const arn = process.env.SPIKENAS_TEMPORAL_SECRET_ARN;
  if (!arn) return;
  const { SecretString } = await secrets.send(new GetSecretValueCommand({ SecretId: arn }));
  const values = JSON.parse(SecretString ?? '{}') as Record<string, unknown>;
  for (const [key, value] of Object.entries(values)) {
    if (key.startsWith('TEMPORAL_') && typeof value === 'string' && value !== '') process.env[key] = value;
  }
}

type AwsHandler = ReturnType<AwsLambdaReceiver['toHandler']>;

const SECRET_SHAPE = '{"SLACK_SIGNING_SECRET": "…", "SLACK_BOT_TOKEN": "xoxb-…"}';

/**
 * Built once per cold start and reused by warm invocations: the secret, the Temporal connection
 * and the Bolt app. A failed build is not cached, so the next invocation tries again.
 */
let boltHandler: Promise<AwsHandler> | undefined;

async function buildHandler(): Promise<AwsHandler> {
  const secretArn = requireEnv(process.env, 'SPIKENAS_SLACK_SECRET_ARN', 'the ARN of the Slack secret');
  const secrets = new SecretsManagerClient({});
  await loadTemporalSecret(secrets);
  const [secret, settings, client] = await Promise.all([
    readSlackSecret(secrets, secretArn),
    botSettingsFromEnv(process.env),
    connectClient(),
  ]);
  // Lambda freezes once the handler returns, so AwsLambdaReceiver answers Slack only after the listener
  // has finished: ack, workflow start and the ephemeral reply all happen inside the invocation.
  const receiver = new AwsLambdaReceiver({
    signingSecret: secret.SLACK_SIGNING_SECRET,
    logLevel: LogLevel.WARN,
  });
  createSlackApp({
    receiver,
    searches: temporalSearches(client),
    ...settings,
    botToken: secret.SLACK_BOT_TOKEN,
    logLevel: LogLevel.WARN,
  });
  return receiver.toHandler();
}

/** Lambda entry point (function URL or API Gateway); signatures are verified by Bolt's AwsLambdaReceiver. */
export const handler: AwsHandler = async (event, context, callback) => {
  boltHandler ??= buildHandler().catch((error: unknown) => {
    boltHandler = undefined;
    throw error;
  });
  return (await boltHandler)(event, context, callback);
};
