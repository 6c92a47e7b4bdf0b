/**
 * The stored model's own predictions: the trained network (snn/) run by TensorFlow.js on uint8 images
 * normalised as in training. Every export is checked against these.
 */
import * as tf from '@tensorflow/tfjs-core';
import { InputError } from '../common/errors.js';
import { loadRawDataset, normalizeImages, type RawImages } from '../datasets/index.js';
import type { ImageSet } from '../datasets/types.js';
import { buildNetwork, initBackend } from '../snn/index.js';
import { type StoredModel, trainingNormalization } from './stored-model.js';

export type Split = 'train' | 'test';
export const SPLITS: readonly Split[] = ['train', 'test'];

/** The uint8 images of one split of a dataset, in dataset order; the first `limit` when given. */
export async function loadSplit(
  dataset: string,
  split: Split,
  limit?: number,
): Promise<{ images: RawImages; inputShape: [number, number, number] }> {
  const raw = await loadRawDataset(dataset, limit === undefined ? {} : { limit: { [split]: limit } });
  return { images: raw[split], inputShape: raw.inputShape };
}

/** The predicted class of each image, in order (the class with the highest population vote; first on ties). */
export async function predictClasses(
  model: StoredModel,
  images: ImageSet,
  batchSize = 100,
): Promise<Int32Array> {
  await initBackend();
  const net = buildNetwork(model.arch, model.config, 0);
  try {
    const tensors: tf.NamedTensorMap = {};
    for (const [name, t] of model.tensors) tensors[name] = tf.tensor(t.values, t.shape, 'float32');
    try {
      net.setWeights(tensors);
    } finally {
      tf.dispose(Object.values(tensors));
    }
    const [h, w, c] = model.config.inputShape;
    const pixels = h * w * c;
    const out = new Int32Array(images.count);
    for (let start = 0; start < images.count; start += batchSize) {
      const n = Math.min(batchSize, images.count - start);
      const classes = tf.tidy(() => {
        const x = tf.tensor4d(images.images.subarray(start * pixels, (start + n) * pixels), [n, h, w, c]);
        return tf.argMax(net.forward(x, { training: false }), 1);
      });
      out.set(await classes.data(), start);
      classes.dispose();
    }
    return out;
  } finally {
    net.dispose();
  }
}

export interface Predictions {
  run: string;
  dataset: string;
  split: Split;
  weightBits: number;
  count: number;
  /** Share of images whose predicted class is their label. */
  accuracy: number;
  predictions: number[];
  labels: number[];
}

/** `spikenas predict`: the stored model's class for each image of a dataset split. */
export async function predictDataset(
  model: StoredModel,
  dataset: string,
  split: Split,
  limit?: number,
): Promise<Predictions> {
  const { images, inputShape } = await loadSplit(dataset, split, limit);
  if (inputShape.join() !== model.config.inputShape.join()) {
    throw new InputError(
      'dataset',
      `${dataset} has ${inputShape.join('x')} images, the model takes ${model.config.inputShape.join('x')}`,
      "a dataset of the model's input shape",
    );
  }
  const normalization = await trainingNormalization(model, dataset);
  const predictions = await predictClasses(model, normalizeImages(images, normalization));
  let correct = 0;
  predictions.forEach((p, i) => {
    if (p === images.labels[i]) correct++;
  });
  return {
    run: model.source,
    dataset,
    split,
    weightBits: model.weightBits,
    count: images.count,
    accuracy: images.count === 0 ? 0 : correct / images.count,
    predictions: [...predictions],
    labels: [...images.labels],
  };
}
