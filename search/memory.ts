/**
 * Memory footprint of a candidate from its matrix and the config alone (no tensors), per the method doc:
 * params = every trainable parameter (conv/linear weights, linear biases, BatchNorm gamma and beta; not the
 * BatchNorm running statistics); weight memory = params x weightBits / 8 (rounded up to whole bytes);
 * neuron state = membrane potentials of every LIF neuron for one sample x stateBits / 8.
 *
 * Spatial sizes (H shown, W alike):
 *   stem conv3x3, padding 1, stride s:  H1 = floor((H - 1) / s) + 1      (cell 1 runs at H1 on C channels)
 *   down block avgpool 2x2, stride 2:   H2 = floor(H1 / 2)               (cell 2 runs at H2 on 2C channels)
 *   head avgpool p x p, stride p:       H3 = floor(H2 / p)               (flat = 2C x H3 x W3)
 * Cell ops keep the spatial size (conv1x1; conv3x3 and avgpool3x3 with stride 1, padding 1).
 * Every non-zero matrix entry is built, so callers pass pruned (canonical) matrices.
 */

import { InputError } from '../common/errors.js';
import type { NetConfig } from '../snn/config.js';
import { archEdges } from './arch.js';
import type { Arch } from './arch.types.js';

/** Weight precisions the memory model and quantization know. */
export type WeightBits = 32 | 16 | 8 | 4;
export const WEIGHT_BITS: readonly WeightBits[] = [32, 16, 8, 4];
const WEIGHT_BITS_ALLOWED = '32, 16, 8, 4';

export interface MemoryEstimate {
  params: number;
  weightBytes: number;
  /** LIF neurons (membrane potentials) of one sample. */
  neurons: number;
  stateBytes: number;
}

export interface MemoryOptions {
  weightBits: number;
  stateBits?: number;
}

/** Parses '32' | '16' | '8' | '4' (the CLI / Slack form of the weight width). */
export function parseWeightBits(text: string): WeightBits {
  const bits = Number(text.trim());
  return checkWeightBits(text.trim() === '' ? Number.NaN : bits, text);
}

/** Checks a weight width; InputError('weightBits', …) for anything but 32, 16, 8, 4. */
export function checkWeightBits(bits: number, shown: string = String(bits)): WeightBits {
  if (!WEIGHT_BITS.includes(bits as WeightBits)) {
    throw new InputError('weightBits', `'${shown}' is not a supported weight width`, WEIGHT_BITS_ALLOWED);
  }
  return bits as WeightBits;
}

/** Spatial sizes of cell 1, cell 2 and the head's pooled output (see the module comment). */
export function spatialSizes(config: NetConfig): {
  cell1: [number, number];
  cell2: [number, number];
  head: [number, number];
} {
  const [h, w] = config.inputShape;
  const s = config.stemStride;
  const p = config.secondPool;
  const cell1: [number, number] = [Math.floor((h - 1) / s) + 1, Math.floor((w - 1) / s) + 1];
  const cell2: [number, number] = [Math.floor(cell1[0] / 2), Math.floor(cell1[1] / 2)];
  const head: [number, number] = [Math.floor(cell2[0] / p), Math.floor(cell2[1] / p)];
  return { cell1, cell2, head };
}

/** Trainable parameters of the network the matrix and config build. */
export function countParams(arch: Arch, config: NetConfig): number {
  return countParamsAndNeurons(arch, config).params;
}

export function estimateMemory(arch: Arch, config: NetConfig, options: MemoryOptions): MemoryEstimate {
  const weightBits = checkWeightBits(options.weightBits);
  const stateBits = options.stateBits ?? 32;
  if (!Number.isInteger(stateBits) || stateBits <= 0) {
    throw new InputError('stateBits', `'${stateBits}' is not a bit width`, 'a positive integer, usually 32');
  }
  const { params, neurons } = countParamsAndNeurons(arch, config);
  return {
    params,
    weightBytes: Math.ceil((params * weightBits) / 8),
    neurons,
    stateBytes: Math.ceil((neurons * stateBits) / 8),
  };
}

function countParamsAndNeurons(arch: Arch, config: NetConfig): { params: number; neurons: number } {
  const c = config.stemChannels;
  const cin = config.inputShape[2];
  const { cell1, cell2, head } = spatialSizes(config);
  const area1 = cell1[0] * cell1[1];
  const area2 = cell2[0] * cell2[1];
  const flat = 2 * c * head[0] * head[1];
  const outputs = config.numClasses * config.populationSize;

  const stem = 9 * cin * c + 2 * c;
  const down = 2 * c + 9 * c * (2 * c) + 2 * (2 * c);
  const headParams =
    2 * (2 * c) + flat * config.classifierHidden + config.classifierHidden * outputs + outputs;
  const params = stem + cellParams(arch, c) + down + cellParams(arch, 2 * c) + headParams;

  // Each conv edge has its own LIF on its input node; the down block, the head and the hidden layer one each.
  const spikingEdges = archEdges(arch).filter((e) => e.op === 2 || e.op === 3).length;
  const neurons =
    spikingEdges * c * area1 +
    c * area1 +
    spikingEdges * 2 * c * area2 +
    2 * c * area2 +
    config.classifierHidden;
  return { params, neurons };
}

/** Parameters of one cell on `ch` channels: conv1x1 ch*ch + BN 2ch; conv3x3 9*ch*ch + BN 2ch; others 0. */
function cellParams(arch: Arch, ch: number): number {
  let total = 0;
  for (const { op } of archEdges(arch)) {
    if (op === 2) total += ch * ch + 2 * ch;
    else if (op === 3) total += 9 * ch * ch + 2 * ch;
  }
  return total;
}
