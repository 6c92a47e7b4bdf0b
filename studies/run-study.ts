import { ProcessPool } from './process-pool.js';
import type { StudyFile } from './study-file.js';

/**
 * Runs a study's work on a pool of `workers` job processes. However it ends (done, failed, Ctrl-C or
 * SIGTERM), the job processes stop and the study's file is summarised and formatted, ready to commit.
 */
export async function runStudy<S, R, Summary>(
  study: StudyFile<S, R, Summary>,
  workers: number,
  work: (pool: ProcessPool) => Promise<void>,
): Promise<void> {
  const pool = new ProcessPool(workers);
  const stop = (signal: NodeJS.Signals, code: number) =>
    process.once(signal, () => {
      pool.close();
      study.finish();
      process.exit(code);
    });
  stop('SIGINT', 130);
  stop('SIGTERM', 143);
  try {
    await work(pool);
  } finally {
    pool.close();
    study.finish();
  }
}
