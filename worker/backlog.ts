/**
 * The GPU queue's backlog as a CloudWatch metric (embedded metric format in the log), which the CDK stack
 * scales the GPU workers on: from zero when searches wait, back to zero when none do.
 */
import proto from '@temporalio/proto';
import type { NativeConnection } from '@temporalio/worker';
import { METRIC_GPU_BACKLOG, metricLine } from '../common/metrics.js';

// A CommonJS module: its namespaces come through the default export under ESM.
const { TaskQueueKind, TaskQueueType } = proto.temporal.api.enums.v1;

/** Activity tasks waiting on `queue` that no worker has taken yet (the server's approximate count). */
export async function activityBacklog(
  connection: NativeConnection,
  namespace: string,
  queue: string,
): Promise<number> {
  const response = await connection.workflowService.describeTaskQueue({
    namespace,
    taskQueue: { name: queue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    taskQueueType: TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
    reportStats: true,
  });
  return Number(response.stats?.approximateBacklogCount ?? 0);
}

/** One log line that CloudWatch reads as the GPU backlog gauge the GPU workers scale on (common/metrics.ts). */
export function backlogMetricLine(queue: string, backlog: number, now = Date.now()): string {
  return metricLine(METRIC_GPU_BACKLOG, backlog, { taskQueue: queue }, now);
}
