/**
 * A stored model in the form the exports write it: each conv with its BatchNorm folded in at the running
 * statistics (out = sum(codes x input) x scale + bias per output channel), the two BatchNorms that feed a
 * LIF as per-channel constants, the classifier, and the input normalisation as a lookup table. Quantized
 * weights keep their integer codes: folding only changes the per-channel scale, so the codes stay the
 * stored ones. Both exports and the memory model's flash figure (search/space/deploy-memory.ts) follow this.
 */
import { InputError } from '../common/errors.js';
import { normalizationTables } from '../datasets/index.js';
import type { Normalization } from '../datasets/types.js';
import { type CellPlan, cellPlan, type DeployBits, edgeName } from '../search/space/deploy-memory.js';
import type { NetConfig } from '../snn/config.js';
import { RUN_ALLOWED, type StoredModel, storedTensor } from './stored-model.js';

/** BatchNorm's epsilon in the trained network (snn/ops.ts), as TensorFlow takes it: a float32. */
const BN_EPSILON = Math.fround(1e-5);

/** A weight tensor at its stored precision: float32 values, or integer codes with per-channel scales. */
export interface DeployWeights {
  shape: number[];
  /** Float32 weights (32-bit models) or the integer codes (quantized models), row-major. */
  values: Float32Array | Int8Array;
  /** Per-output-channel scale of the codes; null for float32 weights. */
  scales: Float32Array | null;
}

/** A conv with its BatchNorm folded in: out[c] = sum(values x input) x scale[c] + bias[c]. */
export interface FoldedConv {
  kernel: number;
  stride: number;
  inChannels: number;
  outChannels: number;
  /** [kernel, kernel, in, out] as stored. */
  weights: DeployWeights;
  scale: Float32Array;
  bias: Float32Array;
}

/** A BatchNorm in inference form, in TensorFlow's op order: (x - mean) x factor + shift. */
export interface BatchNormConstants {
  mean: Float32Array;
  factor: Float32Array;
  shift: Float32Array;
}

export interface DeployNetwork {
  config: NetConfig;
  bits: DeployBits;
  plan: CellPlan;
  /** 256 normalised values per input channel, channel after channel. */
  norm: Float32Array;
  stem: FoldedConv;
  /** Each cell's conv edges by C name (edgeName), forward edges then feedback, as plan lists them. */
  cells: [Map<string, FoldedConv>, Map<string, FoldedConv>];
  downBn: BatchNormConstants;
  down: FoldedConv;
  headBn: BatchNormConstants;
  /** [flat, hidden]. */
  fc1: DeployWeights;
  /** [hidden, classes x pop]. */
  fc2: DeployWeights;
  fc2Bias: Float32Array;
}

export function foldModel(model: StoredModel, normalization: Normalization): DeployNetwork {
  const bits = model.weightBits;
  const plan = cellPlan(model.arch);
  const weights = (name: string) => deployWeights(model, name);
  const conv = (name: string, stride: number): FoldedConv =>
    foldConv(weights(`${name}.conv`), batchNorm(model, `${name}.bn`), stride);
  const cell = (k: 1 | 2) =>
    new Map(
      [...plan.forward, ...plan.feedback]
        .filter((e) => e.op === 2 || e.op === 3)
        .map((e) => [edgeName(k, e), conv(`cell${k}.${e.from}${e.to}`, 1)] as const),
    );
  const downConv = foldConv(weights('down.conv'), batchNorm(model, 'down.bn2'), 1);
  const tables = normalizationTables(normalization);
  const norm = new Float32Array(256 * tables.length);
  tables.forEach((table, ch) => {
    norm.set(table, 256 * ch);
  });
  return {
    config: model.config,
    bits,
    plan,
    norm,
    stem: conv('stem', model.config.stemStride),
    cells: [cell(1), cell(2)],
    downBn: batchNorm(model, 'down.bn1'),
    down: downConv,
    headBn: batchNorm(model, 'head.bn'),
    fc1: weights('head.fc1.weight'),
    fc2: weights('head.fc2.weight'),
    fc2Bias: storedTensor(model, 'head.fc2.bias').values,
  };
}

/**
 * A stored parameter at the model's precision. Quantized models store codes x scale (snn/quantize.ts:
 * symmetric, per output channel, scale = max |w| / qmax); the codes are recovered and checked to give the
 * stored values back, so a model whose weights are not on that grid is refused rather than exported wrong.
 */
export function deployWeights(model: StoredModel, name: string): DeployWeights {
  const tensor = storedTensor(model, name);
  if (model.weightBits === 32) return { shape: tensor.shape, values: tensor.values, scales: null };
  const qmax = 2 ** (model.weightBits - 1) - 1;
  const channels = tensor.shape.length <= 1 ? 1 : (tensor.shape.at(-1) as number);
  const maxAbs = new Float64Array(channels);
  tensor.values.forEach((v, i) => {
    const ch = i % channels;
    maxAbs[ch] = Math.max(maxAbs[ch] as number, Math.abs(v));
  });
  const scales = Float32Array.from(maxAbs, (m) => m / qmax);
  const codes = new Int8Array(tensor.values.length);
  tensor.values.forEach((v, i) => {
    const scale = scales[i % channels] as number;
    const code = scale === 0 ? 0 : Math.round(v / scale);
    if (Math.abs(code) > qmax || Math.abs(code * scale - v) > 1e-6 * Math.max(scale, Math.abs(v))) {
      throw new InputError(
        'run',
        `${model.source}: ${name}[${i}] = ${v} is not a ${model.weightBits}-bit code of its channel's scale`,
        RUN_ALLOWED,
      );
    }
    codes[i] = code;
  });
  return { shape: tensor.shape, values: codes, scales };
}

function batchNorm(model: StoredModel, name: string): BatchNormConstants {
  const gamma = storedTensor(model, `${name}.gamma`).values;
  const beta = storedTensor(model, `${name}.beta`).values;
  const mean = storedTensor(model, `${name}.running_mean`).values;
  const variance = storedTensor(model, `${name}.running_var`).values;
  const factor = gamma.map((g, c) => {
    const invStd = Math.fround(1 / Math.sqrt(Math.fround((variance[c] as number) + BN_EPSILON)));
    return Math.fround(invStd * g);
  });
  return { mean, factor, shift: beta };
}

/**
 * conv -> BatchNorm as one conv: bn(conv(x)) = (s sum(q x) - mean) f + beta = sum(q x) (s f) + (beta - mean f),
 * with s the codes' scale (1 for float32 weights) and f = gamma / sqrt(var + eps).
 */
function foldConv(weights: DeployWeights, bn: BatchNormConstants, stride: number): FoldedConv {
  const [kernel, , inChannels, outChannels] = weights.shape as [number, number, number, number];
  const scale = bn.factor.map((f, c) => (weights.scales?.[c] ?? 1) * f);
  const bias = bn.shift.map((b, c) => b - (bn.mean[c] as number) * (bn.factor[c] as number));
  return { kernel, stride, inChannels, outChannels, weights, scale, bias };
}

/** The float weights a folded conv applies (codes x scale, or weights x BatchNorm factor), [k, k, in, out]. */
export function effectiveConvWeights(conv: FoldedConv): Float32Array {
  const out = conv.outChannels;
  return Float32Array.from(conv.weights.values, (v, i) => v * (conv.scale[i % out] as number));
}

/** The float weights of a linear layer at its stored precision, [in, out]. */
export function effectiveLinearWeights(weights: DeployWeights): Float32Array {
  const out = weights.shape.at(-1) as number;
  const scales = weights.scales;
  return scales === null
    ? Float32Array.from(weights.values)
    : Float32Array.from(weights.values, (v, i) => v * (scales[i % out] as number));
}
