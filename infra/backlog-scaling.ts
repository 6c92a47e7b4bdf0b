/**
 * The GPU service's task count follows the GPU queue's backlog, which the CPU workers publish every minute
 * (worker/backlog.ts): from zero when searches wait, back to zero when none do.
 */
import { aws_cloudwatch as cloudwatch, Duration, type aws_ecs as ecs } from 'aws-cdk-lib';
import { METRIC_GPU_BACKLOG, METRIC_NAMESPACE } from '../common/metrics.js';

/** The backlog metric the workers publish, as the stack reads it. */
export function gpuBacklogMetric(props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
  return new cloudwatch.Metric({ namespace: METRIC_NAMESPACE, metricName: METRIC_GPU_BACKLOG, ...props });
}

export function scaleOnGpuBacklog(service: ecs.BaseService, maxTasks: number): void {
  service.autoScaleTaskCount({ minCapacity: 0, maxCapacity: maxTasks }).scaleOnMetric('GpuBacklog', {
    metric: gpuBacklogMetric({ statistic: 'Maximum', period: Duration.minutes(1) }),
    scalingSteps: [
      { upper: 0, change: -maxTasks },
      { lower: 1, upper: 4, change: +1 },
      { lower: 4, change: +maxTasks },
    ],
    cooldown: Duration.minutes(5),
  });
}
