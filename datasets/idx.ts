import { basename } from 'node:path';
import { InputError } from '../common/errors.js';
import { type RawImages, readMaybeGzip } from './raw.js';

/** IDX magic: two zero bytes, the element type (0x08 = unsigned byte), the number of dimensions. */
const IDX_UBYTE = 0x08;

interface IdxArray {
  dims: number[];
  /** The element bytes after the header (a view, no copy). */
  data: Uint8Array;
}

/**
 * Parses an IDX file of unsigned bytes with the expected number of dimensions. `what` describes the
 * content for error messages ('image data', 'labels').
 */
export function parseIdx(bytes: Uint8Array, fileName: string, rank: number, what: string): IdxArray {
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0 || bytes[2] !== IDX_UBYTE || bytes[3] !== rank) {
    const found = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
    throw new InputError(
      'dataset',
      `${fileName}: not an IDX file of ${what} (expected magic 00 00 08 0${rank}, found ${found || 'nothing'})`,
    );
  }
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) {
    throw new InputError(
      'dataset',
      `${fileName}: expected a ${headerBytes}-byte IDX header, found ${bytes.length}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let d = 0; d < rank; d++) dims.push(view.getUint32(4 + 4 * d, false));
  const elements = dims.reduce((a, b) => a * b, 1);
  const expected = headerBytes + elements;
  if (bytes.length !== expected) {
    throw new InputError(
      'dataset',
      `${fileName}: expected ${expected} bytes of ${what} (${dims.join(' x ')}), found ${bytes.length}`,
    );
  }
  return { dims, data: bytes.subarray(headerBytes) };
}

export interface IdxFiles {
  images: string;
  labels: string;
}

/** Reads one IDX image/label pair (MNIST layout: N x H x W images, N labels) as NHWC with one channel. */
export async function readIdxPair(
  files: IdxFiles,
  limit: number,
): Promise<{ raw: RawImages; shape: [number, number, number] }> {
  const [imageBytes, labelBytes] = await Promise.all([
    readMaybeGzip(files.images),
    readMaybeGzip(files.labels),
  ]);
  const imageName = basename(files.images);
  const labelName = basename(files.labels);
  const images = parseIdx(imageBytes, imageName, 3, 'image data');
  const labels = parseIdx(labelBytes, labelName, 1, 'labels');
  const [n, h, w] = images.dims as [number, number, number];
  if (labels.dims[0] !== n) {
    throw new InputError(
      'dataset',
      `${labelName}: expected ${n} labels to match ${imageName}, found ${labels.dims[0]}`,
    );
  }
  const count = Math.min(n, limit);
  return {
    raw: {
      // A view into the decoded file, which nothing else holds: no copy of up to 47 MB.
      pixels: images.data.subarray(0, count * h * w),
      labels: Int32Array.from(labels.data.subarray(0, count)),
      count,
    },
    shape: [h, w, 1],
  };
}
