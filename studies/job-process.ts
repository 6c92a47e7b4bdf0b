/**
 * A study's job process (studies/process-pool.ts): runs the jobs its parent sends, one at a time. It exits
 * when the study's IPC channel closes, so a study that stops (finished, killed or crashed) takes it along.
 */
import workerpool from 'workerpool';
import { runJob } from './jobs.js';

export type JobProcessMethods = { runJob: typeof runJob };

workerpool.worker({ runJob } satisfies JobProcessMethods);
