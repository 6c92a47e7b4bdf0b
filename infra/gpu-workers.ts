/**
 * The GPU workers: EC2 capacity that scales to zero and out on demand via the capacity provider, an ECS
 * service of one GPU task per instance, their image repository and logs.
 */
import {
  aws_autoscaling as autoscaling,
  aws_ec2 as ec2,
  aws_ecr as ecr,
  aws_ecs as ecs,
  aws_iam as iam,
  aws_logs as logs,
  RemovalPolicy,
  type Stack,
} from 'aws-cdk-lib';
import { scaleOnGpuBacklog } from './backlog-scaling.js';
import { type WorkerProps, workerEnvironment } from './worker-cluster.js';

/** Like every concern of the stack (see stack.ts), its resources are created in the stack's own scope. */
export class GpuWorkers {
  readonly repository: ecr.Repository;
  readonly instances: autoscaling.AutoScalingGroup;
  readonly service: ecs.Ec2Service;

  constructor(stack: Stack, { workers, artifacts, secrets, settings }: WorkerProps) {
    const { vpc, cluster } = workers;
    this.repository = new ecr.Repository(stack, 'GpuWorkerImage', { repositoryName: 'spikenas-worker-gpu' });

    // A launch template (launch configurations are retired for new accounts); the capacity provider adds
    // the user data that joins the instance to the cluster.
    const launchTemplate = new ec2.LaunchTemplate(stack, 'GpuLaunchTemplate', {
      instanceType: new ec2.InstanceType(settings.gpuInstanceType),
      machineImage: ecs.EcsOptimizedImage.amazonLinux2(ecs.AmiHardwareType.GPU),
      userData: ec2.UserData.forLinux(),
      role: new iam.Role(stack, 'GpuInstanceRole', {
        assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      }),
      securityGroup: new ec2.SecurityGroup(stack, 'GpuInstanceSecurityGroup', {
        vpc,
        allowAllOutbound: true,
      }),
      associatePublicIpAddress: true,
      requireImdsv2: true,
    });
    this.instances = new autoscaling.AutoScalingGroup(stack, 'GpuInstances', {
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      launchTemplate,
      minCapacity: 0,
      maxCapacity: settings.gpuMaxInstances,
    });
    const capacity = new ecs.AsgCapacityProvider(stack, 'GpuCapacity', {
      autoScalingGroup: this.instances,
      enableManagedScaling: true,
      targetCapacityPercent: 100,
      enableManagedTerminationProtection: false,
    });
    cluster.addAsgCapacityProvider(capacity);

    const logGroup = new logs.LogGroup(stack, 'GpuWorkerLogs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const task = new ecs.Ec2TaskDefinition(stack, 'GpuWorkerTask');
    task.addContainer('worker', {
      image: ecs.ContainerImage.fromEcrRepository(this.repository, settings.imageTag),
      // The image's entrypoint is `node dist/cli/main.js worker`; this picks its queue.
      command: ['--queues', 'gpu'],
      memoryReservationMiB: 12_288,
      gpuCount: 1,
      environment: {
        ...workerEnvironment(artifacts),
        SPIKENAS_BACKEND: 'tensorflow',
        // One step at a time on the one GPU: TensorFlow takes the whole GPU's memory per process.
        SPIKENAS_THREAD_POLICY: 'large',
      },
      secrets: secrets.temporalForWorkers(),
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'gpu', logGroup }),
    });
    artifacts.grantWorker(task.taskRole);
    this.service = new ecs.Ec2Service(stack, 'GpuWorkers', {
      cluster,
      taskDefinition: task,
      desiredCount: 0,
      // A GPU task is a whole instance: replace in place rather than double the fleet during deploys.
      minHealthyPercent: 0,
      capacityProviderStrategies: [{ capacityProvider: capacity.capacityProviderName, weight: 1 }],
      circuitBreaker: { rollback: true },
    });
    // Tasks follow the GPU queue's backlog; instances follow the tasks.
    scaleOnGpuBacklog(this.service, settings.gpuMaxInstances);
  }
}
