import * as tf from '@tensorflow/tfjs-core';
import { InputError } from '../common/errors.js';
import { deriveSeed } from '../common/rng.js';
import type { Arch } from '../search/arch.types.js';
import { type SpikeGram, sahdFromGrams } from '../search/sahd.js';
import { initBackend } from './backend.js';
import type { NetConfig } from './config.js';
import { buildNetwork, type SpikingNetwork } from './network.js';

/**
 * SAHD of a candidate at initialisation (higher is better): one forward pass per batch, the mean of the
 * per-batch scores. Passing a config with fewer timesteps gives the cheap first-pass score.
 * `batches` hold batchSize images each, NHWC; the network's weights derive from `seed`.
 */
export async function scoreSahd(
  arch: Arch,
  config: NetConfig,
  batches: Float32Array[],
  batchSize: number,
  seed: number,
): Promise<number> {
  if (batches.length === 0) throw new InputError('batches', 'no batch to score on', 'at least one batch');
  await initBackend();
  const net = buildNetwork(arch, config, seed);
  try {
    let total = 0;
    for (const [k, images] of batches.entries()) {
      total += sahdFromGrams(spikeGramsOf(net, images, batchSize, sahdDropoutSeed(seed, k)));
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
 * without touching running statistics or keeping gradients). Per LIF call the backend computes x xᵀ and
 * the row sums of the spikes x (B x N); they are packed into one [calls, B, B + 1] tensor and downloaded
 * once, so the score costs one round trip per batch whatever the network's size.
 */
export function spikeGramsOf(
  net: SpikingNetwork,
  images: Float32Array,
  batchSize: number,
  dropoutSeed: number,
): SpikeGram[] {
  const [h, w, c] = net.config.inputShape;
  if (images.length !== batchSize * h * w * c) {
    throw new InputError(
      'batches',
      `a batch has ${images.length} values`,
      `batchSize x ${h}x${w}x${c} = ${batchSize * h * w * c}`,
    );
  }
  const neurons: number[] = [];
  const packed = tf.tidy(() => {
    const parts: tf.Tensor[] = [];
    net.forward(tf.tensor4d(images, [batchSize, h, w, c]), {
      training: true,
      updateStats: false,
      dropoutSeed,
      observe: (_layer, spikes) => {
        const x = tf.reshape(spikes, [batchSize, -1]);
        neurons.push(x.shape[1] as number);
        parts.push(tf.concat([tf.matMul(x, x, false, true), tf.sum(x, 1, true)], 1));
      },
    });
    return tf.stack(parts);
  });
  const values = packed.dataSync();
  packed.dispose();
  const stride = batchSize * (batchSize + 1);
  return neurons.map((n, call) => {
    const gram = new Float64Array(batchSize * batchSize);
    const rowSums = new Float64Array(batchSize);
    for (let i = 0; i < batchSize; i++) {
      const row = call * stride + i * (batchSize + 1);
      for (let j = 0; j < batchSize; j++) gram[i * batchSize + j] = values[row + j] as number;
      rowSums[i] = values[row + batchSize] as number;
    }
    return { gram, rowSums, batch: batchSize, neurons: n };
  });
}
