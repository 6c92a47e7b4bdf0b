/**
 * The CloudWatch metrics spikenas publishes, named once: the workers write them as log lines in CloudWatch's
 * embedded metric format (a failed run's outcome, the GPU queue's backlog), and the CDK stack (infra/) alarms
 * and scales on the same names. Off AWS a metric line is one JSON log line.
 */
export const METRIC_NAMESPACE = 'SpikeNAS';
/** Search workflows that failed (pipeline's outcome step, one per failure); the stack alarms on it. */
export const METRIC_WORKFLOWS_FAILED = 'WorkflowsFailed';
/** Activity tasks waiting on the GPU queue (CPU workers, every minute); the GPU service scales on it. */
export const METRIC_GPU_BACKLOG = 'GpuTaskQueueBacklog';

export type MetricName = typeof METRIC_WORKFLOWS_FAILED | typeof METRIC_GPU_BACKLOG;

/**
 * One log line that CloudWatch reads as `value` of the count metric `name` in METRIC_NAMESPACE, without
 * dimensions; `fields` ride along as searchable log properties.
 */
export function metricLine(
  name: MetricName,
  value: number,
  fields: Record<string, string>,
  now = Date.now(),
): string {
  return JSON.stringify({
    _aws: {
      Timestamp: now,
      CloudWatchMetrics: [
        { Namespace: METRIC_NAMESPACE, Dimensions: [[]], Metrics: [{ Name: name, Unit: 'Count' }] },
      ],
    },
    [name]: value,
    ...fields,
  });
}
