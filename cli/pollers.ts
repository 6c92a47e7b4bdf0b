/**
 * Task queues that have work waiting and no worker polling them: the server knows both (DescribeTaskQueue),
 * and a search waiting on such a queue would otherwise just sit at its percentage with nothing said.
 */
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { QueueNames } from '../contract/temporal.js';

// A CommonJS module: its namespaces come through the default export under ESM.
const { TaskQueueKind, TaskQueueType } = proto.temporal.api.enums.v1;

export interface UnpolledQueue {
  role: 'cpu' | 'gpu';
  queue: string;
  kind: 'workflow' | 'activity';
  /** Tasks waiting, the server's approximate count. */
  backlog: number;
}

/** The queues of `roles` (default: both) that have work waiting and no poller. */
export async function unpolledQueues(
  client: Client,
  queues: QueueNames,
  roles: UnpolledQueue['role'][] = ['cpu', 'gpu'],
): Promise<UnpolledQueue[]> {
  const all: Omit<UnpolledQueue, 'backlog'>[] = [
    { role: 'cpu', queue: queues.cpu, kind: 'workflow' },
    { role: 'cpu', queue: queues.cpu, kind: 'activity' },
    { role: 'gpu', queue: queues.gpu, kind: 'activity' },
  ];
  const checks = all.filter((check) => roles.includes(check.role));
  const found = await Promise.all(
    checks.map(async (check) => {
      const response = await client.workflowService.describeTaskQueue({
        namespace: client.options.namespace,
        taskQueue: { name: check.queue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
        taskQueueType:
          check.kind === 'workflow'
            ? TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW
            : TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
        reportStats: true,
      });
      const backlog = Number(response.stats?.approximateBacklogCount ?? 0);
      return (response.pollers ?? []).length === 0 && backlog > 0 ? { ...check, backlog } : null;
    }),
  );
  return found.filter((queue): queue is UnpolledQueue => queue !== null);
}

/** What the CLI says about one: the queue, what waits there, and the command that serves it. */
export function unpolledMessage(queue: UnpolledQueue): string {
  const tasks = `${queue.backlog} ${queue.kind} task${queue.backlog === 1 ? '' : 's'}`;
  return (
    `no worker polls task queue '${queue.queue}' (${queue.role.toUpperCase()} queue; ${tasks} waiting). ` +
    `Start one with: npx spikenas worker --queues ${queue.role}`
  );
}
