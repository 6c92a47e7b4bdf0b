/**
 * The one worker entrypoint. A process serves the CPU queue (workflows and light steps), the GPU queue
 * (heavy steps, one at a time per thread), or both, which is the local default.
 */
import { existsSync } from 'node:fs';
import { NativeConnection, Worker } from '@temporalio/worker';
import * as activities from '../activities/index.js';
import { taskQueues, temporalConnectConfig } from '../cli/temporal.js';
import { closeThreads, heavyThreadCount } from '../pipeline/threads.js';
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
  const { connectionOptions, namespace } = temporalConnectConfig();
  const connection = await NativeConnection.connect(connectionOptions);
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
          : { maxConcurrentActivityTaskExecutions: heavyThreadCount() }),
        // On SIGTERM running activities get this long to finish; then they are cancelled and their last
        // checkpoint is where the retry resumes.
        shutdownGraceTime: '10s',
      }),
    ),
  );
  log(
    `spikenas worker: ${options.roles.map((r) => `${r} queue '${queues[r]}'`).join(', ')} on ` +
      `${connectionOptions.address} (namespace ${namespace}), ${heavyThreadCount()} heavy threads`,
  );
  options.signal?.addEventListener('abort', () => {
    for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
  });
  try {
    await Promise.all(workers.map((worker) => worker.run()));
  } finally {
    await closeThreads();
    await connection.close();
  }
}
