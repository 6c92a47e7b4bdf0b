import * as tf from '@tensorflow/tfjs-core';
import { InputError } from '../common/errors.js';
import { deriveSeed, Rng } from '../common/rng.js';
import type { WorkContext } from '../common/work-context.js';
import type { DataSplit, ImageSet } from '../datasets/types.js';
import { initBackend } from './backend.js';
import { assertBatchFits } from './batch-fit.js';
import type { Arch } from './cell-matrix.js';
import type { NetConfig } from './config.js';
import { evaluateBuilt, type SpikeRate } from './evaluate.js';
import { momentumSgd, nativeOpsAvailable } from './kernels/native-ops.js';
import { buildNetwork, type ForwardOptions, type SpikingNetwork } from './network.js';
import { fakeQuantize, QUANT_BITS, type QuantBits } from './quantize.js';
import { deserializeWeights, type SerializedWeights, serializeWeights } from './weights.js';

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  /** Stop each epoch after this many steps (quick runs). */
  maxStepsPerEpoch?: number;
  /** Initial learning rate of the cosine schedule (default 0.1). */
  lr?: number;
  momentum?: number;
  weightDecay?: number;
  /** Train on this many training samples (a seeded subset) instead of all of them. */
  trainSubset?: number;
  /** Dropout rate before the classifier's hidden layer, in [0, 1) (default SNASNet's 0.5). */
  dropout?: number;
  /** Called after every step with the steps done and the steps of the whole training (all epochs). */
  onStep?: (done: number, total: number) => void;
  /**
   * Quantization-aware training: from epoch `fromEpoch` (0: from the start) every step computes its loss and
   * gradients with the weights fake-quantized to `bits` as they will be stored (per-channel scales), and
   * applies the gradients to the float weights (straight-through estimator).
   */
  quantizeAware?: QuantizeAware;
}

export interface QuantizeAware {
  bits: QuantBits;
  fromEpoch: number;
}

/** A training is resumable work: its seed, resume point, per-epoch resume hand-off and abort signal. */
export type TrainContext = WorkContext<TrainResume>;

/** Where an interrupted training continues: after `epoch` finished epochs. JSON-serialisable. */
export interface TrainResume {
  epoch: number;
  weights: SerializedWeights;
  /** SGD momentum buffers, by parameter name. */
  optimizerState: SerializedWeights;
  lossCurve: number[];
}

export interface TrainResult {
  valAccuracy: number;
  testAccuracy: number;
  /** Measured on the validation set. */
  spikeRates: SpikeRate[];
  /** Mean training loss per epoch. */
  lossCurve: number[];
  weights: SerializedWeights;
  wallMs: number;
}

/** SNASNet's (and the method doc's) SGD: lr 0.1 (cosine schedule), momentum 0.9, weight decay 5e-4. */
export const DEFAULT_SGD: SgdSettings = { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 };
/** Random crop pads natural images by this many pixels on each side (as CIFAR training does). */
const CROP_PAD = 4;

/**
 * BPTT training of the network for `arch`: cross-entropy on the T-step mean output, SGD with momentum
 * and weight decay (PyTorch's formulation), cosine learning rate per epoch, random crop + flip for
 * natural images; then validation and test accuracy. Every random choice derives from ctx.seed, per epoch
 * and step, so a run resumed from ctx.resume ends with exactly the weights of an uninterrupted run.
 */
export async function trainNetwork(
  arch: Arch,
  config: NetConfig,
  data: DataSplit,
  options: TrainOptions,
  ctx: TrainContext,
): Promise<TrainResult> {
  const started = Date.now();
  return withTrained(arch, config, data, options, ctx, async (net, lossCurve) => {
    const evalBatch = Math.max(options.batchSize, 64);
    const val = await evaluateBuilt(net, data.val, evalBatch);
    const test = await evaluateBuilt(net, data.test, evalBatch);
    return {
      valAccuracy: val.accuracy,
      testAccuracy: test.accuracy,
      spikeRates: val.spikeRates,
      lossCurve,
      weights: await serializeWeights(net.getWeights()),
      wallMs: Date.now() - started,
    };
  });
}

/**
 * trainNetwork for a training that is judged on validation alone (operation impact's short trainings, the
 * winner's quantization-aware phase, whose test accuracy is measured on its quantized weights): the same
 * training, without the pass over the test set (10,000 images after each of a paper run's 36 impact
 * trainings, more than their 6,000 validation images).
 */
export async function trainForValidation(
  arch: Arch,
  config: NetConfig,
  data: Omit<DataSplit, 'test'>,
  options: TrainOptions,
  ctx: TrainContext,
): Promise<{ valAccuracy: number; weights: SerializedWeights }> {
  return withTrained(arch, config, data, options, ctx, async (net) => ({
    valAccuracy: (await evaluateBuilt(net, data.val, Math.max(options.batchSize, 64))).accuracy,
    weights: await serializeWeights(net.getWeights()),
  }));
}

/** Builds and trains the network, hands it and its loss curve to `measure`, then frees it. */
async function withTrained<T>(
  arch: Arch,
  config: NetConfig,
  data: Omit<DataSplit, 'test'>,
  options: TrainOptions,
  ctx: TrainContext,
  measure: (net: SpikingNetwork, lossCurve: number[]) => Promise<T>,
): Promise<T> {
  validateOptions(options);
  await initBackend();
  const lr0 = options.lr ?? DEFAULT_SGD.lr;
  const momentum = options.momentum ?? DEFAULT_SGD.momentum;
  const weightDecay = options.weightDecay ?? DEFAULT_SGD.weightDecay;
  const net = buildNetwork(arch, config, deriveSeed(ctx.seed, 'train/init'));
  const variables = net.trainableVariables();
  const names = net.trainableNames();
  const buffers = variables.map((v) => tf.variable(tf.zerosLike(v), false));
  try {
    let lossCurve: number[] = [];
    let firstEpoch = 0;
    if (ctx.resume) {
      restore(net, buffers, ctx.resume);
      firstEpoch = ctx.resume.epoch;
      lossCurve = [...ctx.resume.lossCurve];
    }
    const train = subset(data.train, options.trainSubset, deriveSeed(ctx.seed, 'train/subset'), config);
    const pixels = config.inputShape[0] * config.inputShape[1] * config.inputShape[2];
    const stepsPerEpoch = Math.min(
      Math.floor(train.count / options.batchSize),
      options.maxStepsPerEpoch ?? Number.POSITIVE_INFINITY,
    );
    if (stepsPerEpoch < 1) {
      throw new InputError(
        'batchSize',
        `${options.batchSize} exceeds the ${train.count} training samples`,
        `1..${train.count}`,
      );
    }
    assertBatchFits(net, 'train', options.batchSize, 'batchSize');
    const forward = options.dropout === undefined ? {} : { dropoutRate: options.dropout };
    for (let epoch = firstEpoch; epoch < options.epochs; epoch++) {
      const lr = 0.5 * lr0 * (1 + Math.cos((Math.PI * epoch) / options.epochs));
      const rng = new Rng(deriveSeed(ctx.seed, `train/epoch/${epoch}`));
      const qat = options.quantizeAware;
      const fakeQuantBits = qat !== undefined && epoch >= qat.fromEpoch ? qat.bits : undefined;
      const order = rng.shuffle(Array.from({ length: train.count }, (_, i) => i));
      let lossSum: tf.Tensor = tf.scalar(0);
      for (let step = 0; step < stepsPerEpoch; step++) {
        ctx.signal?.throwIfAborted();
        const indices = order.slice(step * options.batchSize, (step + 1) * options.batchSize);
        const batch = makeBatch(train, indices, config, pixels, data.natural ? rng : undefined);
        const dropoutSeed = deriveSeed(ctx.seed, `train/dropout/${epoch}/${step}`);
        const next = tf.tidy(() => {
          const x = tf.tensor4d(batch.images, [indices.length, ...config.inputShape]);
          const y = tf.oneHot(tf.tensor1d(batch.labels, 'int32'), config.numClasses);
          const sgd = { lr, momentum, weightDecay, ...(fakeQuantBits ? { fakeQuantBits } : {}) };
          return tf.add(lossSum, sgdStep(net, x, y, buffers, sgd, dropoutSeed, forward));
        });
        lossSum.dispose();
        lossSum = next;
        options.onStep?.(epoch * stepsPerEpoch + step + 1, options.epochs * stepsPerEpoch);
        // Let timers, heartbeats and abort signals through between steps.
        await new Promise((resolve) => setImmediate(resolve));
      }
      lossCurve.push(((await lossSum.data())[0] as number) / stepsPerEpoch);
      lossSum.dispose();
      if (ctx.onProgress) {
        const resume: TrainResume = {
          epoch: epoch + 1,
          weights: await serializeWeights(net.getWeights()),
          optimizerState: await serializeWeights(namedBuffers(names, buffers)),
          lossCurve: [...lossCurve],
        };
        await ctx.onProgress({ done: epoch + 1, total: options.epochs, resume });
      }
    }
    return await measure(net, lossCurve);
  } finally {
    tf.dispose(buffers);
    net.dispose();
  }
}

export interface SgdSettings {
  lr: number;
  momentum: number;
  weightDecay: number;
  /** Quantization-aware step: loss and gradients at the weights fake-quantized to these bits. */
  fakeQuantBits?: QuantBits;
}

/**
 * One BPTT step: cross-entropy of the T-step mean output against one-hot `labels`, then SGD with momentum
 * and weight decay (PyTorch's formulation) on every trainable variable, its momentum in `buffers` (one per
 * variable, in order). Returns the loss; runs inside the caller's tf.tidy. `forward` sets the Dropout
 * rate and picks the execution path (the bench times the step-by-step one beside the default).
 */
export function sgdStep(
  net: SpikingNetwork,
  x: tf.Tensor4D,
  labels: tf.Tensor,
  buffers: tf.Variable[],
  sgd: SgdSettings,
  dropoutSeed: number,
  forward: Pick<ForwardOptions, 'stepByStep' | 'dropoutRate'> = {},
): tf.Scalar {
  const variables = net.trainableVariables();
  // Straight-through: the quantized weights stand in for the float ones while the gradients are taken,
  // and the update goes to the float weights, so d(quantize)/dw counts as 1.
  const floats = sgd.fakeQuantBits === undefined ? null : variables.map((v) => tf.clone(v));
  if (sgd.fakeQuantBits !== undefined) {
    for (const v of variables) v.assign(fakeQuantize(v, sgd.fakeQuantBits));
  }
  const { value, grads } = tf.variableGrads(() => {
    const logits = net.forward(x, { ...forward, training: true, dropoutSeed });
    return tf.neg(tf.mean(tf.sum(tf.mul(labels, tf.logSoftmax(logits)), 1))) as tf.Scalar;
  }, variables);
  if (floats !== null) {
    variables.forEach((v, i) => {
      v.assign(floats[i] as tf.Tensor);
    });
  }
  applySgd(variables, buffers, grads, sgd);
  return value;
}

/** The momentum-SGD update: in one native kernel where the native ops run, else sgdUpdate. */
export function applySgd(
  variables: tf.Variable[],
  buffers: tf.Variable[],
  grads: tf.NamedTensorMap,
  sgd: SgdSettings,
): void {
  (nativeOpsAvailable() ? fusedSgdUpdate : sgdUpdate)(variables, buffers, grads, sgd);
}

/**
 * The momentum-SGD update, PyTorch's: g = grad + w decay, b = b momentum + g, w = w - b lr. The
 * reference, and the path on backends without the fused op.
 */
export function sgdUpdate(
  variables: tf.Variable[],
  buffers: tf.Variable[],
  grads: tf.NamedTensorMap,
  sgd: SgdSettings,
): void {
  variables.forEach((v, i) => {
    const buffer = buffers[i] as tf.Variable;
    // A parameter off the loss's path (feedback ops when T = 1) has no gradient: decay only.
    const grad = grads[v.name];
    const g = grad ? tf.add(grad, tf.mul(v, sgd.weightDecay)) : tf.mul(v, sgd.weightDecay);
    buffer.assign(tf.add(tf.mul(buffer, sgd.momentum), g));
    v.assign(tf.sub(v, tf.mul(buffer, sgd.lr)));
  });
}

/** sgdUpdate with the variables that have a gradient updated in one native kernel (the same floats). */
function fusedSgdUpdate(
  variables: tf.Variable[],
  buffers: tf.Variable[],
  grads: tf.NamedTensorMap,
  sgd: SgdSettings,
): void {
  const fused = variables.flatMap((v, i) => (grads[v.name] ? [i] : []));
  const rest = variables.flatMap((v, i) => (grads[v.name] ? [] : [i]));
  if (fused.length > 0) {
    const updated = momentumSgd(
      fused.map((i) => variables[i] as tf.Variable),
      fused.map((i) => buffers[i] as tf.Variable),
      fused.map((i) => grads[(variables[i] as tf.Variable).name] as tf.Tensor),
      sgd,
    );
    fused.forEach((i, k) => {
      (variables[i] as tf.Variable).assign(updated.variables[k] as tf.Tensor);
      (buffers[i] as tf.Variable).assign(updated.buffers[k] as tf.Tensor);
    });
  }
  sgdUpdate(
    rest.map((i) => variables[i] as tf.Variable),
    rest.map((i) => buffers[i] as tf.Variable),
    grads,
    sgd,
  );
}

function validateOptions(options: TrainOptions): void {
  const checks: [string, number | undefined, number][] = [
    ['epochs', options.epochs, 1],
    ['batchSize', options.batchSize, 1],
    ['maxStepsPerEpoch', options.maxStepsPerEpoch, 1],
    ['trainSubset', options.trainSubset, 1],
    ['quantizeAware.fromEpoch', options.quantizeAware?.fromEpoch, 0],
  ];
  for (const [field, value, min] of checks) {
    if (value !== undefined && (!Number.isInteger(value) || value < min)) {
      throw new InputError(field, `${value} is not an integer >= ${min}`, `integers >= ${min}`);
    }
  }
  const qatBits = options.quantizeAware?.bits;
  if (qatBits !== undefined && !QUANT_BITS.includes(qatBits)) {
    throw new InputError('quantizeAware.bits', `${qatBits} cannot be quantized to`, QUANT_BITS.join(', '));
  }
  if (options.dropout !== undefined && !(options.dropout >= 0 && options.dropout < 1)) {
    throw new InputError('dropout', `${options.dropout} is not a rate`, 'numbers in [0, 1)');
  }
  for (const field of ['lr', 'momentum', 'weightDecay'] as const) {
    const value = options[field];
    if (value !== undefined && !(Number.isFinite(value) && value >= 0)) {
      throw new InputError(field, `${value} is not a finite number >= 0`, 'numbers >= 0');
    }
  }
}

function namedBuffers(names: string[], buffers: tf.Variable[]): tf.NamedTensorMap {
  const named: tf.NamedTensorMap = {};
  names.forEach((name, i) => {
    named[name] = buffers[i] as tf.Variable;
  });
  return named;
}

function restore(net: SpikingNetwork, buffers: tf.Variable[], resume: TrainResume): void {
  const weights = deserializeWeights(resume.weights);
  const state = deserializeWeights(resume.optimizerState);
  try {
    net.setWeights(weights);
    net.trainableNames().forEach((name, i) => {
      const saved = state[name];
      if (saved === undefined)
        throw new InputError('resume', `no momentum for ${name}`, 'a resume point of this run');
      (buffers[i] as tf.Variable).assign(saved);
    });
  } finally {
    tf.dispose(weights);
    tf.dispose(state);
  }
}

/** The first `count` samples of a seeded permutation (all of them when count is undefined). */
function subset(images: ImageSet, count: number | undefined, seed: number, config: NetConfig): ImageSet {
  if (count === undefined || count >= images.count) return images;
  const pixels = config.inputShape[0] * config.inputShape[1] * config.inputShape[2];
  const chosen = new Rng(seed).shuffle(Array.from({ length: images.count }, (_, i) => i)).slice(0, count);
  const out = new Float32Array(count * pixels);
  const labels = new Int32Array(count);
  chosen.forEach((from, to) => {
    out.set(images.images.subarray(from * pixels, (from + 1) * pixels), to * pixels);
    labels[to] = images.labels[from] as number;
  });
  return { images: out, labels, count };
}

/**
 * Copies the samples of one batch; with `augment`, each gets a random crop of the image zero-padded by
 * CROP_PAD pixels and a horizontal flip with probability 1/2 (cheap in JS for images this small).
 */
function makeBatch(
  set: ImageSet,
  indices: number[],
  config: NetConfig,
  pixels: number,
  augment: Rng | undefined,
): { images: Float32Array; labels: Int32Array } {
  const [h, w, c] = config.inputShape;
  const images = new Float32Array(indices.length * pixels);
  const labels = new Int32Array(indices.length);
  indices.forEach((from, k) => {
    labels[k] = set.labels[from] as number;
    const source = set.images.subarray(from * pixels, (from + 1) * pixels);
    if (!augment) {
      images.set(source, k * pixels);
      return;
    }
    const dy = augment.int(2 * CROP_PAD + 1) - CROP_PAD;
    const dx = augment.int(2 * CROP_PAD + 1) - CROP_PAD;
    const flip = augment.next() < 0.5;
    const target = k * pixels;
    for (let y = 0; y < h; y++) {
      const sy = y + dy;
      if (sy < 0 || sy >= h) continue;
      for (let x = 0; x < w; x++) {
        const sx = (flip ? w - 1 - x : x) + dx;
        if (sx < 0 || sx >= w) continue;
        for (let ch = 0; ch < c; ch++)
          images[target + (y * w + x) * c + ch] = source[(sy * w + sx) * c + ch] as number;
      }
    }
  });
  return { images, labels };
}
