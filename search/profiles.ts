/**
 * Search profiles: every knob of a search that is not the user's choice of data, budget and seed.
 * `paper` follows SNASNet / SpikeNAS where they are exact (SAHD B = 256 with 2 repeats, 5000 baseline
 * candidates, 300 training epochs); `quick` is sized so that a whole spikenas search (impact analysis,
 * memory-aware search, winner training) on Fashion-MNIST with the tiny preset finishes in about 10 minutes
 * on 2 CPU cores with the wasm backend.
 */
import { InputError } from '../common/errors.js';
import type { OpCode } from './arch.types.js';

/** Short-training options (the subset of snn's TrainOptions a profile fixes). */
export interface ShortTraining {
  epochs: number;
  batchSize: number;
  /** Caps the steps of each epoch (undefined = the whole training set). */
  maxStepsPerEpoch?: number;
  /** Train on the first N training samples only (undefined = all). */
  trainSubset?: number;
}

export interface SearchProfileSpec {
  name: 'quick' | 'paper';
  /** snn preset (snn/presets.ts) per dataset name. */
  presets: Record<string, string>;
  /**
   * How much data the run loads and how it splits it (datasets' loadDataset limit and splitTrainVal):
   * validation runs after every short training, so its size weighs on the impact analysis.
   */
  data: { trainLimit?: number; testLimit?: number; valFraction: number };
  impact: {
    /** Operations whose impact is measured (none is the absence of an edge, never analysed). */
    ops: OpCode[];
    /** Also measure feedback edges (backward cells). */
    feedback: boolean;
    /** Sampled cells per operation: each gives one (with, without) pair. */
    samplesPerOp: number;
    train: ShortTraining;
  };
  sahd: { batchSize: number; repeats: number };
  /** Cheap first pass before full SAHD; null = score every candidate with full SAHD. */
  firstPass: { batchSize: number; timesteps: number; survivors: number } | null;
  /** At most this many candidates are scored by the memory-aware search (spikenas mode). */
  searchCandidates: number;
  /** Candidates the snasnet baseline samples and scores. */
  snasnetCandidates: number;
  /** How many of the best candidates a search result lists. */
  topK: number;
  winner: ShortTraining;
}

export const PROFILES: Readonly<Record<'quick' | 'paper', SearchProfileSpec>> = {
  quick: {
    name: 'quick',
    presets: { 'fashion-mnist': 'fmnist-tiny', mnist: 'fmnist-tiny' },
    // Measured on fmnist-tiny, wasm, 1 thread, 2 shared cores: a training step ~0.33 s at batch 32
    // (~0.6 s at 64), inference ~8 ms per image (T = 4), full SAHD (32 x 2, T = 4) ~0.8 s per candidate,
    // the first pass (16, T = 1) ~0.05 s. Budget: impact <= 16 trainings x ~10 s, search ~15 s,
    // winner ~200 steps at 64 + test ~140 s: about 5-6 minutes in all, leaving room for a busy machine.
    data: { trainLimit: 10_000, testLimit: 2_000, valFraction: 0.04 },
    impact: {
      ops: [1, 2, 3, 4],
      feedback: false,
      samplesPerOp: 2,
      train: { epochs: 1, batchSize: 32, maxStepsPerEpoch: 20, trainSubset: 640 },
    },
    sahd: { batchSize: 32, repeats: 2 },
    firstPass: { batchSize: 16, timesteps: 1, survivors: 8 },
    searchCandidates: 150,
    snasnetCandidates: 200,
    topK: 10,
    winner: { epochs: 2, batchSize: 64, maxStepsPerEpoch: 100 },
  },
  paper: {
    name: 'paper',
    presets: {
      'fashion-mnist': 'fmnist-small',
      mnist: 'fmnist-small',
      cifar10: 'snasnet-cifar10',
      cifar100: 'snasnet-cifar100',
      tinyimagenet: 'snasnet-tinyimagenet',
    },
    data: { valFraction: 0.1 },
    impact: {
      ops: [1, 2, 3, 4],
      feedback: true,
      samplesPerOp: 5,
      train: { epochs: 5, batchSize: 64, maxStepsPerEpoch: 200 },
    },
    sahd: { batchSize: 256, repeats: 2 },
    // Full SAHD (256 x 2, T = 5) costs ~40x the first pass (32 x 1, T = 1): 500 first-pass scores and 20
    // full ones cost ~33 full scores, against SNASNet's 5000 (the search-stage speed-up target is 120x).
    firstPass: { batchSize: 32, timesteps: 1, survivors: 20 },
    searchCandidates: 500,
    snasnetCandidates: 5000,
    topK: 20,
    winner: { epochs: 300, batchSize: 64 },
  },
};

export const PROFILE_NAMES = Object.keys(PROFILES) as ('quick' | 'paper')[];

export function resolveProfile(name: string): SearchProfileSpec {
  const profile = (PROFILES as Record<string, SearchProfileSpec | undefined>)[name];
  if (profile === undefined) {
    throw new InputError('profile', `'${name}' is not a search profile`, PROFILE_NAMES.join(', '));
  }
  return profile;
}

/** The snn preset a profile uses for a dataset; InputError listing the datasets the profile knows. */
export function profilePreset(profile: SearchProfileSpec, dataset: string): string {
  const preset = profile.presets[dataset];
  if (preset === undefined) {
    throw new InputError(
      'dataset',
      `profile ${profile.name} has no network preset for '${dataset}'`,
      Object.keys(profile.presets).join(', '),
    );
  }
  return preset;
}
