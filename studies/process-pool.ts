/**
 * Job processes for a study. Small networks leave most of a core idle between kernels, so one process per
 * core with a single TensorFlow thread each does more work than one process using every core (measured
 * here, fmnist-small training at batch 64: two 1-thread processes 308 ms a step each, one 2-thread
 * process 448 ms). Processes, not worker threads: TensorFlow's thread pool is per process.
 */
import { fileURLToPath } from 'node:url';
import workerpool, { type Pool } from 'workerpool';
import type { JobProcessMethods } from './job-process.js';
import type { JobOutcome, StudyJob } from './jobs.js';

const ENTRY = fileURLToPath(new URL('./job-process.js', import.meta.url));

export class ProcessPool {
  private readonly pool: Pool;

  constructor(size: number) {
    this.pool = workerpool.pool(ENTRY, {
      workerType: 'process',
      minWorkers: size,
      maxWorkers: size,
      forkOpts: { env: { ...process.env, TF_NUM_INTRAOP_THREADS: '1', TF_NUM_INTEROP_THREADS: '1' } },
    });
  }

  async run<J extends StudyJob>(job: J): Promise<JobOutcome<J>> {
    // runJob's outcome type follows the job's kind, which workerpool's typing of exec cannot express.
    const outcome: unknown = await this.pool.exec<JobProcessMethods['runJob']>('runJob', [job]);
    return outcome as JobOutcome<J>;
  }

  close(): void {
    void this.pool.terminate(true);
  }
}
