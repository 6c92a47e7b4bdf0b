import { InputError } from '../common/errors.js';
import { deriveSeed, Rng } from '../common/rng.js';
import type { RawImages } from './raw.js';

export interface SyntheticOptions {
  height?: number;
  width?: number;
  channels?: number;
  numClasses?: number;
  trainCount?: number;
  testCount?: number;
}

export const SYNTHETIC_DEFAULTS = {
  height: 16,
  width: 16,
  channels: 1,
  numClasses: 10,
  trainCount: 2000,
  testCount: 500,
} as const;

/** The image is split into a GRID x GRID grid; class k lights cell k (row-major), so at most GRID^2 classes. */
const GRID = 4;
const BACKGROUND = 30;
const FOREGROUND = 200;
/** Noise amplitude: uniform in [-NOISE, NOISE], enough that single pixels do not give the class away. */
const NOISE = 60;

/**
 * A seeded, learnable image set for tests: class k is a bright square in grid cell k, shifted by up to
 * one pixel, on a dark background, all with uniform noise. Class-balanced (label = index mod classes).
 * Same seed and options -> same bytes.
 */
export function generateSynthetic(
  seed: number,
  options: SyntheticOptions = {},
): { train: RawImages; test: RawImages; shape: [number, number, number]; numClasses: number } {
  const o = { ...SYNTHETIC_DEFAULTS, ...options };
  if (o.numClasses < 2 || o.numClasses > GRID * GRID) {
    throw new InputError('numClasses', `${o.numClasses} is out of range`, `2..${GRID * GRID}`);
  }
  if (o.height < 2 * GRID || o.width < 2 * GRID) {
    throw new InputError(
      'synthetic size',
      `${o.height}x${o.width} is too small`,
      `at least ${2 * GRID}x${2 * GRID}`,
    );
  }
  const shape: [number, number, number] = [o.height, o.width, o.channels];
  return {
    train: generateSplit(new Rng(deriveSeed(seed, 'synthetic/train')), o.trainCount, shape, o.numClasses),
    test: generateSplit(new Rng(deriveSeed(seed, 'synthetic/test')), o.testCount, shape, o.numClasses),
    shape,
    numClasses: o.numClasses,
  };
}

function generateSplit(
  rng: Rng,
  count: number,
  shape: [number, number, number],
  numClasses: number,
): RawImages {
  const [h, w, c] = shape;
  const cellH = Math.floor(h / GRID);
  const cellW = Math.floor(w / GRID);
  const pixels = new Uint8Array(count * h * w * c);
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const label = i % numClasses;
    labels[i] = label;
    const top = clamp(Math.floor(label / GRID) * cellH + rng.int(3) - 1, 0, h - cellH);
    const left = clamp((label % GRID) * cellW + rng.int(3) - 1, 0, w - cellW);
    const base = i * h * w * c;
    for (let y = 0; y < h; y++) {
      const rowInside = y >= top && y < top + cellH;
      for (let x = 0; x < w; x++) {
        const level = rowInside && x >= left && x < left + cellW ? FOREGROUND : BACKGROUND;
        const o = base + (y * w + x) * c;
        for (let ch = 0; ch < c; ch++) {
          pixels[o + ch] = clamp(Math.round(level + (rng.next() * 2 - 1) * NOISE), 0, 255);
        }
      }
    }
  }
  return { pixels, labels, count };
}

function clamp(value: number, low: number, high: number): number {
  return value < low ? low : value > high ? high : value;
}
