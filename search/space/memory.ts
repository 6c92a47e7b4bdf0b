/**
 * Memory footprint of a candidate from its matrix and the config alone (no tensors), per the method doc:
 * params = every trainable parameter (conv/linear weights, linear biases, BatchNorm gamma and beta; not the
 * BatchNorm running statistics); weight memory = params x weightBits / 8 (rounded up to whole bytes);
 * neuron state = membrane potentials of every LIF neuron for one sample x stateBits / 8. The weights as
 * quantize-evaluate stores them (storedBytes) take more below 32 bits: each tensor's packed codes, rounded up
 * to whole bytes, plus a float32 scale per output channel (snn/quantize.ts); the budget is checked on these.
 *
 * Spatial sizes (H shown, W alike):
 *   stem conv3x3, padding 1, stride s:  H1 = floor((H - 1) / s) + 1      (cell 1 runs at H1 on C channels)
 *   down block avgpool 2x2, stride 2:   H2 = floor(H1 / 2)               (cell 2 runs at H2 on 2C channels)
 *   head avgpool p x p, stride p:       H3 = floor(H2 / p)               (flat = 2C x H3 x W3)
 * Cell ops keep the spatial size (conv1x1; conv3x3 and avgpool3x3 with stride 1, padding 1).
 * Every non-zero matrix entry is built, so callers pass pruned (canonical) matrices.
 */

import { InputError } from '../../common/errors.js';
import type { Arch } from '../../snn/cell-matrix.js';
import type { NetConfig } from '../../snn/config.js';
import { archEdges } from './arch.js';

/** Weight widths a network can be stored at: float32, or per-channel symmetric codes (snn/quantize.ts). */
export type WeightBits = 32 | 8 | 6 | 4;
export const WEIGHT_BITS: readonly WeightBits[] = [32, 8, 6, 4];
const WEIGHT_BITS_ALLOWED = '32, 8, 6, 4';

/**
 * The widths a search may store its winner at when the request names none. The precision study
 * (bench/results/qat-precision-*.json) finds that, after quantization-aware training, 8, 6 and 4 bits cost
 * about the same fraction of a point against 32 bits, while a doubling of parameters is worth points: so
 * the narrower widths are worth searching for the larger cells they admit.
 */
export const SEARCHED_WEIGHT_BITS: readonly WeightBits[] = [8, 6, 4];

export interface MemoryEstimate {
  params: number;
  /** params x weightBits / 8, the method's weight memory. */
  weightBytes: number;
  /** The weights as stored at weightBits: float32 at 32 bits; packed codes and per-channel scales below. */
  storedBytes: number;
  /** LIF neurons (membrane potentials) of one sample. */
  neurons: number;
  stateBytes: number;
}

export interface MemoryOptions {
  weightBits: number;
  stateBits?: number;
}

/** Parses '32' | '8' | '6' | '4' (the CLI / Slack form of one weight width). */
export function parseWeightBits(text: string): WeightBits {
  const bits = Number(text.trim());
  return checkWeightBits(text.trim() === '' ? Number.NaN : bits, text);
}

/** Parses a comma-separated set of widths ('8,6,4', or '4' to fix one), widest first, each once. */
export function parseWeightBitsSet(text: string): WeightBits[] {
  return normalizeWeightBits(text.split(',').map(parseWeightBits));
}

/** A set of widths as the search uses it: widest first, each once. */
export function normalizeWeightBits(widths: readonly WeightBits[]): WeightBits[] {
  if (widths.length === 0) {
    throw new InputError('weightBits', 'names no width', `one or more of ${WEIGHT_BITS_ALLOWED}`);
  }
  return [...new Set(widths)].sort((a, b) => b - a);
}

/** Checks a weight width; InputError('weightBits', …) for anything but 32, 8, 6, 4. */
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
  let params = 0;
  forEachParameterTensor(convKernels(arch), config, (size) => {
    params += size;
  });
  return params;
}

export function estimateMemory(arch: Arch, config: NetConfig, options: MemoryOptions): MemoryEstimate {
  const weightBits = checkWeightBits(options.weightBits);
  const stateBits = options.stateBits ?? 32;
  if (!Number.isInteger(stateBits) || stateBits <= 0) {
    throw new InputError('stateBits', `'${stateBits}' is not a bit width`, 'a positive integer, usually 32');
  }
  const kernels = convKernels(arch);
  let params = 0;
  let quantizedBytes = 0;
  forEachParameterTensor(kernels, config, (size, channels) => {
    params += size;
    quantizedBytes += Math.ceil((size * weightBits) / 8) + 4 * channels;
  });
  const neurons = countNeurons(kernels.length, config);
  return {
    params,
    weightBytes: Math.ceil((params * weightBits) / 8),
    storedBytes: weightBits === 32 ? params * 4 : quantizedBytes,
    neurons,
    stateBytes: Math.ceil((neurons * stateBits) / 8),
  };
}

/** Kernel sizes of the cell's conv edges (conv1x1: 1, conv3x3: 3); skip, pool and none add no tensor. */
function convKernels(arch: Arch): number[] {
  const kernels: number[] = [];
  for (const { op } of archEdges(arch)) {
    if (op === 2) kernels.push(1);
    else if (op === 3) kernels.push(3);
  }
  return kernels;
}

/**
 * Calls `visit` with each trainable tensor of the network, as snn/network.ts builds it: its size and its
 * output channels (the last axis; one for a 1-D tensor). A visitor, not a list: the search estimates
 * every candidate of the space.
 */
function forEachParameterTensor(
  kernels: readonly number[],
  config: NetConfig,
  visit: (size: number, channels: number) => void,
): void {
  const c = config.stemChannels;
  const { head } = spatialSizes(config);
  const flat = 2 * c * head[0] * head[1];
  const hidden = config.classifierHidden;
  const outputs = config.numClasses * config.populationSize;
  const conv = (k: number, inCh: number, outCh: number) => visit(k * k * inCh * outCh, outCh);
  const batchNorm = (ch: number) => {
    visit(ch, 1);
    visit(ch, 1);
  };
  const cell = (ch: number) => {
    for (const k of kernels) {
      conv(k, ch, ch);
      batchNorm(ch);
    }
  };
  conv(3, config.inputShape[2], c);
  batchNorm(c);
  cell(c);
  // down: BatchNorm, LIF, conv3x3 to 2C, BatchNorm, avgpool
  batchNorm(c);
  conv(3, c, 2 * c);
  batchNorm(2 * c);
  cell(2 * c);
  // head: BatchNorm, LIF, linear without bias to the hidden layer, LIF, linear with bias to the outputs
  batchNorm(2 * c);
  visit(flat * hidden, hidden);
  visit(hidden * outputs, outputs);
  visit(outputs, 1);
}

/**
 * LIF neurons of one sample: each conv edge has its own LIF on its input node; the down block, the head and
 * the hidden layer one each.
 */
function countNeurons(convEdges: number, config: NetConfig): number {
  const c = config.stemChannels;
  const { cell1, cell2 } = spatialSizes(config);
  const area1 = cell1[0] * cell1[1];
  const area2 = cell2[0] * cell2[1];
  return (
    convEdges * c * area1 + c * area1 + convEdges * 2 * c * area2 + 2 * c * area2 + config.classifierHidden
  );
}
