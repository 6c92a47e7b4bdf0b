/**
 * The Slack bot as a Lambda behind a function URL. Without a built asset, synth still works and says what is
 * missing.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  Annotations,
  Duration,
  aws_lambda as lambda,
  aws_logs as logs,
  RemovalPolicy,
  type Stack,
} from 'aws-cdk-lib';
import type { ArtifactBucket } from './artifact-bucket.js';
import type { ConnectionSecrets } from './connection-secrets.js';
import type { SpikeNasSettings } from './settings.js';

/** Like every concern of the stack (see stack.ts), its resources are created in the stack's own scope. */
export class SlackBot {
  /** The request URL to give Slack; undefined when the bot was left out. */
  readonly requestUrl: string | undefined;

  constructor(
    stack: Stack,
    {
      artifacts,
      secrets,
      settings,
    }: { artifacts: ArtifactBucket; secrets: ConnectionSecrets; settings: SpikeNasSettings },
  ) {
    const assetDir = resolve(settings.slackAssetDir);
    if (!existsSync(join(assetDir, 'dist', 'slack', 'lambda.js'))) {
      Annotations.of(stack).addWarningV2(
        'spikenas:slack-asset-missing',
        `Slack bot left out: ${join(assetDir, 'dist/slack/lambda.js')} does not exist. ` +
          'Build it as docs/deploy.md says, or pass -c slackAssetDir=<folder with dist/ and node_modules/>.',
      );
      this.requestUrl = undefined;
      return;
    }
    const logGroup = new logs.LogGroup(stack, 'SlackBotLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const bot = new lambda.Function(stack, 'SlackBot', {
      runtime: lambda.Runtime.NODEJS_20_X,
      handler: 'dist/slack/lambda.handler',
      code: lambda.Code.fromAsset(assetDir),
      memorySize: 512,
      timeout: Duration.seconds(30),
      logGroup,
      environment: {
        // ARNs only: the function reads the values from Secrets Manager at cold start.
        SPIKENAS_SLACK_SECRET_ARN: secrets.slack.secretArn,
        SPIKENAS_TEMPORAL_SECRET_ARN: secrets.temporal.secretArn,
        SPIKENAS_ARTIFACTS: artifacts.uri,
      },
    });
    secrets.slack.grantRead(bot);
    secrets.temporal.grantRead(bot);
    // Slack signs every request; the function checks the signature, so the URL itself is open.
    this.requestUrl = bot.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE }).url;
  }
}
