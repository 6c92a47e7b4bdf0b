/**
 * The records of a run folder that readers beyond the pipeline rely on: the plan in config.json (written
 * when the run starts) and winner.json (written when it is published). The report, fleet history, the CLI
 * and the exports read them, so their shapes live here, below all of those, rather than with the stage
 * code that writes them.
 */
import type { SearchProfileSpec } from '../search/strategy/profiles.js';
import type { NetConfig } from '../snn/config.js';
import type { SearchRequest } from './request.js';
import type { StageName } from './stages.js';

/** The data a run searched and trained on, as config.json records it. */
export interface DatasetRecord {
  name: string;
  source: string;
  fingerprint: string;
  inputShape: [number, number, number];
  numClasses: number;
  trainCount: number;
  valCount: number | null;
  testCount: number;
}

/** Everything fixed when a run starts: written once to config.json, read by every later step. */
export interface RunPlan {
  request: SearchRequest;
  startedAt: string;
  profile: SearchProfileSpec;
  preset: string;
  config: NetConfig;
  budgetBytes: number | null;
  seeds: Record<'split' | 'impact' | 'candidates' | 'sahd' | 'sahdBatches' | 'train', number> & {
    search: number;
  };
  dataset: DatasetRecord;
}

export interface WinnerSummary {
  arch: string;
  params: number;
  /** The width the search measured the winner at (ScoredCandidate.weightBits). */
  weightBits: number;
  weightBytes: number;
  /** The weights as stored at weightBits, with their per-channel scales (search/space/memory.ts). */
  storedBytes: number;
  stateBytes: number;
  score: number;
  accuracyBeforeQuantization: number;
  /** Set when the weights are stored quantized; null when they are stored at 32 bits. */
  quantization: {
    weightBits: number;
    weightBytes: number;
    /** Test accuracy of the weights as stored. */
    accuracy: number;
    /** How the stored weights were made (search/strategy/quantize-to-fit.ts). */
    method: 'post-training' | 'quantization-aware';
    /** Test accuracy of the 32-bit training quantized to the same width: the cost QAT is measured against. */
    postTrainingAccuracy: number;
  } | null;
  /** Mean fraction of neurons that spike per timestep, per LIF layer, on the test set. */
  spikeRates: { layer: string; rate: number }[];
  training?: {
    epochs: number;
    wallMs: number;
    trainOn: 'train' | 'train+val';
    trainImages: number;
    /** The last epochs trained a second time quantization-aware; 0 (absent before 2026-12-07) when none. */
    quantizationAwareEpochs?: number;
  };
}

/** winner.json: the winner, and what it takes to rebuild and compare it (config, seeds, data, stage times). */
export interface WinnerRecord extends WinnerSummary {
  config: NetConfig;
  seeds: RunPlan['seeds'];
  datasetFingerprint: string;
  backend: string;
  stageWallMs: Partial<Record<StageName, number>>;
}
