/**
 * The CPU workers, for the light stages: a Fargate service, its image repository and logs. They also
 * publish the GPU queue's backlog and post results to Slack.
 */
import {
  aws_ec2 as ec2,
  aws_ecr as ecr,
  aws_ecs as ecs,
  aws_logs as logs,
  RemovalPolicy,
  type Stack,
} from 'aws-cdk-lib';
import { type WorkerProps, workerEnvironment } from './worker-cluster.js';

/** Like every concern of the stack (see stack.ts), its resources are created in the stack's own scope. */
export class CpuWorkers {
  readonly repository: ecr.Repository;
  readonly service: ecs.FargateService;

  constructor(stack: Stack, { workers, artifacts, secrets, settings }: WorkerProps) {
    this.repository = new ecr.Repository(stack, 'CpuWorkerImage', { repositoryName: 'spikenas-worker-cpu' });
    const logGroup = new logs.LogGroup(stack, 'CpuWorkerLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const task = new ecs.FargateTaskDefinition(stack, 'CpuWorkerTask', { cpu: 2048, memoryLimitMiB: 4096 });
    task.addContainer('worker', {
      image: ecs.ContainerImage.fromEcrRepository(this.repository, settings.imageTag),
      command: ['--queues', 'cpu'],
      // The CPU workers publish the GPU queue's backlog every minute: the GPU service scales on it.
      environment: {
        ...workerEnvironment(artifacts),
        SPIKENAS_BACKEND: 'tensorflow',
        SPIKENAS_BACKLOG_METRIC_SECONDS: '60',
      },
      // The notifySlack step runs on the CPU queue and posts results with the bot token.
      secrets: { ...secrets.temporalForWorkers(), SLACK_BOT_TOKEN: secrets.slackBotTokenForWorkers() },
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'cpu', logGroup }),
    });
    artifacts.grantWorker(task.taskRole);
    this.service = new ecs.FargateService(stack, 'CpuWorkers', {
      cluster: workers.cluster,
      taskDefinition: task,
      desiredCount: settings.cpuWorkers,
      minHealthyPercent: 100,
      assignPublicIp: true,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      circuitBreaker: { rollback: true },
    });
  }
}
