/** The names a search's workflow, its task queues and its signals go by on Temporal. */

export const TASK_QUEUE_CPU_DEFAULT = 'spikenas-cpu';
export const TASK_QUEUE_GPU_DEFAULT = 'spikenas-gpu';
export const SEARCH_WORKFLOW = 'spikeNasSearch';
/** The signal a heavy activity sends its workflow with its progress inside the stage. */
export const STAGE_WORK_SIGNAL = 'stageWork';
/** The signal that lets a search started with holdTraining train its winner. */
export const RELEASE_TRAINING_SIGNAL = 'releaseTraining';

/** The task queues a search's activities run on: light stages on cpu, scoring and training on gpu. */
export interface QueueNames {
  cpu: string;
  gpu: string;
}
