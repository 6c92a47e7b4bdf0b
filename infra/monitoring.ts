/** Alarms for failed searches and worker health, and a dashboard of the workers. */
import { aws_cloudwatch as cloudwatch, Duration, type aws_ecs as ecs, type Stack } from 'aws-cdk-lib';
import { METRIC_NAMESPACE, METRIC_WORKFLOWS_FAILED } from '../common/metrics.js';
import { gpuBacklogMetric } from './backlog-scaling.js';
import type { CpuWorkers } from './cpu-workers.js';
import type { GpuWorkers } from './gpu-workers.js';
import type { WorkerCluster } from './worker-cluster.js';

/** Like every concern of the stack (see stack.ts), its resources are created in the stack's own scope. */
export class Monitoring {
  constructor(
    stack: Stack,
    { workers, gpu, cpu }: { workers: WorkerCluster; gpu: GpuWorkers; cpu: CpuWorkers },
  ) {
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
        dimensionsMap: { ClusterName: workers.cluster.clusterName, ServiceName: service.serviceName },
        statistic: 'Minimum',
        period: Duration.minutes(1),
      });
    const cpuRunning = runningTasks(cpu.service);
    const gpuRunning = runningTasks(gpu.service);

    new cloudwatch.Alarm(stack, 'WorkflowsFailedAlarm', {
      alarmDescription: 'A spikenas search workflow failed (metric published by the workers).',
      metric: failed,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    new cloudwatch.Alarm(stack, 'CpuWorkersDownAlarm', {
      alarmDescription: 'No CPU worker is running: light stages cannot make progress.',
      metric: cpuRunning,
      threshold: 1,
      evaluationPeriods: 5,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    new cloudwatch.Alarm(stack, 'CpuWorkersBusyAlarm', {
      alarmDescription: 'CPU workers above 90% CPU for 15 minutes: add workers (-c cpuWorkers=N).',
      metric: cpu.service.metricCpuUtilization({ period: Duration.minutes(5) }),
      threshold: 90,
      evaluationPeriods: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    });

    const dashboard = new cloudwatch.Dashboard(stack, 'Dashboard', {
      dashboardName: `${stack.stackName}-workers`,
    });
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Failed workflows', left: [failed] }),
      new cloudwatch.GraphWidget({ title: 'Running worker tasks', left: [cpuRunning, gpuRunning] }),
      new cloudwatch.GraphWidget({
        title: 'Worker CPU %',
        left: [cpu.service.metricCpuUtilization(), gpu.service.metricCpuUtilization()],
      }),
      new cloudwatch.GraphWidget({
        title: 'GPU backlog and instances',
        left: [gpuBacklogMetric()],
        right: [
          new cloudwatch.Metric({
            namespace: 'AWS/AutoScaling',
            metricName: 'GroupInServiceInstances',
            dimensionsMap: { AutoScalingGroupName: gpu.instances.autoScalingGroupName },
          }),
        ],
      }),
    );
  }
}
