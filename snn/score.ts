import * as tf from '@tensorflow/tfjs-core';
import { InputError } from '../common/errors.js';
import { deriveSeed } from '../common/rng.js';
import type { Arch } from '../search/arch.types.js';
import { type SahdSums, sahdFromSums } from '../search/sahd.js';
import { initBackend } from './backend.js';
import { assertBatchFits } from './batch-fit.js';
import type { NetConfig } from './config.js';
import { buildNetwork, type ForwardOptions, type SpikingNetwork } from './network.js';

/**
 * SAHD of a candidate at initialisation (higher is better): one forward pass per batch, the mean of the
 * per-batch scores. Passing a config with fewer timesteps gives the cheap first-pass score.
 * `batches` hold batchSize images each, NHWC; the network's weights derive from `seed`. `path` picks the
 * execution path (the bench times the step-by-step one beside the default).
 */
export async function scoreSahd(
  arch: Arch,
  config: NetConfig,
  batches: Float32Array[],
  batchSize: number,
  seed: number,
  path: Pick<ForwardOptions, 'stepByStep'> = {},
): Promise<number> {
  if (batches.length === 0) throw new InputError('batches', 'no batch to score on', 'at least one batch');
  await initBackend();
  const net = buildNetwork(arch, config, seed);
  try {
    assertBatchFits(net, 'score', batchSize, 'batchSize');
    let total = 0;
    for (const [k, images] of batches.entries()) {
      total += sahdFromSums(sahdSumsOf(net, images, batchSize, sahdDropoutSeed(seed, k), path));
    }
    return total / batches.length;
  } finally {
    net.dispose();
  }
}

/** The Dropout seed scoreSahd uses for batch k of a candidate scored with `seed`. */
export function sahdDropoutSeed(seed: number, batchIndex: number): number {
  return deriveSeed(seed, `sahd/dropout/${batchIndex}`);
}

/**
 * One forward pass as SNASNet scores it (training-mode BatchNorm and Dropout, as its un-eval'd model,
 * without touching running statistics or keeping gradients). Each LIF call adds its B x B term of the
 * kernel to an accumulator on the backend, so the pass downloads one B x B matrix, whatever the
 * network's size, and no call's spike map outlives its layer.
 */
export function sahdSumsOf(
  net: SpikingNetwork,
  images: Float32Array,
  batchSize: number,
  dropoutSeed: number,
  path: Pick<ForwardOptions, 'stepByStep'> = {},
): SahdSums {
  const [h, w, c] = net.config.inputShape;
  if (images.length !== batchSize * h * w * c) {
    throw new InputError(
      'batches',
      `a batch has ${images.length} values`,
      `batchSize x ${h}x${w}x${c} = ${batchSize * h * w * c}`,
    );
  }
  const weighted = tf.tidy(() => tf.variable(tf.zeros([batchSize, batchSize]), false));
  let neurons = 0;
  let calls = 0;
  try {
    tf.tidy(() => {
      net.forward(tf.tensor4d(images, [batchSize, h, w, c]), {
        ...path,
        training: true,
        updateStats: false,
        dropoutSeed,
        observe: (_layer, spikes) => {
          const x = tf.reshape(spikes, [batchSize, -1]) as tf.Tensor2D;
          const n = x.shape[1];
          weighted.assign(tf.add(weighted, weightedHamming(x, n)));
          neurons += n;
          calls++;
        },
      });
    });
    return { weighted: weighted.dataSync(), neurons, calls, batch: batchSize };
  } finally {
    weighted.dispose();
  }
}

/**
 * 0.5 H / (normK + 1e-3) of one call's spikes x (B x N), with r = rowsum(x): H = r_i + r_j - 2 (xxᵀ)_ij,
 * normK = r_i + r_j - 2 r_i r_j / N. Spike counts and dot products of 0/1 vectors are exact in float32.
 */
function weightedHamming(x: tf.Tensor2D, n: number): tf.Tensor2D {
  const b = x.shape[0];
  const r = tf.sum(x, 1, true) as tf.Tensor2D;
  const pairSums = tf.add(r, tf.reshape(r, [1, b]));
  const hamming = tf.sub(pairSums, tf.mul(tf.matMul(x, x, false, true), 2));
  const normK = tf.sub(pairSums, tf.mul(tf.matMul(r, r, false, true), 2 / n));
  return tf.div(tf.mul(hamming, 0.5), tf.add(normK, 1e-3)) as tf.Tensor2D;
}
