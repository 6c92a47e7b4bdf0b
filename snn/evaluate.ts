import * as tf from '@tensorflow/tfjs-core';
import type { ImageSet } from '../datasets/types.js';
import { initBackend } from './backend.js';
import type { Arch } from './cell-matrix.js';
import type { NetConfig } from './config.js';
import { buildNetwork, type SpikingNetwork } from './network.js';
import { deserializeWeights, type SerializedWeights } from './weights.js';

export interface SpikeRate {
  layer: string;
  /** Spikes per neuron per call (timestep), over the evaluated samples. */
  rate: number;
}

export interface Evaluation {
  accuracy: number;
  spikeRates: SpikeRate[];
}

/** Accuracy and per-layer spike rates of trained weights on an image set (inference mode). */
export async function evaluateNetwork(
  arch: Arch,
  config: NetConfig,
  weights: SerializedWeights,
  images: ImageSet,
  batchSize: number,
): Promise<Evaluation> {
  await initBackend();
  const net = buildNetwork(arch, config, 0);
  try {
    const tensors = deserializeWeights(weights);
    try {
      net.setWeights(tensors);
    } finally {
      tf.dispose(tensors);
    }
    return await evaluateBuilt(net, images, batchSize);
  } finally {
    net.dispose();
  }
}

/**
 * Runs a built network over `images` in batches. Correct predictions and spike counts accumulate on
 * the backend; one download at the end.
 */
export async function evaluateBuilt(
  net: SpikingNetwork,
  images: ImageSet,
  batchSize: number,
): Promise<Evaluation> {
  const [h, w, c] = net.config.inputShape;
  const pixels = h * w * c;
  const layers = net.lifLayers();
  const spikeTotals = new Map<string, tf.Tensor>();
  const calls = new Map<string, number>();
  let correct: tf.Tensor = tf.scalar(0);
  try {
    for (let start = 0; start < images.count; start += batchSize) {
      const n = Math.min(batchSize, images.count - start);
      const next = tf.tidy(() => {
        const x = tf.tensor4d(images.images.subarray(start * pixels, (start + n) * pixels), [n, h, w, c]);
        const labels = tf.tensor1d(images.labels.subarray(start, start + n), 'int32');
        const logits = net.forward(x, {
          training: false,
          observe: (layer, spikes) => {
            const previous = spikeTotals.get(layer);
            const total = tf.keep(previous ? tf.add(previous, tf.sum(spikes)) : tf.sum(spikes));
            previous?.dispose();
            spikeTotals.set(layer, total);
            calls.set(layer, (calls.get(layer) ?? 0) + n);
          },
        });
        return tf.add(correct, tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'int32')));
      });
      correct.dispose();
      correct = next;
      await new Promise((resolve) => setImmediate(resolve));
    }
    const correctCount = (await correct.data())[0] as number;
    const spikeRates: SpikeRate[] = [];
    const neurons = new Map(net.lifNeurons().map((l) => [l.name, l.neurons]));
    for (const layer of layers) {
      const total = spikeTotals.get(layer);
      const sampleCalls = calls.get(layer) ?? 0;
      const spikes = total ? ((await total.data())[0] as number) : 0;
      const perCall = sampleCalls * (neurons.get(layer) as number);
      spikeRates.push({ layer, rate: perCall === 0 ? 0 : spikes / perCall });
    }
    return { accuracy: images.count === 0 ? 0 : correctCount / images.count, spikeRates };
  } finally {
    correct.dispose();
    tf.dispose([...spikeTotals.values()]);
  }
}
