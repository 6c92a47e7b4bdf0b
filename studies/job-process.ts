/** A study's job process: runs the jobs its parent sends (studies/process-pool.ts), one at a time. */
import { runJob, type StudyJob } from './jobs.js';

process.on('message', async (message: { id: number; job: StudyJob }) => {
  try {
    const outcome = await runJob(message.job);
    process.send?.({ id: message.id, outcome });
  } catch (error) {
    process.send?.({ id: message.id, error: error instanceof Error ? error.message : String(error) });
  }
});

// A study that stops (finished, killed or crashed) takes its job processes with it.
process.on('disconnect', () => process.exit(0));
