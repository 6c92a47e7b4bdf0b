/**
 * The secrets the workers and the Slack bot connect with: Temporal's connection and the Slack bot's
 * credentials, each a JSON object the operator fills in after deploy (docs/deploy.md).
 */
import { aws_ecs as ecs, type Stack, aws_secretsmanager as secretsmanager } from 'aws-cdk-lib';

/** Keys of the Temporal secret's JSON, injected into the workers under the same names. */
export const TEMPORAL_SECRET_KEYS = [
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS_CLIENT_CERT_DATA',
  'TEMPORAL_TLS_CLIENT_KEY_DATA',
] as const;
export const SLACK_SECRET_KEYS = ['SLACK_SIGNING_SECRET', 'SLACK_BOT_TOKEN'] as const;

/** Like every concern of the stack (see stack.ts), its resources are created in the stack's own scope. */
export class ConnectionSecrets {
  readonly temporal: secretsmanager.Secret;
  readonly slack: secretsmanager.Secret;

  constructor(stack: Stack) {
    this.temporal = new secretsmanager.Secret(stack, 'TemporalSecret', {
      description:
        'Temporal connection for spikenas workers: JSON with TEMPORAL_* keys (see docs/deploy.md).',
      generateSecretString: placeholderJson(TEMPORAL_SECRET_KEYS),
    });
    this.slack = new secretsmanager.Secret(stack, 'SlackSecret', {
      description: 'Slack bot: JSON with SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN (see docs/deploy.md).',
      generateSecretString: placeholderJson(SLACK_SECRET_KEYS),
    });
  }

  /** The Temporal connection as ECS secrets, one per key: a worker container never sees it in plain text. */
  temporalForWorkers(): Record<string, ecs.Secret> {
    return Object.fromEntries(
      TEMPORAL_SECRET_KEYS.map((key) => [key, ecs.Secret.fromSecretsManager(this.temporal, key)]),
    );
  }

  /** The bot token as an ECS secret, for the workers that post results to Slack. */
  slackBotTokenForWorkers(): ecs.Secret {
    return ecs.Secret.fromSecretsManager(this.slack, 'SLACK_BOT_TOKEN');
  }
}

/**
 * The secret starts as a JSON object with every key empty (no value is in the template); the operator puts
 * the real values in after deploy. The generated key only satisfies CloudFormation's template form.
 */
function placeholderJson(keys: readonly string[]): secretsmanager.SecretStringGenerator {
  return {
    secretStringTemplate: JSON.stringify(Object.fromEntries(keys.map((key) => [key, '']))),
    generateStringKey: 'GENERATED_UNUSED',
  };
}
