import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../common/rng.js';
import { initBackend } from '../snn/backend.js';
import { atanSurrogateGrad, LIF_THRESHOLD, SURROGATE_ALPHA, spikeOf } from '../snn/lif.js';

const VS = [-1.5, -0.3, 0, 0.5, 0.9, 1, 1.05, 1.7, 3];

/** The smooth function whose derivative the ATan surrogate is: atan(pi/2 * alpha * (v - thr)) / pi + 1/2. */
function smoothSpike(v: number): number {
  return Math.atan((Math.PI / 2) * SURROGATE_ALPHA * (v - LIF_THRESHOLD)) / Math.PI + 0.5;
}

function randomArray(seed: number, size: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: size }, () => rng.next() * 2 - 1);
}

function maxRelativeError(a: Float32Array, b: Float32Array): number {
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(b[i] as number));
    diff = Math.max(diff, Math.abs((a[i] as number) - (b[i] as number)));
  }
  return diff / Math.max(scale, 1e-12);
}

beforeAll(async () => {
  await initBackend();
});

afterAll(async () => {
  await tf.setBackend('wasm');
});

describe('LIF spike surrogate gradient', () => {
  it('forward is the Heaviside step at the threshold (v >= threshold spikes)', () => {
    const out = tf.tidy(() => spikeOf(tf.tensor1d(VS)).dataSync());
    expect(Array.from(out)).toEqual(VS.map((v) => (v >= LIF_THRESHOLD ? 1 : 0)));
  });

  it('backward equals the analytic ATan formula', () => {
    const grads = tf.tidy(() =>
      tf
        .grad((v: tf.Tensor) => tf.sum(spikeOf(v)))(tf.tensor1d(VS))
        .dataSync(),
    );
    VS.forEach((v, i) => {
      const expected =
        SURROGATE_ALPHA / 2 / (1 + ((Math.PI / 2) * SURROGATE_ALPHA * (v - LIF_THRESHOLD)) ** 2);
      expect(grads[i]).toBeCloseTo(expected, 5);
      expect(atanSurrogateGrad(v)).toBeCloseTo(expected, 12);
    });
  });

  it('backward equals finite differences of the smooth stand-in, and scales with dy', () => {
    const h = 1e-5;
    const dy = tf.tensor1d(VS.map((_, i) => i + 1));
    const grads = tf.tidy(() => {
      const f = (v: tf.Tensor) => tf.sum(tf.mul(spikeOf(v), dy));
      return tf.grad(f)(tf.tensor1d(VS)).dataSync();
    });
    dy.dispose();
    VS.forEach((v, i) => {
      const fd = (smoothSpike(v + h) - smoothSpike(v - h)) / (2 * h);
      expect(grads[i]).toBeCloseTo((i + 1) * fd, 4);
    });
  });
});

interface GradCase {
  name: string;
  xShape: [number, number, number, number];
  wShape: [number, number, number, number];
  stride: number;
  pad: number | 'valid' | 'same';
}

const CONV_CASES: GradCase[] = [
  { name: '3x3 stride 1 pad 1', xShape: [3, 9, 7, 4], wShape: [3, 3, 4, 5], stride: 1, pad: 1 },
  { name: '1x1 stride 1', xShape: [2, 6, 6, 3], wShape: [1, 1, 3, 6], stride: 1, pad: 0 },
  {
    name: '3x3 stride 2 pad 1 (stem), even input',
    xShape: [2, 28, 28, 1],
    wShape: [3, 3, 1, 4],
    stride: 2,
    pad: 1,
  },
  { name: '3x3 stride 2 pad 1, odd input', xShape: [2, 9, 11, 2], wShape: [3, 3, 2, 3], stride: 2, pad: 1 },
  { name: '3x3 stride 1 same', xShape: [2, 5, 5, 2], wShape: [3, 3, 2, 2], stride: 1, pad: 'same' },
];

/** Gradients of sum(conv2d(x, w) * r) with respect to x and w on the current backend. */
function convGrads(c: GradCase): [Float32Array, Float32Array] {
  return tf.tidy(() => {
    const x = tf.tensor4d(
      randomArray(
        1,
        c.xShape.reduce((a, b) => a * b),
      ),
      c.xShape,
    );
    const w = tf.tensor4d(
      randomArray(
        2,
        c.wShape.reduce((a, b) => a * b),
      ),
      c.wShape,
    );
    const outShape = tf.conv2d(x, w, c.stride, c.pad).shape;
    const r = tf.tensor(
      randomArray(
        3,
        outShape.reduce((a, b) => a * b),
      ),
      outShape,
    );
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad), r)),
    );
    const [dx, dw] = g([x, w]);
    return [dx?.dataSync() as Float32Array, dw?.dataSync() as Float32Array];
  });
}

function poolGrad(kind: 'pool2' | 'pool3pad'): Float32Array {
  return tf.tidy(() => {
    const x = tf.tensor4d(randomArray(4, 2 * 7 * 7 * 3), [2, 7, 7, 3]);
    const f = (a: tf.Tensor) => {
      const y =
        kind === 'pool2'
          ? tf.avgPool(a as tf.Tensor4D, 2, 2, 'valid')
          : tf.avgPool(
              tf.pad(a as tf.Tensor4D, [
                [0, 0],
                [1, 1],
                [1, 1],
                [0, 0],
              ]),
              3,
              1,
              'valid',
            );
      const r = tf.tensor(randomArray(5, y.size), y.shape);
      return tf.sum(tf.mul(y, r));
    };
    return tf.grad(f)(x).dataSync() as Float32Array;
  });
}

describe('convolution and pooling gradients on wasm match the cpu backend', () => {
  for (const c of CONV_CASES) {
    it(`conv2d ${c.name}`, async () => {
      await tf.setBackend('wasm');
      const [wasmDx, wasmDw] = convGrads(c);
      await tf.setBackend('cpu');
      const [cpuDx, cpuDw] = convGrads(c);
      expect(wasmDw.length).toBe(cpuDw.length);
      expect(maxRelativeError(wasmDw, cpuDw)).toBeLessThan(1e-5);
      expect(maxRelativeError(wasmDx, cpuDx)).toBeLessThan(1e-5);
    });
  }

  for (const kind of ['pool2', 'pool3pad'] as const) {
    it(`avgPool ${kind}`, async () => {
      await tf.setBackend('wasm');
      const wasm = poolGrad(kind);
      await tf.setBackend('cpu');
      const cpu = poolGrad(kind);
      expect(maxRelativeError(wasm, cpu)).toBeLessThan(1e-5);
    });
  }
});
