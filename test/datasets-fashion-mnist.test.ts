import { describe, expect, it } from 'vitest';
import { loadDataset, sampleBatches, splitTrainVal } from '../datasets/index.js';

// Debian's dataset-fashion-mnist package: the real files, read through the name lookup.
describe('Fashion-MNIST from /usr/share/datasets', () => {
  it('decodes 60000 train and 10000 test 28x28x1 images with balanced labels 0..9', async () => {
    const dataset = await loadDataset('fashion-mnist');
    expect(dataset.name).toBe('fashion-mnist');
    expect(dataset.source).toBe('/usr/share/datasets/fashion-mnist');
    expect(dataset.inputShape).toEqual([28, 28, 1]);
    expect(dataset.numClasses).toBe(10);
    expect(dataset.natural).toBe(false);
    expect(dataset.train.count).toBe(60000);
    expect(dataset.test.count).toBe(10000);
    expect(dataset.train.images.length).toBe(60000 * 28 * 28);
    expect(dataset.test.images.length).toBe(10000 * 28 * 28);

    const trainCounts = new Array<number>(10).fill(0);
    for (const label of dataset.train.labels) trainCounts[label] = (trainCounts[label] ?? 0) + 1;
    expect(trainCounts).toEqual(new Array(10).fill(6000));
    const testCounts = new Array<number>(10).fill(0);
    for (const label of dataset.test.labels) testCounts[label] = (testCounts[label] ?? 0) + 1;
    expect(testCounts).toEqual(new Array(10).fill(1000));

    // Normalised with train statistics: train pixels have mean 0 and std 1.
    let sum = 0;
    let sumSq = 0;
    for (const v of dataset.train.images) {
      sum += v;
      sumSq += v * v;
    }
    const n = dataset.train.images.length;
    expect(sum / n).toBeCloseTo(0, 4);
    expect(Math.sqrt(sumSq / n - (sum / n) ** 2)).toBeCloseTo(1, 4);
    const [mean] = dataset.normalization?.mean ?? [];
    expect(mean).toBeGreaterThan(0.2);
    expect(mean).toBeLessThan(0.4);
    expect(dataset.fingerprint).toMatch(/^[0-9a-f]{64}$/);

    const split = splitTrainVal(dataset, { valFraction: 0.1, seed: 3 });
    expect(split.val.count).toBe(6000);
    expect(split.train.count).toBe(54000);
    const batches = sampleBatches(split.train, { batchSize: 64, count: 2, seed: 3 });
    expect(batches.map((b) => b.length)).toEqual([64 * 784, 64 * 784]);
  });

  it('a limit keeps the first records and changes the fingerprint', async () => {
    const small = await loadDataset('fashion-mnist', { limit: { train: 500, test: 100 } });
    const again = await loadDataset('fashion-mnist', { limit: { train: 500, test: 100 } });
    const other = await loadDataset('fashion-mnist', { limit: { train: 501, test: 100 } });
    expect(small.train.count).toBe(500);
    expect(small.test.count).toBe(100);
    expect(small.numClasses).toBe(10);
    expect(again.fingerprint).toBe(small.fingerprint);
    expect(other.fingerprint).not.toBe(small.fingerprint);
  });
});
