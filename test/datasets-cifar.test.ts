import { mkdir, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadDataset } from '../datasets/index.js';

const PLANE = 32 * 32;

/** The pixel written for record r, channel c, position p: every value is known. */
function pixelValue(r: number, c: number, p: number): number {
  return (r * 31 + c * 80 + p) % 256;
}

/** CIFAR binary records: label byte(s), then the R, G and B planes of 32x32. */
function cifarRecords(first: number, labels: number[][]): Uint8Array {
  const recordSize = (labels[0]?.length ?? 1) + 3 * PLANE;
  const out = new Uint8Array(labels.length * recordSize);
  labels.forEach((labelBytes, k) => {
    const start = k * recordSize;
    out.set(labelBytes, start);
    for (let c = 0; c < 3; c++) {
      for (let p = 0; p < PLANE; p++)
        out[start + labelBytes.length + c * PLANE + p] = pixelValue(first + k, c, p);
    }
  });
  return out;
}

/** Undoes the recorded normalisation of image k (NHWC) and returns its uint8 pixels. */
function denormalise(images: Float32Array, k: number, mean: number[], std: number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < 3 * PLANE; i++) {
    const c = i % 3;
    const value = (images[k * 3 * PLANE + i] as number) * (std[c] as number) + (mean[c] as number);
    // + 0 turns a rounded -0 into 0.
    out.push(Math.round(value * 255) + 0);
  }
  return out;
}

function expectedHwc(r: number): number[] {
  const out: number[] = [];
  for (let p = 0; p < PLANE; p++) for (let c = 0; c < 3; c++) out.push(pixelValue(r, c, p));
  return out;
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spikenas-cifar-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeCifar10(folder: string): Promise<void> {
  await mkdir(folder, { recursive: true });
  // Two records per batch: records 0..9 over five batches, labels 9 - r.
  for (let b = 1; b <= 5; b++) {
    const first = (b - 1) * 2;
    await writeFile(join(folder, `data_batch_${b}.bin`), cifarRecords(first, [[9 - first], [8 - first]]));
  }
  await writeFile(join(folder, 'test_batch.bin'), cifarRecords(100, [[3], [4], [5]]));
}

describe('CIFAR binary loader', () => {
  it('reads CIFAR-10 batches in order as NHWC with their labels', async () => {
    const folder = join(dir, 'cifar-10-batches-bin');
    await writeCifar10(folder);
    // The folder the archive unpacks into is found from its parent.
    const dataset = await loadDataset(dir);
    expect(dataset.name).toBe('cifar10');
    expect(dataset.source).toBe(folder);
    expect(dataset.inputShape).toEqual([32, 32, 3]);
    expect(dataset.numClasses).toBe(10);
    expect(dataset.natural).toBe(true);
    expect(dataset.train.count).toBe(10);
    expect(Array.from(dataset.train.labels)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    expect(Array.from(dataset.test.labels)).toEqual([3, 4, 5]);
    const { mean, std } = dataset.normalization ?? { mean: [], std: [] };
    expect(mean).toHaveLength(3);
    for (const r of [0, 3, 9])
      expect(denormalise(dataset.train.images, r, mean, std)).toEqual(expectedHwc(r));
    expect(denormalise(dataset.test.images, 2, mean, std)).toEqual(expectedHwc(102));
  });

  it('finds cifar10 by name in dataDir and honours a limit across batch files', async () => {
    await writeCifar10(join(dir, 'cifar10'));
    const dataset = await loadDataset('cifar10', { dataDir: dir, limit: { train: 3, test: 1 } });
    expect(dataset.train.count).toBe(3);
    expect(dataset.test.count).toBe(1);
    expect(Array.from(dataset.train.labels)).toEqual([9, 8, 7]);
  });

  it('reads CIFAR-100 fine labels, not coarse ones', async () => {
    const folder = join(dir, 'c100');
    await mkdir(folder);
    await writeFile(
      join(folder, 'train.bin'),
      cifarRecords(0, [
        [19, 99],
        [0, 42],
        [7, 0],
      ]),
    );
    await writeFile(join(folder, 'test.bin'), cifarRecords(50, [[1, 57]]));
    const dataset = await loadDataset(folder);
    expect(dataset.name).toBe('cifar100');
    expect(dataset.numClasses).toBe(100);
    expect(Array.from(dataset.train.labels)).toEqual([99, 42, 0]);
    expect(Array.from(dataset.test.labels)).toEqual([57]);
    const { mean, std } = dataset.normalization ?? { mean: [], std: [] };
    expect(denormalise(dataset.train.images, 1, mean, std)).toEqual(expectedHwc(1));
  });

  it('names a truncated batch file and the record size it expected', async () => {
    const folder = join(dir, 'cut');
    await writeCifar10(folder);
    const whole = cifarRecords(4, [[5], [4]]);
    await writeFile(join(folder, 'data_batch_3.bin'), whole.subarray(0, whole.length - 1000));
    await expect(loadDataset(folder)).rejects.toThrow(
      'data_batch_3.bin: expected a whole number of 3073-byte records (1 label byte + 3 x 32 x 32 pixels), found 5146 bytes',
    );
  });

  it('rejects an out-of-range label (a corrupt record) by file and record', async () => {
    const folder = join(dir, 'bad-label');
    await writeCifar10(folder);
    await writeFile(join(folder, 'test_batch.bin'), cifarRecords(0, [[1], [200]]));
    await expect(loadDataset(folder)).rejects.toThrow(
      'test_batch.bin: record 1 has label 200, expected 0..9',
    );
  });

  it('names missing batch files', async () => {
    const folder = join(dir, 'missing');
    await writeCifar10(folder);
    await unlink(join(folder, 'data_batch_4.bin'));
    await expect(loadDataset(folder)).rejects.toThrow(/missing data_batch_4\.bin/);
  });
});
