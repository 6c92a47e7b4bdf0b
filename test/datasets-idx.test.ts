import { mkdir, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InputError } from '../common/errors.js';
import { loadDataset } from '../datasets/index.js';

/** An IDX file of unsigned bytes: magic 00 00 08 <rank>, big-endian dims, then the data. */
function idxFile(dims: number[], data: Uint8Array): Uint8Array {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = 0x08;
  header[3] = dims.length;
  for (const [i, d] of dims.entries()) header.writeUInt32BE(d, 4 + 4 * i);
  return Buffer.concat([header, data]);
}

/** Image i has every pixel equal to 10 * i + (row + col) % 7, label i % 10: each pixel is known. */
function knownImages(count: number, h: number, w: number): { pixels: Uint8Array; labels: Uint8Array } {
  const pixels = new Uint8Array(count * h * w);
  for (let i = 0; i < count; i++) {
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) pixels[(i * h + y) * w + x] = 10 * i + ((y + x) % 7);
  }
  return { pixels, labels: Uint8Array.from({ length: count }, (_, i) => i % 10) };
}

async function writeIdxFolder(folder: string, gzip: boolean, counts = { train: 12, test: 5 }): Promise<void> {
  await mkdir(folder, { recursive: true });
  const suffix = gzip ? '.gz' : '';
  const pack = (bytes: Uint8Array) => (gzip ? gzipSync(bytes) : bytes);
  for (const [part, count] of [
    ['train', counts.train],
    ['t10k', counts.test],
  ] as const) {
    const { pixels, labels } = knownImages(count, 3, 4);
    await writeFile(join(folder, `${part}-images-idx3-ubyte${suffix}`), pack(idxFile([count, 3, 4], pixels)));
    await writeFile(join(folder, `${part}-labels-idx1-ubyte${suffix}`), pack(idxFile([count], labels)));
  }
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spikenas-idx-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('IDX loader', () => {
  it.each([true, false])('reads back known pixels and labels (gzip: %s)', async (gzip) => {
    const folder = join(dir, 'digits');
    await writeIdxFolder(folder, gzip);
    const dataset = await loadDataset(folder);
    expect(dataset.name).toBe('mnist');
    expect(dataset.source).toBe(folder);
    expect(dataset.inputShape).toEqual([3, 4, 1]);
    expect(dataset.train.count).toBe(12);
    expect(dataset.test.count).toBe(5);
    expect(Array.from(dataset.train.labels)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);

    // Undo the recorded normalisation and compare with the pixels written.
    const { mean, std } = dataset.normalization ?? { mean: [0], std: [1] };
    const m = mean[0] as number;
    const s = std[0] as number;
    const { pixels } = knownImages(12, 3, 4);
    const decoded = Array.from(dataset.train.images, (v) => Math.round((v * s + m) * 255) + 0) /* -0 -> 0 */;
    expect(decoded).toEqual(Array.from(pixels));
    const testPixels = knownImages(5, 3, 4).pixels;
    expect(Array.from(dataset.test.images, (v) => Math.round((v * s + m) * 255) + 0) /* -0 -> 0 */).toEqual(
      Array.from(testPixels),
    );

    // The mean recorded is the mean of the training pixels scaled to [0, 1].
    const expectedMean = pixels.reduce((a, b) => a + b, 0) / pixels.length / 255;
    expect(m).toBeCloseTo(expectedMean, 10);
  });

  it('gives the same fingerprint for gzipped and plain files, a different one when a pixel changes', async () => {
    await writeIdxFolder(join(dir, 'a'), true);
    await writeIdxFolder(join(dir, 'b'), false);
    await writeIdxFolder(join(dir, 'c'), false);
    const { pixels } = knownImages(12, 3, 4);
    pixels[7] = (pixels[7] as number) + 1;
    await writeFile(join(dir, 'c', 'train-images-idx3-ubyte'), idxFile([12, 3, 4], pixels));
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((f) => loadDataset(join(dir, f))));
    expect(a?.fingerprint).toBe(b?.fingerprint);
    expect(c?.fingerprint).not.toBe(a?.fingerprint);
  });

  it('finds a named dataset in dataDir/<name> and names fashion folders fashion-mnist', async () => {
    await writeIdxFolder(join(dir, 'fashion-mnist'), true);
    const named = await loadDataset('fashion-mnist', { dataDir: dir });
    expect(named.name).toBe('fashion-mnist');
    expect(named.source).toBe(join(dir, 'fashion-mnist'));
    const byPath = await loadDataset(join(dir, 'fashion-mnist'));
    expect(byPath.name).toBe('fashion-mnist');
  });

  it('names the file and the expected size when images are truncated', async () => {
    const folder = join(dir, 'cut');
    await writeIdxFolder(folder, false);
    const { pixels } = knownImages(12, 3, 4);
    await writeFile(join(folder, 'train-images-idx3-ubyte'), idxFile([12, 3, 4], pixels.subarray(0, 100)));
    await expect(loadDataset(folder)).rejects.toThrow(
      'train-images-idx3-ubyte: expected 160 bytes of image data (12 x 3 x 4), found 116',
    );
  });

  it('reports a truncated gzip stream by file name', async () => {
    const folder = join(dir, 'cutgz');
    await writeIdxFolder(folder, true);
    const { labels } = knownImages(5, 3, 4);
    const gz = gzipSync(idxFile([5], labels));
    await writeFile(join(folder, 't10k-labels-idx1-ubyte.gz'), gz.subarray(0, gz.length - 10));
    await expect(loadDataset(folder)).rejects.toThrow(
      /t10k-labels-idx1-ubyte\.gz: not a complete gzip stream/,
    );
  });

  it('rejects a file with the wrong magic, naming it', async () => {
    const folder = join(dir, 'magic');
    await writeIdxFolder(folder, false);
    const bytes = idxFile([12], knownImages(12, 3, 4).labels);
    bytes[3] = 3;
    await writeFile(join(folder, 'train-labels-idx1-ubyte'), bytes);
    await expect(loadDataset(folder)).rejects.toThrow(
      /train-labels-idx1-ubyte: not an IDX file of labels \(expected magic 00 00 08 01, found 00 00 08 03\)/,
    );
  });

  it('rejects label and image counts that differ', async () => {
    const folder = join(dir, 'count');
    await writeIdxFolder(folder, false);
    await writeFile(join(folder, 'train-labels-idx1-ubyte'), idxFile([11], new Uint8Array(11)));
    await expect(loadDataset(folder)).rejects.toThrow(/train-labels-idx1-ubyte: expected 12 labels/);
  });

  it('names a missing companion file', async () => {
    const folder = join(dir, 'missing');
    await writeIdxFolder(folder, true);
    await unlink(join(folder, 't10k-images-idx3-ubyte.gz'));
    const error = await loadDataset(folder).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toContain('missing t10k-images-idx3-ubyte[.gz]');
  });

  it('rejects unknown names with the allowed list, and folders without dataset files', async () => {
    const error = await loadDataset('imagenet').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).field).toBe('dataset');
    expect((error as Error).message).toContain('fashion-mnist, mnist, cifar10, cifar100, synthetic');
    expect((error as Error).message).toContain('or a path to a folder with IDX or CIFAR binary files');
    await expect(loadDataset(join(dir, 'nope'))).rejects.toThrow(/folder not found/);
    await expect(loadDataset(dir)).rejects.toThrow(/no IDX or CIFAR binary files found/);
    await expect(loadDataset('mnist', { dataDir: join(dir, 'empty') })).rejects.toThrow(
      /no mnist files found/,
    );
  });

  it('rejects a limit that is not a positive whole number', async () => {
    await expect(loadDataset('synthetic', { limit: { train: 0 } })).rejects.toThrow(/limit\.train/);
    await expect(loadDataset('synthetic', { limit: { test: 2.5 } })).rejects.toThrow(/limit\.test/);
  });
});
