/**
 * Search profiles: every knob of a search that is not the user's choice of data, budget and seed.
 * `paper` follows SNASNet / SpikeNAS where they are exact (SAHD B = 256 with 2 repeats, 5000 baseline
 * candidates, >= 3 impact pairs per operation, up to 8 where the evidence is close) and is sized to two CPU cores elsewhere (winner training
 * in epochs, the first pass from its measured agreement); `quick` is sized so that a whole spikenas search (impact analysis,
 * memory-aware search, winner training) on Fashion-MNIST with the tiny preset finishes in 3 minutes on 2
 * CPU cores with the tensorflow backend (2 min 59 s measured, 83.3 % test accuracy).
 */
import { InputError } from '../../common/errors.js';
import type { OpCode } from '../../snn/cell-matrix.js';

/** Short-training options (the subset of snn's TrainOptions a profile fixes). */
export interface ShortTraining {
  epochs: number;
  batchSize: number;
  /** Caps the steps of each epoch (undefined = the whole training set). */
  maxStepsPerEpoch?: number;
  /** Train on the first N training samples only (undefined = all). */
  trainSubset?: number;
  /** Dropout rate before the classifier's hidden layer (undefined = SNASNet's 0.5). */
  dropout?: number;
}

/** The winner's training: a short-training schedule, and whether the validation images join the training set. */
export interface WinnerTraining extends ShortTraining {
  /** 'train+val': train on every training image (the validation split is not used for selection then). */
  trainOn: 'train' | 'train+val';
}

/**
 * A cheap pass that ranks every candidate before full SAHD scores its best `survivors`.
 * `evidence` is its measured agreement with full SAHD (studies/first-pass-agreement.ts), or null when it
 * was never measured; test/profiles-evidence.test.ts checks it against the committed study file.
 */
export interface FirstPass {
  batchSize: number;
  timesteps: number;
  repeats: number;
  survivors: number;
  evidence: FirstPassEvidence | null;
}

export interface FirstPassEvidence {
  /** The study's JSON, committed under bench/results/, and the pass's name in it. */
  study: string;
  pass: string;
  /** Unfiltered random candidates the study scored both ways. */
  candidates: number;
  spearmanRho: number;
  /** Of the full-SAHD top 20 of those candidates, how many the pass's best `survivors` hold. */
  top20Kept: number;
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
    /**
     * Sampled cells per subject at each look of the sequential design (impact-looks.ts), increasing: each
     * cell gives one (with, without) pair, and a subject stops at the look that settles it.
     */
    samplesPerLook: number[];
    train: ShortTraining;
  };
  sahd: { batchSize: number; repeats: number };
  /** Cheap first pass before full SAHD; null = score every candidate with full SAHD. */
  firstPass: FirstPass | null;
  /** At most this many candidates are scored by the memory-aware search (spikenas mode). */
  searchCandidates: number;
  /** Candidates the snasnet baseline samples and scores. */
  snasnetCandidates: number;
  /** How many of the best candidates a search result lists. */
  topK: number;
  winner: WinnerTraining;
}

export const PROFILES: Readonly<Record<'quick' | 'paper', SearchProfileSpec>> = {
  quick: {
    name: 'quick',
    presets: { 'fashion-mnist': 'fmnist-tiny', mnist: 'fmnist-tiny' },
    // All 60k training images for the winner, validation small (every impact training measures it), the
    // whole test set for the accuracy reported.
    data: { valFraction: 0.02 },
    impact: {
      ops: [1, 2, 3, 4],
      feedback: false,
      samplesPerLook: [2, 4],
      train: { epochs: 1, batchSize: 32, maxStepsPerEpoch: 20, trainSubset: 640 },
    },
    sahd: { batchSize: 32, repeats: 2 },
    // CI-sized: its agreement with full SAHD is not measured (the run reports its own on the survivors).
    firstPass: { batchSize: 16, timesteps: 1, repeats: 1, survivors: 8, evidence: null },
    searchCandidates: 150,
    snasnetCandidates: 200,
    topK: 10,
    // Measured on fmnist-tiny, the quick winner 0342 0023 0004 0000, tensorflow with oneDNN and native ops,
    // 2 cores: a lone training step at batch 64 takes 130 ms. SNASNet's Dropout (0.5) before the classifier
    // costs a training this short 3-4 points: 6 x 140 steps reach 83.1 % and 82.4 % test accuracy without
    // it (training seeds 11, 12), 79.4 % and 79.4 % with it; without it 12 x 125 steps reach 84.9 %,
    // 16 x 125 85.8 %. 6 x 140 steps and the quantization-aware epoch (980 steps, about 2 minutes) are what
    // fits the profile's 3 minutes with impact analysis and search.
    winner: { epochs: 6, batchSize: 64, maxStepsPerEpoch: 140, dropout: 0, trainOn: 'train' },
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
      // Looks of 3, 5 and 8 pairs. Replayed on the 300-step impact-schedule study (seed 1), the design stops
      // every subject by 5 pairs (skip at 5, the rest at 3) and decides as 5 pairs each did, training 26 of
      // the 36 cells: 75 % of the training time. A subject close to clearing 0 gets up to 8.
      samplesPerLook: [3, 5, 8],
      // Short training as SpikeNAS' analysis does: 300 steps of 64 (about a third of an epoch).
      train: { epochs: 1, batchSize: 64, maxStepsPerEpoch: 300 },
    },
    sahd: { batchSize: 256, repeats: 2 },
    // The cheapest measured pass whose best 20 of 200 unfiltered candidates (as many as the search samples)
    // keep at least 18 of the full-SAHD top 20: full T on 64 images, at 0.16 of full SAHD's cost. Passes
    // at T = 1 to 3 (0.03-0.07 of the cost) keep 10-13 of them; T = 5 on 32 images keeps 14.
    firstPass: {
      batchSize: 64,
      timesteps: 5,
      repeats: 1,
      survivors: 20,
      evidence: {
        study: 'bench/results/first-pass-fashion-mnist-fmnist-small-seed1.json',
        pass: 't5-b64',
        candidates: 200,
        spearmanRho: 0.9891,
        top20Kept: 18,
      },
    },
    searchCandidates: 200,
    snasnetCandidates: 5000,
    topK: 20,
    // SNASNet trains 300 epochs; on two cores 15 epochs of all 60k Fashion-MNIST training images (cosine
    // schedule to zero) is what fits, and is stated with every result.
    winner: { epochs: 15, batchSize: 64, trainOn: 'train+val' },
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
