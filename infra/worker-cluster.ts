/** The network and the ECS cluster every worker runs in, and what every worker container is given. */
import { aws_ec2 as ec2, aws_ecs as ecs, type Stack } from 'aws-cdk-lib';
import type { ArtifactBucket } from './artifact-bucket.js';
import type { ConnectionSecrets } from './connection-secrets.js';
import type { SpikeNasSettings } from './settings.js';

/** Like every concern of the stack (see stack.ts), its resources are created in the stack's own scope. */
export class WorkerCluster {
  readonly vpc: ec2.Vpc;
  readonly cluster: ecs.Cluster;

  constructor(stack: Stack) {
    // Public subnets only, no NAT gateway: the workers make outbound calls only (Temporal, S3, ECR).
    this.vpc = new ec2.Vpc(stack, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }],
    });
    this.cluster = new ecs.Cluster(stack, 'Cluster', {
      vpc: this.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });
  }
}

/** What a worker service is built from. */
export interface WorkerProps {
  workers: WorkerCluster;
  artifacts: ArtifactBucket;
  secrets: ConnectionSecrets;
  settings: SpikeNasSettings;
}

/** The plain environment of every worker container: where the artifacts are and the two task queues. */
export function workerEnvironment(artifacts: ArtifactBucket): Record<string, string> {
  return {
    SPIKENAS_ARTIFACTS: artifacts.uri,
    SPIKENAS_GPU_TASK_QUEUE: 'spikenas-gpu',
    SPIKENAS_CPU_TASK_QUEUE: 'spikenas-cpu',
  };
}
