import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  Annotations,
  aws_autoscaling as autoscaling,
  CfnOutput,
  aws_cloudwatch as cloudwatch,
  Duration,
  aws_ec2 as ec2,
  aws_ecr as ecr,
  aws_ecs as ecs,
  aws_iam as iam,
  aws_lambda as lambda,
  aws_logs as logs,
  RemovalPolicy,
  Stack,
  type StackProps,
  aws_s3 as s3,
  aws_secretsmanager as secretsmanager,
} from 'aws-cdk-lib';
import type { Construct } from 'constructs';

/**
 * The tag artifacts/s3-store.ts puts on checkpoint objects (keys with a `checkpoints/` segment); the
 * lifecycle rule below expires by it because lifecycle prefixes cannot hold wildcards (runs/<id>/…).
 * test/infra-stack.test.ts checks that the two agree.
 */
export const CHECKPOINT_TAG = { key: 'kind', value: 'checkpoint' } as const;

/** Metrics the workers publish (CloudWatch embedded metric format in their JSON logs). */
export const METRIC_NAMESPACE = 'SpikeNAS';
export const METRIC_WORKFLOWS_FAILED = 'WorkflowsFailed';
export const METRIC_GPU_BACKLOG = 'GpuTaskQueueBacklog';

/** Keys of the Temporal secret's JSON, injected into the workers under the same names. */
export const TEMPORAL_SECRET_KEYS = [
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS_CLIENT_CERT_DATA',
  'TEMPORAL_TLS_CLIENT_KEY_DATA',
] as const;
export const SLACK_SECRET_KEYS = ['SLACK_SIGNING_SECRET', 'SLACK_BOT_TOKEN'] as const;

export interface SpikeNasSettings {
  /** EC2 type of the GPU workers. */
  gpuInstanceType: string;
  gpuMaxInstances: number;
  cpuWorkers: number;
  /** Key prefix of every object the workers may touch, without slashes at the ends. */
  artifactPrefix: string;
  checkpointExpiryDays: number;
  noncurrentExpiryDays: number;
  imageTag: string;
  /** Folder holding dist/ (npm run build) and production node_modules/ for the Slack Lambda. */
  slackAssetDir: string;
}

export const DEFAULT_SETTINGS: SpikeNasSettings = {
  gpuInstanceType: 'g4dn.xlarge',
  gpuMaxInstances: 4,
  cpuWorkers: 1,
  artifactPrefix: 'spikenas',
  checkpointExpiryDays: 30,
  noncurrentExpiryDays: 30,
  imageTag: 'latest',
  slackAssetDir: '.spikenas/lambda',
};

/** Settings from CDK context (`cdk deploy -c gpuInstanceType=g5.xlarge`), defaults otherwise. */
export function settingsFromContext(scope: Construct): SpikeNasSettings {
  const read = (key: keyof SpikeNasSettings) => scope.node.tryGetContext(key) as string | number | undefined;
  const settings = { ...DEFAULT_SETTINGS };
  for (const key of Object.keys(DEFAULT_SETTINGS) as (keyof SpikeNasSettings)[]) {
    const value = read(key);
    if (value === undefined) continue;
    const fallback = DEFAULT_SETTINGS[key];
    if (typeof fallback === 'number') {
      const number = Number(value);
      if (!Number.isInteger(number) || number < 0)
        throw new Error(`context ${key}: '${value}' is not a count`);
      (settings as Record<string, unknown>)[key] = number;
    } else {
      (settings as Record<string, unknown>)[key] = String(value);
    }
  }
  if (!/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(settings.artifactPrefix)) {
    throw new Error(
      `context artifactPrefix: '${settings.artifactPrefix}' must be a key prefix like 'spikenas'`,
    );
  }
  return settings;
}

/**
 * Everything spikenas needs in one AWS account: the artifact bucket, GPU and CPU Temporal workers on ECS,
 * the Slack bot as a Lambda behind a function URL, secrets, logs, a dashboard and alarms.
 * Environment-agnostic: synthesizes offline with no account or credentials.
 */
export class SpikeNasStack extends Stack {
  readonly bucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: StackProps & { settings?: SpikeNasSettings } = {}) {
    super(scope, id, props);
    const settings = props.settings ?? settingsFromContext(this);
    const prefix = settings.artifactPrefix;

    this.bucket = new s3.Bucket(this, 'Artifacts', {
      versioned: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          id: 'expire-checkpoints',
          prefix: `${prefix}/`,
          tagFilters: { [CHECKPOINT_TAG.key]: CHECKPOINT_TAG.value },
          expiration: Duration.days(settings.checkpointExpiryDays),
        },
        {
          // Current objects other than checkpoints (winners, reports, manifests) are kept.
          id: 'expire-old-versions',
          noncurrentVersionExpiration: Duration.days(settings.noncurrentExpiryDays),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
    });
    const artifactsUri = `s3://${this.bucket.bucketName}/${prefix}`;

    const temporalSecret = new secretsmanager.Secret(this, 'TemporalSecret', {
      description:
        'Temporal connection for spikenas workers: JSON with TEMPORAL_* keys (see docs/deploy.md).',
      generateSecretString: placeholderJson(TEMPORAL_SECRET_KEYS),
    });
    const slackSecret = new secretsmanager.Secret(this, 'SlackSecret', {
      description: 'Slack bot: JSON with SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN (see docs/deploy.md).',
      generateSecretString: placeholderJson(SLACK_SECRET_KEYS),
    });

    // Public subnets only, no NAT gateway: the workers make outbound calls only (Temporal, S3, ECR).
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }],
    });
    const cluster = new ecs.Cluster(this, 'Cluster', {
      vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });

    const gpuRepo = new ecr.Repository(this, 'GpuWorkerImage', { repositoryName: 'spikenas-worker-gpu' });
    const cpuRepo = new ecr.Repository(this, 'CpuWorkerImage', { repositoryName: 'spikenas-worker-cpu' });

    const workerEnvironment = {
      SPIKENAS_ARTIFACTS: artifactsUri,
      SPIKENAS_GPU_TASK_QUEUE: 'spikenas-gpu',
      SPIKENAS_CPU_TASK_QUEUE: 'spikenas-cpu',
    };
    const workerSecrets = Object.fromEntries(
      TEMPORAL_SECRET_KEYS.map((key) => [key, ecs.Secret.fromSecretsManager(temporalSecret, key)]),
    );

    // GPU workers: EC2 capacity that scales to zero and out on demand via the capacity provider.
    // A launch template (launch configurations are retired for new accounts); the capacity provider adds
    // the user data that joins the instance to the cluster.
    const gpuLaunchTemplate = new ec2.LaunchTemplate(this, 'GpuLaunchTemplate', {
      instanceType: new ec2.InstanceType(settings.gpuInstanceType),
      machineImage: ecs.EcsOptimizedImage.amazonLinux2(ecs.AmiHardwareType.GPU),
      userData: ec2.UserData.forLinux(),
      role: new iam.Role(this, 'GpuInstanceRole', {
        assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      }),
      securityGroup: new ec2.SecurityGroup(this, 'GpuInstanceSecurityGroup', { vpc, allowAllOutbound: true }),
      associatePublicIpAddress: true,
      requireImdsv2: true,
    });
    const gpuGroup = new autoscaling.AutoScalingGroup(this, 'GpuInstances', {
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      launchTemplate: gpuLaunchTemplate,
      minCapacity: 0,
      maxCapacity: settings.gpuMaxInstances,
    });
    const gpuCapacity = new ecs.AsgCapacityProvider(this, 'GpuCapacity', {
      autoScalingGroup: gpuGroup,
      enableManagedScaling: true,
      targetCapacityPercent: 100,
      enableManagedTerminationProtection: false,
    });
    cluster.addAsgCapacityProvider(gpuCapacity);

    const gpuLogs = new logs.LogGroup(this, 'GpuWorkerLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const gpuTask = new ecs.Ec2TaskDefinition(this, 'GpuWorkerTask');
    gpuTask.addContainer('worker', {
      image: ecs.ContainerImage.fromEcrRepository(gpuRepo, settings.imageTag),
      // The image's entrypoint is `node dist/cli/main.js worker`; this picks its queue.
      command: ['--queues', 'gpu'],
      memoryReservationMiB: 12_288,
      gpuCount: 1,
      environment: { ...workerEnvironment, SPIKENAS_BACKEND: 'tensorflow' },
      secrets: workerSecrets,
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'gpu', logGroup: gpuLogs }),
    });
    grantArtifacts(gpuTask.taskRole, this.bucket, prefix);
    const gpuService = new ecs.Ec2Service(this, 'GpuWorkers', {
      cluster,
      taskDefinition: gpuTask,
      desiredCount: 0,
      // A GPU task is a whole instance: replace in place rather than double the fleet during deploys.
      minHealthyPercent: 0,
      capacityProviderStrategies: [{ capacityProvider: gpuCapacity.capacityProviderName, weight: 1 }],
      circuitBreaker: { rollback: true },
    });
    // Tasks follow the GPU queue's backlog (published by the workflow starter); instances follow the tasks.
    const backlog = new cloudwatch.Metric({
      namespace: METRIC_NAMESPACE,
      metricName: METRIC_GPU_BACKLOG,
      statistic: 'Maximum',
      period: Duration.minutes(1),
    });
    gpuService
      .autoScaleTaskCount({ minCapacity: 0, maxCapacity: settings.gpuMaxInstances })
      .scaleOnMetric('GpuBacklog', {
        metric: backlog,
        scalingSteps: [
          { upper: 0, change: -settings.gpuMaxInstances },
          { lower: 1, upper: 4, change: +1 },
          { lower: 4, change: +settings.gpuMaxInstances },
        ],
        cooldown: Duration.minutes(5),
      });

    // CPU workers for the light stages.
    const cpuLogs = new logs.LogGroup(this, 'CpuWorkerLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const cpuTask = new ecs.FargateTaskDefinition(this, 'CpuWorkerTask', { cpu: 2048, memoryLimitMiB: 4096 });
    cpuTask.addContainer('worker', {
      image: ecs.ContainerImage.fromEcrRepository(cpuRepo, settings.imageTag),
      command: ['--queues', 'cpu'],
      // The CPU workers publish the GPU queue's backlog every minute: the GPU service scales on it.
      environment: {
        ...workerEnvironment,
        SPIKENAS_BACKEND: 'tensorflow',
        SPIKENAS_BACKLOG_METRIC_SECONDS: '60',
      },
      // The notifySlack step runs on the CPU queue and posts results with the bot token.
      secrets: {
        ...workerSecrets,
        SLACK_BOT_TOKEN: ecs.Secret.fromSecretsManager(slackSecret, 'SLACK_BOT_TOKEN'),
      },
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'cpu', logGroup: cpuLogs }),
    });
    grantArtifacts(cpuTask.taskRole, this.bucket, prefix);
    const cpuService = new ecs.FargateService(this, 'CpuWorkers', {
      cluster,
      taskDefinition: cpuTask,
      desiredCount: settings.cpuWorkers,
      minHealthyPercent: 100,
      assignPublicIp: true,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      circuitBreaker: { rollback: true },
    });

    // The Slack bot. Without a built asset, synth still works and says what is missing.
    const slackUrl = this.addSlackBot(settings, slackSecret, temporalSecret, artifactsUri);

    this.addMonitoring(cluster, gpuService, cpuService, gpuGroup);

    new CfnOutput(this, 'ArtifactsUri', { value: artifactsUri });
    new CfnOutput(this, 'GpuImageRepository', { value: gpuRepo.repositoryUri });
    new CfnOutput(this, 'CpuImageRepository', { value: cpuRepo.repositoryUri });
    new CfnOutput(this, 'TemporalSecretArn', { value: temporalSecret.secretArn });
    new CfnOutput(this, 'SlackSecretArn', { value: slackSecret.secretArn });
    if (slackUrl !== undefined) new CfnOutput(this, 'SlackRequestUrl', { value: slackUrl });
  }

  private addSlackBot(
    settings: SpikeNasSettings,
    slackSecret: secretsmanager.Secret,
    temporalSecret: secretsmanager.Secret,
    artifactsUri: string,
  ): string | undefined {
    const assetDir = resolve(settings.slackAssetDir);
    if (!existsSync(join(assetDir, 'dist', 'slack', 'lambda.js'))) {
      Annotations.of(this).addWarningV2(
        'spikenas:slack-asset-missing',
        `Slack bot left out: ${join(assetDir, 'dist/slack/lambda.js')} does not exist. ` +
          'Build it as docs/deploy.md says, or pass -c slackAssetDir=<folder with dist/ and node_modules/>.',
      );
      return undefined;
    }
    const slackLogs = new logs.LogGroup(this, 'SlackBotLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const bot = new lambda.Function(this, 'SlackBot', {
      runtime: lambda.Runtime.NODEJS_20_X,
      handler: 'dist/slack/lambda.handler',
      code: lambda.Code.fromAsset(assetDir),
      memorySize: 512,
      timeout: Duration.seconds(30),
      logGroup: slackLogs,
      environment: {
        // ARNs only: the function reads the values from Secrets Manager at cold start.
        SPIKENAS_SLACK_SECRET_ARN: slackSecret.secretArn,
        SPIKENAS_TEMPORAL_SECRET_ARN: temporalSecret.secretArn,
        SPIKENAS_ARTIFACTS: artifactsUri,
      },
    });
    slackSecret.grantRead(bot);
    temporalSecret.grantRead(bot);
    // Slack signs every request; the function checks the signature, so the URL itself is open.
    const url = bot.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });
    return url.url;
  }

  private addMonitoring(
    cluster: ecs.Cluster,
    gpuService: ecs.Ec2Service,
    cpuService: ecs.FargateService,
    gpuGroup: autoscaling.AutoScalingGroup,
  ): void {
    const failed = new cloudwatch.Metric({
      namespace: METRIC_NAMESPACE,
      metricName: METRIC_WORKFLOWS_FAILED,
      statistic: 'Sum',
      period: Duration.minutes(5),
    });
    const runningTasks = (service: ecs.BaseService) =>
      new cloudwatch.Metric({
        namespace: 'ECS/ContainerInsights',
        metricName: 'RunningTaskCount',
        dimensionsMap: { ClusterName: cluster.clusterName, ServiceName: service.serviceName },
        statistic: 'Minimum',
        period: Duration.minutes(1),
      });
    const cpuRunning = runningTasks(cpuService);
    const gpuRunning = runningTasks(gpuService);

    new cloudwatch.Alarm(this, 'WorkflowsFailedAlarm', {
      alarmDescription: 'A spikenas search workflow failed (metric published by the workers).',
      metric: failed,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    new cloudwatch.Alarm(this, 'CpuWorkersDownAlarm', {
      alarmDescription: 'No CPU worker is running: light stages cannot make progress.',
      metric: cpuRunning,
      threshold: 1,
      evaluationPeriods: 5,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    new cloudwatch.Alarm(this, 'CpuWorkersBusyAlarm', {
      alarmDescription: 'CPU workers above 90% CPU for 15 minutes: add workers (-c cpuWorkers=N).',
      metric: cpuService.metricCpuUtilization({ period: Duration.minutes(5) }),
      threshold: 90,
      evaluationPeriods: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    });

    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${this.stackName}-workers`,
    });
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Failed workflows', left: [failed] }),
      new cloudwatch.GraphWidget({ title: 'Running worker tasks', left: [cpuRunning, gpuRunning] }),
      new cloudwatch.GraphWidget({
        title: 'Worker CPU %',
        left: [cpuService.metricCpuUtilization(), gpuService.metricCpuUtilization()],
      }),
      new cloudwatch.GraphWidget({
        title: 'GPU backlog and instances',
        left: [new cloudwatch.Metric({ namespace: METRIC_NAMESPACE, metricName: METRIC_GPU_BACKLOG })],
        right: [
          new cloudwatch.Metric({
            namespace: 'AWS/AutoScaling',
            metricName: 'GroupInServiceInstances',
            dimensionsMap: { AutoScalingGroupName: gpuGroup.autoScalingGroupName },
          }),
        ],
      }),
    );
  }
}

/** Least privilege: objects under `<prefix>/` only, and listing only that prefix. */
function grantArtifacts(role: iam.IRole, bucket: s3.Bucket, prefix: string): void {
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: [
        's3:GetObject',
        's3:PutObject',
        's3:PutObjectTagging',
        's3:AbortMultipartUpload',
        's3:ListMultipartUploadParts',
      ],
      resources: [bucket.arnForObjects(`${prefix}/*`)],
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['s3:ListBucket'],
      resources: [bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': [`${prefix}/*`, `${prefix}/`] } },
    }),
  );
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
