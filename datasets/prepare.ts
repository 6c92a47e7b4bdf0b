import { createHash } from 'node:crypto';
import type { RawImages } from './raw.js';
import type { Dataset, ImageSet, Normalization } from './types.js';

export interface RawDataset {
  name: string;
  source: string;
  inputShape: [number, number, number];
  numClasses: number;
  natural: boolean;
  train: RawImages;
  test: RawImages;
}

/**
 * Turns decoded uint8 images into a Dataset: fingerprint over the decoded content, per-channel mean/std
 * from the training part, and float conversion through a 256-entry table per channel (no per-pixel math).
 */
export function prepareDataset(raw: RawDataset): Dataset {
  const channels = raw.inputShape[2];
  const normalization = channelStats(raw.train.pixels, channels);
  const tables = normalizationTables(normalization);
  return {
    name: raw.name,
    source: raw.source,
    inputShape: raw.inputShape,
    numClasses: raw.numClasses,
    natural: raw.natural,
    train: toImageSet(raw.train, tables),
    test: toImageSet(raw.test, tables),
    fingerprint: fingerprintRaw(raw),
    normalization,
  };
}

/** Per channel, the normalised float32 value of each uint8 pixel value: (v / 255 - mean) / std. */
export function normalizationTables(normalization: Normalization): Float32Array[] {
  return normalization.mean.map((mean, ch) => {
    const table = new Float32Array(256);
    const std = normalization.std[ch] as number;
    for (let v = 0; v < 256; v++) table[v] = (v / 255 - mean) / std;
    return table;
  });
}

/** Normalised float32 NHWC images from uint8 pixels, through the per-channel tables. */
export function normalizeImages(raw: RawImages, normalization: Normalization): ImageSet {
  return toImageSet(raw, normalizationTables(normalization));
}

/** SHA-256 over shape, class count, and each part's labels and pixels; names and paths do not enter it. */
export function fingerprintRaw(
  raw: Pick<RawDataset, 'inputShape' | 'numClasses' | 'train' | 'test'>,
): string {
  const hash = createHash('sha256');
  hash.update(
    JSON.stringify({
      shape: raw.inputShape,
      numClasses: raw.numClasses,
      train: raw.train.count,
      test: raw.test.count,
    }),
  );
  for (const part of [raw.train, raw.test]) {
    hash.update(new Uint8Array(part.labels.buffer, part.labels.byteOffset, part.labels.byteLength));
    hash.update(part.pixels);
  }
  return hash.digest('hex');
}

/** Mean and std per channel of pixels scaled to [0, 1], from a 256-bin histogram per channel. */
export function channelStats(pixels: Uint8Array, channels: number): Normalization {
  const histograms = Array.from({ length: channels }, () => new Float64Array(256));
  if (channels === 1) {
    const histogram = histograms[0] as Float64Array;
    for (let i = 0; i < pixels.length; i++) histogram[pixels[i] as number]++;
  } else {
    for (let ch = 0; ch < channels; ch++) {
      const histogram = histograms[ch] as Float64Array;
      for (let i = ch; i < pixels.length; i += channels) histogram[pixels[i] as number]++;
    }
  }
  const mean: number[] = [];
  const std: number[] = [];
  for (const histogram of histograms) {
    let n = 0;
    let sum = 0;
    let sumSq = 0;
    for (let v = 0; v < 256; v++) {
      const k = histogram[v] as number;
      const x = v / 255;
      n += k;
      sum += k * x;
      sumSq += k * x * x;
    }
    const m = n > 0 ? sum / n : 0;
    const variance = n > 0 ? Math.max(0, sumSq / n - m * m) : 0;
    mean.push(m);
    // A constant channel would divide by zero: leave its scale alone.
    std.push(variance > 1e-12 ? Math.sqrt(variance) : 1);
  }
  return { mean, std };
}

function toImageSet(raw: RawImages, tables: Float32Array[]): ImageSet {
  const images = new Float32Array(raw.pixels.length);
  const channels = tables.length;
  if (channels === 1) {
    const table = tables[0] as Float32Array;
    for (let i = 0; i < images.length; i++) images[i] = table[raw.pixels[i] as number] as number;
  } else {
    for (let ch = 0; ch < channels; ch++) {
      const table = tables[ch] as Float32Array;
      for (let i = ch; i < images.length; i += channels) images[i] = table[raw.pixels[i] as number] as number;
    }
  }
  return { images, labels: raw.labels, count: raw.count };
}
