/** The CDK stack, synthesized offline with no account, checked property by property. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECKPOINT_TAG as STORE_CHECKPOINT_TAG } from '../artifacts/s3-store.js';
import { METRIC_GPU_BACKLOG, METRIC_WORKFLOWS_FAILED } from '../common/metrics.js';
import { CHECKPOINT_TAG } from '../infra/artifact-bucket.js';
import { SLACK_SECRET_KEYS, TEMPORAL_SECRET_KEYS } from '../infra/connection-secrets.js';
import { DEFAULT_SETTINGS } from '../infra/settings.js';
import { SpikeNasStack } from '../infra/stack.js';

let assetDir: string;
let template: Template;

function synth(context: Record<string, string>): { stack: SpikeNasStack; template: Template } {
  const app = new App({ context });
  const built = new SpikeNasStack(app, 'Test');
  return { stack: built, template: Template.fromStack(built) };
}

beforeAll(() => {
  // A stand-in for the built Lambda folder: synth only hashes and copies it.
  assetDir = mkdtempSync(join(tmpdir(), 'spikenas-lambda-'));
  mkdirSync(join(assetDir, 'dist', 'slack'), { recursive: true });
  writeFileSync(join(assetDir, 'dist', 'slack', 'lambda.js'), 'export const handler = async () => ({});\n');
  ({ template } = synth({
    slackAssetDir: assetDir,
    gpuInstanceType: 'g5.2xlarge',
    artifactPrefix: 'team',
  }));
});
afterAll(() => rmSync(assetDir, { recursive: true, force: true }));

const json = () => JSON.stringify(template.toJSON());

describe('artifact bucket', () => {
  it('is versioned, encrypted, private and TLS-only', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain' });
  });

  it('expires tagged checkpoints and old versions, and nothing current that is not a checkpoint', () => {
    expect(CHECKPOINT_TAG).toEqual(STORE_CHECKPOINT_TAG);
    const bucket = Object.values(template.findResources('AWS::S3::Bucket'))[0] as {
      Properties: { LifecycleConfiguration: { Rules: Record<string, unknown>[] } };
    };
    const rules = bucket.Properties.LifecycleConfiguration.Rules;
    const expiring = rules.filter((rule) => rule.ExpirationInDays !== undefined);
    expect(expiring).toEqual([
      expect.objectContaining({
        Prefix: 'team/',
        TagFilters: [{ Key: CHECKPOINT_TAG.key, Value: CHECKPOINT_TAG.value }],
        ExpirationInDays: DEFAULT_SETTINGS.checkpointExpiryDays,
        Status: 'Enabled',
      }),
    ]);
    expect(rules).toContainEqual(
      expect.objectContaining({
        NoncurrentVersionExpiration: { NoncurrentDays: DEFAULT_SETTINGS.noncurrentExpiryDays },
        Status: 'Enabled',
      }),
    );
  });
});

describe('GPU workers', () => {
  it('run on an ECS GPU AMI auto-scaling group of the chosen type that scales to zero', () => {
    template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      MinSize: '0',
      MaxSize: String(DEFAULT_SETTINGS.gpuMaxInstances),
    });
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({ InstanceType: 'g5.2xlarge' }),
    });
    // The AMI comes from the ECS-optimized GPU AMI's SSM parameter.
    const parameters = JSON.stringify(template.toJSON().Parameters);
    expect(parameters).toContain('/aws/service/ecs/optimized-ami/amazon-linux-2/gpu/recommended/image_id');
    expect(synth({}).template.toJSON()).toSatisfy((t: unknown) => JSON.stringify(t).includes('g4dn.xlarge'));
  });

  it('scale out on demand through a managed capacity provider', () => {
    template.hasResourceProperties('AWS::ECS::CapacityProvider', {
      AutoScalingGroupProvider: Match.objectLike({
        ManagedScaling: Match.objectLike({ Status: 'ENABLED', TargetCapacity: 100 }),
      }),
    });
    template.hasResourceProperties('AWS::ECS::Service', {
      DesiredCount: 0,
      CapacityProviderStrategy: [Match.objectLike({ Weight: 1 })],
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 0,
      ServiceNamespace: 'ecs',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: METRIC_GPU_BACKLOG });
  });

  it('run the GPU worker container with a GPU, on the GPU queue, secrets from Secrets Manager', () => {
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      RequiresCompatibilities: ['EC2'],
      ContainerDefinitions: [
        Match.objectLike({
          Command: ['--queues', 'gpu'],
          ResourceRequirements: [{ Type: 'GPU', Value: '1' }],
          LogConfiguration: Match.objectLike({ LogDriver: 'awslogs' }),
        }),
      ],
    });
  });
});

describe('CPU workers', () => {
  it('run on Fargate on the CPU queue', () => {
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      RequiresCompatibilities: ['FARGATE'],
      ContainerDefinitions: [Match.objectLike({ Command: ['--queues', 'cpu'] })],
    });
    template.hasResourceProperties('AWS::ECS::Service', { LaunchType: 'FARGATE', DesiredCount: 1 });
  });
});

describe('Temporal connection', () => {
  it('reaches both workers only as ECS secrets, one per key of the secret', () => {
    const tasks = Object.values(template.findResources('AWS::ECS::TaskDefinition')) as {
      Properties: {
        ContainerDefinitions: { Secrets: { Name: string }[]; Environment: { Name: string }[] }[];
      };
    }[];
    expect(tasks).toHaveLength(2);
    for (const task of tasks) {
      const [container] = task.Properties.ContainerDefinitions;
      const temporalKeys = container?.Secrets.map((secret) => secret.Name).filter(
        (name) => name !== 'SLACK_BOT_TOKEN',
      );
      expect(temporalKeys?.sort()).toEqual([...TEMPORAL_SECRET_KEYS].sort());
      const plain = container?.Environment.map((variable) => variable.Name) ?? [];
      expect(plain.some((name) => name.startsWith('TEMPORAL_'))).toBe(false);
      expect(plain).toContain('SPIKENAS_ARTIFACTS');
    }
    // Exactly one of the two (the CPU workers) publishes the GPU backlog that the GPU service scales on.
    const publishers = tasks.filter((task) =>
      task.Properties.ContainerDefinitions[0]?.Environment.some(
        (v) => v.Name === 'SPIKENAS_BACKLOG_METRIC_SECONDS',
      ),
    );
    expect(publishers).toHaveLength(1);
    // The template holds the secrets' shape (empty keys), never a value.
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({
        SecretStringTemplate: JSON.stringify(
          Object.fromEntries(TEMPORAL_SECRET_KEYS.map((key) => [key, ''])),
        ),
      }),
    });
    template.resourceCountIs('AWS::SecretsManager::Secret', 2);
    expect(json()).not.toMatch(/"SecretString"\s*:/);
  });
});
describe('Slack bot token on the workers', () => {
  it('reaches the CPU workers, which post results, from the Slack secret; the GPU workers do not get it', () => {
    const containers = Object.values(template.findResources('AWS::ECS::TaskDefinition')).map(
      (task) =>
        (
          task as {
            Properties: {
              ContainerDefinitions: { Command: string[]; Secrets: { Name: string; ValueFrom: unknown }[] }[];
            };
          }
        ).Properties.ContainerDefinitions[0],
    );
    const tokenOf = (queue: string) =>
      containers
        .find((container) => container?.Command.join(' ') === `--queues ${queue}`)
        ?.Secrets.find((secret) => secret.Name === 'SLACK_BOT_TOKEN');
    expect(JSON.stringify(tokenOf('cpu')?.ValueFrom)).toMatch(/SlackSecret.*:SLACK_BOT_TOKEN::/);
    expect(tokenOf('gpu')).toBeUndefined();
  });
});

describe('least-privilege IAM', () => {
  it('lets task roles touch only objects under the prefix and list only that prefix', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as {
      Properties: { PolicyName: unknown; PolicyDocument: { Statement: Record<string, unknown>[] } };
    }[];
    const s3Statements = policies
      .filter((policy) => JSON.stringify(policy.Properties.PolicyName).includes('TaskRole'))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement)
      .filter((statement) => JSON.stringify(statement.Action).includes('s3:'));
    expect(s3Statements).toHaveLength(4);
    for (const statement of s3Statements) {
      const resource = JSON.stringify(statement.Resource);
      const actions = ([] as string[]).concat(statement.Action as string | string[]);
      expect(actions.some((action) => action.includes('*'))).toBe(false);
      if (actions.includes('s3:ListBucket')) {
        expect(actions).toEqual(['s3:ListBucket']);
        expect(statement.Condition).toEqual({ StringLike: { 's3:prefix': ['team/*', 'team/'] } });
        expect(resource).not.toContain('/*');
      } else {
        expect(resource).toContain('/team/*');
        expect(actions).not.toContain('s3:DeleteObject');
      }
    }
  });
});

describe('monitoring', () => {
  it('has log groups, a dashboard and alarms for failed workflows and worker health', () => {
    template.resourceCountIs('AWS::Logs::LogGroup', 3);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: METRIC_WORKFLOWS_FAILED,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'RunningTaskCount',
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'CPUUtilization', Threshold: 90 });
  });
});

describe('Slack bot', () => {
  it('is a Lambda behind an open function URL that reads its secret by ARN', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'dist/slack/lambda.handler',
      Runtime: 'nodejs20.x',
      Environment: {
        Variables: Match.objectLike({
          SPIKENAS_SLACK_SECRET_ARN: { Ref: Match.stringLikeRegexp('SlackSecret') },
        }),
      },
    });
    template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'NONE' });
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({
        SecretStringTemplate: JSON.stringify(Object.fromEntries(SLACK_SECRET_KEYS.map((key) => [key, '']))),
      }),
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(['secretsmanager:GetSecretValue']),
            Resource: { Ref: Match.stringLikeRegexp('SlackSecret') },
          }),
        ]),
      },
    });
  });

  it('is left out with a warning, and synth still works, when the Lambda was not built', () => {
    const missing = synth({ slackAssetDir: join(assetDir, 'nowhere') });
    expect(
      missing.template.findResources('AWS::Lambda::Function', {
        Properties: { Handler: 'dist/slack/lambda.handler' },
      }),
    ).toEqual({});
    missing.template.resourceCountIs('AWS::Lambda::Url', 0);
    missing.template.resourceCountIs('AWS::ECS::Service', 2);
    Annotations.fromStack(missing.stack).hasWarning('*', Match.stringLikeRegexp('Slack bot left out'));
  });

  it('rejects a bad context value by name', () => {
    expect(() => synth({ gpuMaxInstances: 'many' })).toThrow(/gpuMaxInstances/);
    expect(() => synth({ artifactPrefix: '/x/' })).toThrow(/artifactPrefix/);
  });
});
