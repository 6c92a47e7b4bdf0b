import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { InputError } from '../common/errors.js';

const gunzipAsync = promisify(gunzip);

/**
 * Decoded images before normalisation: uint8 pixels in NHWC order. Loaders produce this so that
 * normalisation, the fingerprint and the float conversion are done once, in one place.
 */
export interface RawImages {
  pixels: Uint8Array;
  labels: Int32Array;
  count: number;
}

/** Reads a file, gunzipping it when it starts with the gzip magic bytes (1f 8b), whatever its name. */
export async function readMaybeGzip(path: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new InputError('dataset', `${path}: file not found`);
    throw error;
  }
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      return await gunzipAsync(bytes);
    } catch (error) {
      throw new InputError(
        'dataset',
        `${basename(path)}: not a complete gzip stream (${(error as Error).message}); the file is truncated or corrupt`,
      );
    }
  }
  return bytes;
}

/** Takes the first `limit` records (all when undefined); never more than there are. */
export function limitCount(available: number, limit: number | undefined, field: string): number {
  if (limit === undefined) return available;
  if (!Number.isInteger(limit) || limit <= 0) {
    throw new InputError(field, `${limit} is not a positive whole number`, 'a whole number >= 1');
  }
  return Math.min(available, limit);
}
