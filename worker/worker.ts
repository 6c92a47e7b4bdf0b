/**
 * The one worker entrypoint. A process serves the CPU queue (workflows and light steps), the GPU queue
 * (heavy steps, in processes sized by pipeline/thread-policy.ts), or both, which is the local default.
 */
import { existsSync } from 'node:fs';
import {
  DefaultLogger,
  type LogLevel,
  type LogMetadata,
  NativeConnection,
  Runtime,
  Worker,
} from '@temporalio/worker';
import * as activities from '../activities/index.js';
import { taskQueues, temporalConnectConfig, unreachable } from '../client/temporal.js';
import { closeStepProcesses, heavySlots } from '../pipeline/step-processes.js';
import { activityBacklog, backlogMetricLine } from './backlog.js';
import { WORKFLOW_BUNDLE } from './bundle-path.js';

export type QueueRole = 'cpu' | 'gpu';

export interface WorkerOptions {
  roles: QueueRole[];
  /** Resolves when the worker should stop (the Temporal runtime also stops it on SIGINT/SIGTERM). */
  signal?: AbortSignal;
  log?: (message: string) => void;
}

export async function runWorker(options: WorkerOptions): Promise<void> {
  const log = options.log ?? ((message: string) => console.error(message));
  // The SDK's INFO lines (state changes of every worker) drown the progress a person watches.
  Runtime.install({
    logger: new WorkerLogger((process.env.SPIKENAS_WORKER_LOG_LEVEL ?? 'WARN') as LogLevel),
  });
  const { connectionOptions, namespace } = temporalConnectConfig();
  const connection = await NativeConnection.connect(connectionOptions).catch((error: unknown) => {
    throw unreachable(connectionOptions.address as string, error);
  });
  const queues = taskQueues();
  if (!existsSync(WORKFLOW_BUNDLE))
    throw new Error(`workflow bundle missing at ${WORKFLOW_BUNDLE}: run npm run build`);
  const workers = await Promise.all(
    options.roles.map((role) =>
      Worker.create({
        connection,
        namespace,
        taskQueue: queues[role],
        activities,
        ...(role === 'cpu'
          ? { workflowBundle: { codePath: WORKFLOW_BUNDLE } }
          : { maxConcurrentActivityTaskExecutions: heavySlots() }),
        // On SIGTERM running activities get this long to finish; then they are cancelled and their last
        // checkpoint is where the retry resumes.
        shutdownGraceTime: '10s',
      }),
    ),
  );
  log(
    `spikenas worker: ${options.roles.map((r) => `${r} queue '${queues[r]}'`).join(', ')} on ` +
      `${connectionOptions.address} (namespace ${namespace}), ${heavySlots()} heavy-step slots`,
  );
  const publishing = publishBacklog(connection, namespace, options.roles.includes('cpu') ? queues.gpu : null);
  options.signal?.addEventListener('abort', () => {
    for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
  });
  try {
    await Promise.all(workers.map((worker) => worker.run()));
  } finally {
    clearInterval(publishing);
    await closeStepProcesses();
    await connection.close();
  }
}

/**
 * With SPIKENAS_BACKLOG_METRIC_SECONDS set (the CDK stack sets it on CPU workers), logs the GPU queue's
 * backlog as a metric line at that interval.
 */
function publishBacklog(connection: NativeConnection, namespace: string, gpuQueue: string | null) {
  const seconds = Number(process.env.SPIKENAS_BACKLOG_METRIC_SECONDS);
  if (gpuQueue === null || !(seconds > 0)) return undefined;
  const timer = setInterval(() => {
    activityBacklog(connection, namespace, gpuQueue).then(
      (backlog) => console.log(backlogMetricLine(gpuQueue, backlog)),
      (error: Error) => console.error(`spikenas worker: backlog of ${gpuQueue} not read: ${error.message}`),
    );
  }, seconds * 1000);
  timer.unref();
  return timer;
}

/**
 * The SDK's logger, less one line: a GPU-queue worker serves activities only, by design, and the SDK warns
 * "No workflows registered" at every start of one.
 */
class WorkerLogger extends DefaultLogger {
  override log(level: LogLevel, message: string, meta?: LogMetadata): void {
    if (message.startsWith('No workflows registered')) return;
    super.log(level, message, meta);
  }
}
