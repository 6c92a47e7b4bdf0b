/**
 * What crosses Temporal payloads: small, JSON-serialisable requests, progress and summaries.
 * Datasets, tensors and candidate logs never do; they travel as artifact URIs.
 */

export const TASK_QUEUE_CPU_DEFAULT = 'spikenas-cpu';
export const TASK_QUEUE_GPU_DEFAULT = 'spikenas-gpu';
export const SEARCH_WORKFLOW = 'spikeNasSearch';
/** The signal a heavy activity sends its workflow with its progress inside the stage. */
export const STAGE_WORK_SIGNAL = 'stageWork';
/** The signal that lets a search started with holdTraining train its winner. */
export const RELEASE_TRAINING_SIGNAL = 'releaseTraining';
/** What each scoring pass counts. */
export const PASS_UNIT = { first: 'first-pass candidates', full: 'full SAHD candidates' } as const;

export type SearchMode = 'spikenas' | 'snasnet';
export type SearchProfile = 'quick' | 'paper';

import type { WeightBits } from '../search/memory.js';

export type { WeightBits };

export interface SearchRequest {
  /** Dataset name ('fashion-mnist', 'mnist', 'cifar10', 'cifar100', 'synthetic') or a path to its files. */
  dataset: string;
  /** Memory budget for the weights, as given (e.g. '256KiB'); null only in snasnet mode. */
  budget: string | null;
  mode: SearchMode;
  profile: SearchProfile;
  seed: number;
  weightBits: WeightBits;
  /** How many parallel shards the memory-aware search is split into. */
  shards: number;
  /** Artifact store URI: a path, file://… or s3://bucket/prefix. */
  artifacts: string;
  fleet?: string;
  /** Matrices to score beside the searched space, e.g. the architecture a fleet runs today. */
  include?: string[];
  /** Where the bot posts how the search ended: a channel, and a thread in it for a search started from Slack. */
  notify?: SlackDestination;
  /**
   * Wait after the search for the releaseTraining signal before training the winner: bench:search gives
   * each mode's search every core in turn, then trains both winners side by side.
   */
  holdTraining?: boolean;
}

export interface SlackDestination {
  slackChannel: string;
  /** The ts of the bot's acknowledgement the result is posted under. */
  slackThreadTs?: string;
}

/** The stages of a search, in the order they run (snasnet mode skips the impact and enhancement stages). */
export const STAGE_NAMES = [
  'prepare-dataset',
  'operation-impact',
  'cell-enhancement',
  'memory-aware-search',
  'train-winner',
  'quantize-evaluate',
  'publish',
] as const;

export type StageName = (typeof STAGE_NAMES)[number];

/** The stages' own wall times summed: the time a search worked, its pauses left out. */
export function totalStageMs(stageWallMs: Partial<Record<StageName, number>>): number {
  return Object.values(stageWallMs).reduce((sum: number, ms) => sum + (ms ?? 0), 0);
}

/** The stages a search of this mode runs, in order. */
export function stagesOf(mode: SearchMode): StageName[] {
  return STAGE_NAMES.filter(
    (s) => mode === 'spikenas' || (s !== 'operation-impact' && s !== 'cell-enhancement'),
  );
}

export interface SearchProgress {
  stage: StageName | 'done' | 'failed' | 'cancelled';
  /** 0..100 over the whole search. */
  percent: number;
  counters: Record<string, number>;
  finishedStages: StageName[];
  /** The count inside the running stage, e.g. 1200 of 3840 training steps; null when it has none yet. */
  current: { unit: string; done: number; total: number } | null;
}

/** What a step reports from inside a stage (an activity signals it to its workflow). */
export interface StageWork {
  stage: StageName;
  /** Which parallel part this is ('all', or a shard such as 'first-0'); the stage's count sums its parts. */
  part: string;
  /** What is counted: 'training steps', 'first-pass candidates', 'full SAHD candidates'. */
  unit: string;
  done: number;
  total: number;
  counters?: Record<string, number>;
}

export interface SearchSummary {
  workflowId: string;
  runId: string;
  mode: SearchMode;
  fleet: string | null;
  seed: number;
  backend: string;
  winner: string;
  params: number;
  weightBits: number;
  weightBytes: number;
  stateBytes: number;
  budgetBytes: number | null;
  sahdScore: number;
  accuracy: number;
  accuracyBeforeQuantization: number;
  counters: Record<string, number>;
  stageWallMs: Partial<Record<StageName, number>>;
  artifacts: { root: string; report: string; winner: string; weights: string };
}
