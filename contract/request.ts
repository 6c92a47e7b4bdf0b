/**
 * What starts a search. It crosses Temporal payloads, so it is small and JSON-serialisable: datasets,
 * tensors and candidate logs never travel in it, only artifact URIs.
 */
import type { WeightBits } from '../search/space/memory.js';

export type { WeightBits };

export type SearchMode = 'spikenas' | 'snasnet';
export type SearchProfile = 'quick' | 'paper';

export interface SearchRequest {
  /** Dataset name ('fashion-mnist', 'mnist', 'cifar10', 'cifar100', 'synthetic') or a path to its files. */
  dataset: string;
  /** Memory budget for the weights, as given (e.g. '256KiB'); null only in snasnet mode. */
  budget: string | null;
  /**
   * RAM budget of the deployed network for one image, as given (e.g. '160KiB'): membranes, activation
   * buffers and spikes, as the C export lays them out (search/space/deploy-memory.ts). Absent: no RAM budget.
   * spikenas mode checks it before scoring; snasnet mode, budget-blind, ignores it.
   */
  ramBudget?: string;
  mode: SearchMode;
  profile: SearchProfile;
  seed: number;
  /**
   * Widths the winner's weights may be stored at, widest first; the budget holds them as stored. Default
   * (validateSearchRequest) 8, 6 and 4 bits; one width fixes it.
   */
  weightBits: WeightBits[];
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
