import { InputError } from '../common/errors.js';
import { deriveSeed, Rng } from '../common/rng.js';
import type { DataSplit, Dataset, ImageSet } from './types.js';

/**
 * A seeded, class-stratified train/validation split of the dataset's training part: each class gives
 * round(count x valFraction) of its samples to validation. Order within each part follows the original.
 */
export function splitTrainVal(dataset: Dataset, options: { valFraction: number; seed: number }): DataSplit {
  const { valFraction, seed } = options;
  if (!(valFraction > 0 && valFraction < 1)) {
    throw new InputError(
      'valFraction',
      `${valFraction} is out of range`,
      'a number between 0 and 1, exclusive',
    );
  }
  const byClass = new Map<number, number[]>();
  const labels = dataset.train.labels;
  for (let i = 0; i < dataset.train.count; i++) {
    const label = labels[i] as number;
    const members = byClass.get(label);
    if (members === undefined) byClass.set(label, [i]);
    else members.push(i);
  }
  const rng = new Rng(deriveSeed(seed, 'split/train-val'));
  const isVal = new Uint8Array(dataset.train.count);
  for (const label of [...byClass.keys()].sort((a, b) => a - b)) {
    const members = rng.shuffle(byClass.get(label) as number[]);
    const take = Math.round(members.length * valFraction);
    for (let k = 0; k < take; k++) isVal[members[k] as number] = 1;
  }
  const valIndices: number[] = [];
  const trainIndices: number[] = [];
  for (let i = 0; i < isVal.length; i++) (isVal[i] ? valIndices : trainIndices).push(i);
  if (valIndices.length === 0 || trainIndices.length === 0) {
    throw new InputError(
      'valFraction',
      `${valFraction} of ${dataset.train.count} training samples leaves an empty part`,
      'a fraction that leaves at least one sample per class on each side',
    );
  }
  return {
    name: dataset.name,
    inputShape: dataset.inputShape,
    numClasses: dataset.numClasses,
    natural: dataset.natural,
    fingerprint: dataset.fingerprint,
    ...(dataset.normalization === undefined ? {} : { normalization: dataset.normalization }),
    train: gather(dataset.train, trainIndices),
    val: gather(dataset.train, valIndices),
    test: dataset.test,
  };
}

/**
 * Seeded mini-batches of images (NHWC, batchSize samples each) for training-free scoring. Samples within a
 * batch are distinct; batches are drawn independently.
 */
export function sampleBatches(
  images: ImageSet,
  options: { batchSize: number; count: number; seed: number },
): Float32Array[] {
  const { batchSize, count, seed } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > images.count) {
    throw new InputError('batchSize', `${batchSize} is out of range`, `a whole number in 1..${images.count}`);
  }
  if (!Number.isInteger(count) || count < 1) {
    throw new InputError('count', `${count} is not a positive whole number`, 'a whole number >= 1');
  }
  const sampleSize = images.images.length / images.count;
  const rng = new Rng(deriveSeed(seed, 'sample-batches'));
  const pool = Array.from({ length: images.count }, (_, i) => i);
  const batches: Float32Array[] = [];
  for (let b = 0; b < count; b++) {
    const batch = new Float32Array(batchSize * sampleSize);
    // Partial Fisher-Yates: the first batchSize slots become a uniform sample without replacement.
    for (let k = 0; k < batchSize; k++) {
      const j = k + rng.int(images.count - k);
      const chosen = pool[j] as number;
      pool[j] = pool[k] as number;
      pool[k] = chosen;
      batch.set(images.images.subarray(chosen * sampleSize, (chosen + 1) * sampleSize), k * sampleSize);
    }
    batches.push(batch);
  }
  return batches;
}

function gather(source: ImageSet, indices: number[]): ImageSet {
  const sampleSize = source.images.length / source.count;
  const images = new Float32Array(indices.length * sampleSize);
  const labels = new Int32Array(indices.length);
  indices.forEach((index, k) => {
    images.set(source.images.subarray(index * sampleSize, (index + 1) * sampleSize), k * sampleSize);
    labels[k] = source.labels[index] as number;
  });
  return { images, labels, count: indices.length };
}

/**
 * The split with the validation images added to the training set, for a final training that selects
 * nothing on validation. Its `val` is unchanged, so accuracy on it is accuracy on trained images.
 */
export function trainOnTrainAndVal(split: DataSplit): DataSplit {
  const images = new Float32Array(split.train.images.length + split.val.images.length);
  images.set(split.train.images);
  images.set(split.val.images, split.train.images.length);
  const labels = new Int32Array(split.train.count + split.val.count);
  labels.set(split.train.labels);
  labels.set(split.val.labels, split.train.count);
  return { ...split, train: { images, labels, count: split.train.count + split.val.count } };
}
