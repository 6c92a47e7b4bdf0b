import { basename } from 'node:path';
import { InputError } from '../common/errors.js';
import { type RawImages, readMaybeGzip } from './raw.js';

export const CIFAR_SIDE = 32;
const PLANE = CIFAR_SIDE * CIFAR_SIDE;
const PIXELS = 3 * PLANE;

/** CIFAR-10 records carry one label byte; CIFAR-100 records a coarse then a fine label byte (we use fine). */
export interface CifarFormat {
  labelBytes: 1 | 2;
  numClasses: number;
}

export const CIFAR10: CifarFormat = { labelBytes: 1, numClasses: 10 };
export const CIFAR100: CifarFormat = { labelBytes: 2, numClasses: 100 };

/**
 * Decodes CIFAR binary records (label byte(s) + 3072 bytes, channel planes R, G, B of 32x32) into NHWC
 * uint8, taking at most `limit` records. The last label byte of a record is the class.
 */
export function decodeCifar(
  bytes: Uint8Array,
  fileName: string,
  format: CifarFormat,
  limit: number,
): RawImages {
  const record = format.labelBytes + PIXELS;
  const labelText = format.labelBytes === 1 ? '1 label byte' : '2 label bytes (coarse, fine)';
  if (bytes.length === 0 || bytes.length % record !== 0) {
    throw new InputError(
      'dataset',
      `${fileName}: expected a whole number of ${record}-byte records (${labelText} + 3 x 32 x 32 pixels), ` +
        `found ${bytes.length} bytes`,
    );
  }
  const count = Math.min(bytes.length / record, limit);
  const pixels = new Uint8Array(count * PIXELS);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const start = i * record;
    const label = bytes[start + format.labelBytes - 1] as number;
    if (label >= format.numClasses) {
      throw new InputError(
        'dataset',
        `${fileName}: record ${i} has label ${label}, expected 0..${format.numClasses - 1}`,
      );
    }
    labels[i] = label;
    const base = start + format.labelBytes;
    const out = i * PIXELS;
    for (let p = 0; p < PLANE; p++) {
      const o = out + 3 * p;
      pixels[o] = bytes[base + p] as number;
      pixels[o + 1] = bytes[base + PLANE + p] as number;
      pixels[o + 2] = bytes[base + 2 * PLANE + p] as number;
    }
  }
  return { pixels, labels, count };
}

/** Reads and concatenates CIFAR batch files in order, stopping once `limit` records are decoded. */
export async function readCifarFiles(
  paths: string[],
  format: CifarFormat,
  limit: number,
): Promise<RawImages> {
  const parts: RawImages[] = [];
  let total = 0;
  for (const path of paths) {
    if (total >= limit) break;
    const bytes = await readMaybeGzip(path);
    const part = decodeCifar(bytes, basename(path), format, limit - total);
    parts.push(part);
    total += part.count;
  }
  if (parts.length === 1) return parts[0] as RawImages;
  const pixels = new Uint8Array(total * PIXELS);
  const labels = new Int32Array(total);
  let offset = 0;
  for (const part of parts) {
    pixels.set(part.pixels, offset * PIXELS);
    labels.set(part.labels, offset);
    offset += part.count;
  }
  return { pixels, labels, count: total };
}
