import { describe, expect, it } from 'vitest';
import { InputError } from '../common/errors.js';
import {
  generateSynthetic,
  loadDataset,
  sampleBatches,
  splitTrainVal,
  trainOnTrainAndVal,
} from '../datasets/index.js';
import type { ImageSet } from '../datasets/types.js';

/** Nearest class mean on the training part: a crude check that the classes are separable. */
function nearestMeanAccuracy(train: ImageSet, test: ImageSet, numClasses: number): number {
  const size = train.images.length / train.count;
  const means = Array.from({ length: numClasses }, () => new Float64Array(size));
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < train.count; i++) {
    const label = train.labels[i] as number;
    counts[label] = (counts[label] ?? 0) + 1;
    const mean = means[label] as Float64Array;
    for (let p = 0; p < size; p++) mean[p] = (mean[p] as number) + (train.images[i * size + p] as number);
  }
  for (const [k, mean] of means.entries()) {
    for (let p = 0; p < size; p++) mean[p] = (mean[p] as number) / (counts[k] as number);
  }
  let correct = 0;
  for (let i = 0; i < test.count; i++) {
    let best = -1;
    let bestDistance = Number.POSITIVE_INFINITY;
    means.forEach((mean, k) => {
      let distance = 0;
      for (let p = 0; p < size; p++)
        distance += ((test.images[i * size + p] as number) - (mean[p] as number)) ** 2;
      if (distance < bestDistance) {
        bestDistance = distance;
        best = k;
      }
    });
    if (best === test.labels[i]) correct++;
  }
  return correct / test.count;
}

describe('synthetic dataset', () => {
  it('same seed gives the same bytes and fingerprint; another seed differs', async () => {
    const a = await loadDataset('synthetic', { seed: 7 });
    const b = await loadDataset('synthetic', { seed: 7 });
    const c = await loadDataset('synthetic', { seed: 8 });
    expect(Buffer.from(a.train.images.buffer).equals(Buffer.from(b.train.images.buffer))).toBe(true);
    expect(a.fingerprint).toBe(b.fingerprint);
    expect(c.fingerprint).not.toBe(a.fingerprint);
    expect(Buffer.from(c.train.images.buffer).equals(Buffer.from(a.train.images.buffer))).toBe(false);
    expect(a.source).toBe('generated');
    expect(a.inputShape).toEqual([16, 16, 1]);
    expect(a.numClasses).toBe(10);
    expect(a.train.count).toBe(2000);
    expect(a.test.count).toBe(500);
  });

  it('is class-balanced, and its classes are separable while single images are noisy', async () => {
    const dataset = await loadDataset('synthetic', { seed: 1, limit: { train: 400, test: 200 } });
    const counts = new Array<number>(10).fill(0);
    for (const label of dataset.train.labels) counts[label] = (counts[label] ?? 0) + 1;
    expect(counts).toEqual(new Array(10).fill(40));
    expect(nearestMeanAccuracy(dataset.train, dataset.test, 10)).toBeGreaterThan(0.9);

    // Noise: two images of the same class are not identical.
    const size = 16 * 16;
    const first = dataset.train.images.subarray(0, size);
    const sameClass = dataset.train.images.subarray(10 * size, 11 * size);
    expect(Buffer.from(first.slice().buffer).equals(Buffer.from(sameClass.slice().buffer))).toBe(false);
  });

  it('generates other shapes and refuses more classes than grid cells', () => {
    const { train, shape } = generateSynthetic(3, {
      height: 28,
      width: 28,
      channels: 3,
      trainCount: 20,
      testCount: 5,
    });
    expect(shape).toEqual([28, 28, 3]);
    expect(train.pixels.length).toBe(20 * 28 * 28 * 3);
    expect(() => generateSynthetic(3, { numClasses: 17 })).toThrow(InputError);
  });
});

describe('splitTrainVal and sampleBatches', () => {
  it('splits stratified and seeded, without losing or repeating samples', async () => {
    const dataset = await loadDataset('synthetic', { seed: 2, limit: { train: 500, test: 50 } });
    const split = splitTrainVal(dataset, { valFraction: 0.2, seed: 11 });
    const again = splitTrainVal(dataset, { valFraction: 0.2, seed: 11 });
    const other = splitTrainVal(dataset, { valFraction: 0.2, seed: 12 });
    expect(split.val.count).toBe(100);
    expect(split.train.count).toBe(400);
    expect(split.fingerprint).toBe(dataset.fingerprint);
    expect(split.test).toBe(dataset.test);
    const valCounts = new Array<number>(10).fill(0);
    for (const label of split.val.labels) valCounts[label] = (valCounts[label] ?? 0) + 1;
    expect(valCounts).toEqual(new Array(10).fill(10));
    expect(Buffer.from(split.val.images.buffer).equals(Buffer.from(again.val.images.buffer))).toBe(true);
    expect(Buffer.from(split.val.images.buffer).equals(Buffer.from(other.val.images.buffer))).toBe(false);

    // Every training image lands in exactly one part: compare multisets of per-image sums.
    const size = 16 * 16;
    const sums = (set: ImageSet) =>
      Array.from({ length: set.count }, (_, i) =>
        set.images.subarray(i * size, (i + 1) * size).reduce((a, b) => a + b, 0),
      );
    const before = sums(dataset.train).sort((a, b) => a - b);
    const after = [...sums(split.train), ...sums(split.val)].sort((a, b) => a - b);
    expect(after).toEqual(before);
  });

  it('trains on train and val together when asked, keeping every image and its label', async () => {
    const dataset = await loadDataset('synthetic', { seed: 2, limit: { train: 500, test: 50 } });
    const split = splitTrainVal(dataset, { valFraction: 0.2, seed: 11 });
    const all = trainOnTrainAndVal(split);
    expect(all.train.count).toBe(500);
    expect(all.train.images.length).toBe(500 * 16 * 16);
    expect(all.val).toBe(split.val);
    expect(all.test).toBe(split.test);
    expect(Array.from(all.train.labels)).toEqual([...split.train.labels, ...split.val.labels]);
    const size = 16 * 16;
    expect(all.train.images.subarray(400 * size, 401 * size)).toEqual(split.val.images.subarray(0, size));
    expect(all.train.images.subarray(0, size)).toEqual(split.train.images.subarray(0, size));
  });

  it('rejects fractions outside (0, 1)', async () => {
    const dataset = await loadDataset('synthetic', { limit: { train: 50, test: 10 } });
    expect(() => splitTrainVal(dataset, { valFraction: 0, seed: 1 })).toThrow(/valFraction/);
    expect(() => splitTrainVal(dataset, { valFraction: 1, seed: 1 })).toThrow(/valFraction/);
  });

  it('samples seeded batches of distinct training images', async () => {
    const dataset = await loadDataset('synthetic', { seed: 4, limit: { train: 60, test: 10 } });
    const batches = sampleBatches(dataset.train, { batchSize: 60, count: 2, seed: 5 });
    const same = sampleBatches(dataset.train, { batchSize: 60, count: 2, seed: 5 });
    const other = sampleBatches(dataset.train, { batchSize: 60, count: 2, seed: 6 });
    expect(batches).toHaveLength(2);
    expect(batches[0]).toEqual(same[0]);
    expect(batches[1]).toEqual(same[1]);
    expect(batches[0]).not.toEqual(other[0]);
    expect(batches[0]).not.toEqual(batches[1]);
    // A batch as large as the set is a permutation of it: each image appears once.
    const size = 16 * 16;
    const key = (images: Float32Array, i: number) =>
      Buffer.from(images.slice(i * size, (i + 1) * size).buffer).toString('hex');
    const batchKeys = Array.from({ length: 60 }, (_, i) => key(batches[0] as Float32Array, i)).sort();
    const setKeys = Array.from({ length: 60 }, (_, i) => key(dataset.train.images, i)).sort();
    expect(batchKeys).toEqual(setKeys);
    expect(() => sampleBatches(dataset.train, { batchSize: 61, count: 1, seed: 1 })).toThrow(/batchSize/);
  });
});
