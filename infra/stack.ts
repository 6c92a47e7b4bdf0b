/**
 * Everything spikenas needs in one AWS account, one concern per file: the artifact bucket, the connection
 * secrets, GPU and CPU Temporal workers on ECS (the GPU ones scaled on the queue's backlog), the Slack bot as
 * a Lambda behind a function URL, and monitoring. Environment-agnostic: synthesizes offline with no account
 * or credentials.
 *
 * The concerns are classes that create their resources in the stack's own scope rather than Construct
 * subclasses: a construct level would prefix every logical ID, and CloudFormation would replace the deployed
 * resources, among them the secrets (their values) and the retained bucket (a new, empty one).
 */
import { CfnOutput, Stack, type StackProps, type aws_s3 as s3 } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ArtifactBucket } from './artifact-bucket.js';
import { ConnectionSecrets } from './connection-secrets.js';
import { CpuWorkers } from './cpu-workers.js';
import { GpuWorkers } from './gpu-workers.js';
import { Monitoring } from './monitoring.js';
import { type SpikeNasSettings, settingsFromContext } from './settings.js';
import { SlackBot } from './slack-bot.js';
import { WorkerCluster } from './worker-cluster.js';

export class SpikeNasStack extends Stack {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: StackProps & { settings?: SpikeNasSettings } = {}) {
    super(scope, id, props);
    const settings = props.settings ?? settingsFromContext(this);
    const artifacts = new ArtifactBucket(this, settings);
    this.bucket = artifacts.bucket;
    const secrets = new ConnectionSecrets(this);
    const workers = new WorkerCluster(this);
    const workerProps = { workers, artifacts, secrets, settings };
    const gpu = new GpuWorkers(this, workerProps);
    const cpu = new CpuWorkers(this, workerProps);
    const slack = new SlackBot(this, { artifacts, secrets, settings });
    new Monitoring(this, { workers, gpu, cpu });

    new CfnOutput(this, 'ArtifactsUri', { value: artifacts.uri });
    new CfnOutput(this, 'GpuImageRepository', { value: gpu.repository.repositoryUri });
    new CfnOutput(this, 'CpuImageRepository', { value: cpu.repository.repositoryUri });
    new CfnOutput(this, 'TemporalSecretArn', { value: secrets.temporal.secretArn });
    new CfnOutput(this, 'SlackSecretArn', { value: secrets.slack.secretArn });
    if (slack.requestUrl !== undefined) new CfnOutput(this, 'SlackRequestUrl', { value: slack.requestUrl });
  }
}
