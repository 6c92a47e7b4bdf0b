/**
 * What `npm run bench` measures, shared by the driver (bench.ts) and the measuring child (measure.ts):
 * the presets and batches, the cells, the seeded candidate sample, the FLOP count and the JSON shapes.
 * Nothing here loads tfjs, so the driver stays a light process.
 */
import { Rng } from '../common/rng.js';
import { archEdges, parseArch } from '../search/space/arch.js';
import { spatialSizes } from '../search/space/memory.js';
import type { BackendInfo } from '../snn/backend.js';
import type { Arch } from '../snn/cell-matrix.js';
import type { CellType, NetConfig } from '../snn/config.js';
import { resolvePreset } from '../snn/presets.js';

/** SNASNet's published CIFAR cell (backward: 2->0 and 3->1 are feedback edges). */
export const SNASNET_CELL = '0303 0030 2002 0200';
/** A spikenas winner of a paper run: a forward cell, the kind spikenas mode searches once feedback is rejected. */
export const FORWARD_CELL = '0302 0023 0002 0000';

/** A cell the bench times, with the cell type its network is built with. */
export interface BenchCell {
  arch: string;
  cellType: CellType;
}

const PUBLISHED: BenchCell = { arch: SNASNET_CELL, cellType: 'backward' };
const FORWARD: BenchCell = { arch: FORWARD_CELL, cellType: 'forward' };

export const SAHD_BATCH = 256;
export const SAHD_REPEATS = 2;
/** Seeds of the candidate sample and of the random images: fixed, so every run scores the same work. */
export const SAHD_SAMPLE_SEED = 1;
export const IMAGE_SEED = 2;

export interface PresetPlan {
  preset: string;
  /** Batches of the forward and training-step measurements. */
  batches: number[];
  /** Candidates of the SAHD sample. */
  sahdCandidates: number;
  /** Batch of the one untimed scoring that warms the backend up before the SAHD timing. */
  sahdWarmupBatch: number;
  /** Timed repetitions of forward and training step (after one untimed warm-up each). */
  reps: number;
  cells: BenchCell[];
  /**
   * Also time the step-by-step path, in the same process on a network with the same weights, alternating
   * with the default path rep by rep (so that load on a shared machine hits both alike).
   */
  stepByStep: boolean;
  /** Machine throughput (one one-thread process per core): training steps per process at this batch. */
  busy?: { trainBatch: number; trainSteps: number };
}

export const PLANS: PresetPlan[] = [
  {
    preset: 'fmnist-tiny',
    batches: [32, 64],
    sahdCandidates: 8,
    sahdWarmupBatch: SAHD_BATCH,
    reps: 5,
    cells: [PUBLISHED, FORWARD],
    stepByStep: true,
    busy: { trainBatch: 64, trainSteps: 20 },
  },
  {
    preset: 'fmnist-small',
    batches: [32, 64],
    sahdCandidates: 8,
    sahdWarmupBatch: SAHD_BATCH,
    reps: 5,
    cells: [PUBLISHED, FORWARD],
    stepByStep: true,
    busy: { trainBatch: 64, trainSteps: 10 },
  },
  // About 5e10 FLOPs per image forward: one batch-256 score is minutes on two cores, so warm up small.
  {
    preset: 'snasnet-cifar10',
    batches: [16, 32],
    sahdCandidates: 2,
    sahdWarmupBatch: 8,
    reps: 2,
    cells: [PUBLISHED],
    stepByStep: false,
  },
];

/** Presets the default run also measures on wasm (its 4 GiB heap cannot hold SNASNet's CIFAR network). */
export const WASM_DEFAULT_PRESETS = ['fmnist-tiny', 'fmnist-small'];

/** A bench cell's matrix and the preset's network config with the cell's type. */
export function benchNet(preset: string, cell: BenchCell): { arch: Arch; config: NetConfig } {
  return {
    arch: parseArch(cell.arch, cell.cellType),
    config: { ...resolvePreset(preset), cellType: cell.cellType },
  };
}

/** `count` images of uniform noise in [-1, 1), NHWC. */
export function randomImages(seed: number, count: number, config: NetConfig): Float32Array {
  const rng = new Rng(seed);
  const [h, w, c] = config.inputShape;
  return Float32Array.from({ length: count * h * w * c }, () => rng.next() * 2 - 1);
}

/**
 * Multiply-adds x 2 of every conv and linear layer over T timesteps (the stem runs once). Pools, BatchNorm,
 * LIF updates and the feedback edges' extra pass are not counted: this is the GEMM work the ratios compare.
 */
export function forwardFlops(arch: Arch, config: NetConfig, batch: number): number {
  const { cell1, cell2, head } = spatialSizes(config);
  const c = config.stemChannels;
  const area1 = cell1[0] * cell1[1];
  const area2 = cell2[0] * cell2[1];
  const kernelArea = (op: number) => (op === 3 ? 9 : op === 2 ? 1 : 0);
  const cellMacs = (channels: number, area: number) =>
    archEdges(arch).reduce((sum, e) => sum + kernelArea(e.op) * channels * channels * area, 0);
  const flat = 2 * c * head[0] * head[1];
  const outputs = config.numClasses * config.populationSize;
  const perStep =
    cellMacs(c, area1) +
    9 * c * 2 * c * area1 +
    cellMacs(2 * c, area2) +
    flat * config.classifierHidden +
    config.classifierHidden * outputs;
  const stem = 9 * config.inputShape[2] * c * area1;
  return 2 * batch * (stem + config.timesteps * perStep);
}

/** A training step (forward, BPTT, update) counts as three forwards. */
export const TRAIN_FLOPS_PER_FORWARD = 3;

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Peak resident set of this process so far (maxRSS is KiB). */
export function peakRssMiB(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

export function round(value: number, digits: number): number {
  return Number(value.toFixed(digits));
}

/** Median ms and tfjs kernels of one forward or training step on one path. */
export interface PathTiming {
  ms: number;
  kernels: number;
}

/** What one measuring child prints: a single JSON line. */
export type ChildResult =
  | { kind: 'gemm'; backend: BackendInfo; size: number; reps: number; gemmMs: number; gemmGflops: number }
  | ({
      kind: 'forward' | 'train';
      backend: BackendInfo;
      preset: string;
      arch: string;
      cellType: CellType;
      batch: number;
      params: number;
      stepByStep?: PathTiming;
    } & PathTiming)
  | {
      kind: 'sahd';
      backend: BackendInfo;
      preset: string;
      candidates: number;
      seconds: number;
      stepByStep?: { seconds: number };
    }
  | {
      /** Work done by one of the processes that keep the machine busy, timed from the common start. */
      kind: 'busy-train' | 'busy-sahd';
      backend: BackendInfo;
      preset: string;
      /** Images trained on, or candidates scored. */
      items: number;
      seconds: number;
    };

/** Every child line also carries its process's peak RSS. */
export type ChildLine = ChildResult & { peakRssMiB: number };
