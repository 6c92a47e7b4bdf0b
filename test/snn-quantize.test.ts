import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../common/rng.js';
import { parseArch } from '../search/space/arch.js';
import { initBackend } from '../snn/backend.js';
import { buildNetwork } from '../snn/network.js';
import { resolvePreset } from '../snn/presets.js';
import { fakeQuantize, isRunningStatistic, quantizeSymmetric, quantizeWeights } from '../snn/quantize.js';
import { DEFAULT_SGD, sgdStep } from '../snn/train.js';
import { deserializeWeights, serializeWeights } from '../snn/weights.js';

function randomWeights(seed: number, size: number): Float32Array {
  const rng = new Rng(seed);
  // Channels of very different ranges, so a per-tensor scale would fail the per-channel bound below.
  return Float32Array.from({ length: size }, (_, i) => (rng.next() * 2 - 1) * 10 ** ((i % 4) - 2));
}

describe('symmetric per-output-channel quantization', () => {
  const shape = [3, 3, 5, 4];
  const values = randomWeights(7, 3 * 3 * 5 * 4);

  for (const bits of [8, 6, 4] as const) {
    const qmax = 2 ** (bits - 1) - 1;

    it(`${bits} bits: codes in range, error at most half a step of the channel`, () => {
      const q = quantizeSymmetric(values, shape, bits);
      expect(q.scales.length).toBe(4);
      for (let i = 0; i < values.length; i++) {
        const code = q.codes[i] as number;
        expect(Math.abs(code)).toBeLessThanOrEqual(qmax);
        const scale = q.scales[i % 4] as number;
        expect(Math.abs((q.dequantized[i] as number) - (values[i] as number))).toBeLessThanOrEqual(
          scale / 2 + 1e-9,
        );
      }
      // Each channel's largest magnitude maps to the extreme code.
      for (let ch = 0; ch < 4; ch++) {
        let extreme = 0;
        for (let i = ch; i < values.length; i += 4)
          extreme = Math.max(extreme, Math.abs(q.codes[i] as number));
        expect(extreme).toBe(qmax);
      }
    });

    it(`${bits} bits: quantizing the dequantized values again changes nothing`, () => {
      const once = quantizeSymmetric(values, shape, bits);
      const twice = quantizeSymmetric(once.dequantized, shape, bits);
      expect(Array.from(twice.codes)).toEqual(Array.from(once.codes));
      for (let i = 0; i < values.length; i++) {
        expect(twice.dequantized[i]).toBeCloseTo(once.dequantized[i] as number, 6);
      }
    });
  }

  it('an all-zero channel stays zero', () => {
    const q = quantizeSymmetric(new Float32Array(8), [2, 4], 4);
    expect(Array.from(q.dequantized)).toEqual(new Array(8).fill(0));
  });

  it('rejects other widths', () => {
    expect(() => quantizeSymmetric(values, shape, 3 as 8)).toThrow(/weightBits/);
  });
});

describe('quantizeWeights on a built network', () => {
  beforeAll(async () => {
    await initBackend();
  });

  it('keeps running statistics, quantizes every parameter, sizes codes by bits', async () => {
    const config = resolvePreset('fmnist-tiny');
    const net = buildNetwork(parseArch('0302 0030 3003 0000'), config, 3);
    try {
      const original = await serializeWeights(net.getWeights());
      const q4 = await quantizeWeights(original, 4);
      expect(q4.codeBytes).toBeGreaterThanOrEqual(Math.ceil((net.countParams() * 4) / 8));
      expect(q4.codeBytes).toBeLessThan(Math.ceil((net.countParams() * 4) / 8) + 64);
      const before = deserializeWeights(original);
      const after = deserializeWeights(q4.weights);
      try {
        for (const [name, tensor] of Object.entries(before)) {
          const a = tensor.dataSync();
          const b = (after[name] as tf.Tensor).dataSync();
          if (isRunningStatistic(name)) {
            expect(Array.from(b)).toEqual(Array.from(a));
          } else {
            const distinct = new Set(Array.from(b).map((v) => v.toFixed(7)));
            // at most 15 levels per channel for 4 bits
            const channels = tensor.rank <= 1 ? 1 : (tensor.shape[tensor.rank - 1] as number);
            expect(distinct.size).toBeLessThanOrEqual(15 * channels);
          }
        }
      } finally {
        tf.dispose(before);
        tf.dispose(after);
      }
    } finally {
      net.dispose();
    }
  });
});

describe('quantization-aware training', () => {
  beforeAll(async () => {
    await initBackend();
  });

  for (const bits of [8, 6, 4] as const) {
    it(`${bits} bits: fakeQuantize gives the stored (quantizeSymmetric) values`, () => {
      for (const shape of [[3, 3, 5, 4], [7], [12, 10]]) {
        const size = shape.reduce((a, b) => a * b, 1);
        const values = randomWeights(bits + size, size);
        const expected = quantizeSymmetric(values, shape, bits).dequantized;
        const got = tf.tidy(() => fakeQuantize(tf.tensor(values, shape), bits).dataSync());
        for (let i = 0; i < size; i++) expect(got[i]).toBeCloseTo(expected[i] as number, 6);
      }
      const zeros = tf.tidy(() => fakeQuantize(tf.zeros([2, 4]), bits).dataSync());
      expect(Array.from(zeros)).toEqual(new Array(8).fill(0));
    });
  }

  it('takes the loss at the quantized weights and updates the float ones (straight-through)', async () => {
    const config = resolvePreset('fmnist-tiny');
    const arch = parseArch('0302 0023 0002 0000', 'forward');
    const forwardConfig = { ...config, cellType: 'forward' as const };
    const rng = new Rng(3);
    const images = Float32Array.from({ length: 8 * 28 * 28 }, () => rng.next());
    const x = tf.tensor4d(images, [8, 28, 28, 1]);
    const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], 'int32'), 10);
    const qat = buildNetwork(arch, forwardConfig, 5);
    const quantized = buildNetwork(arch, forwardConfig, 5);
    const plain = buildNetwork(arch, forwardConfig, 5);
    try {
      const floats = await serializeWeights(qat.getWeights());
      const stored = deserializeWeights((await quantizeWeights(floats, 4)).weights);
      quantized.setWeights(stored);
      tf.dispose(stored);
      const zeros = (net: typeof qat) =>
        net.trainableVariables().map((v) => tf.variable(tf.zerosLike(v), false));
      const step = (net: typeof qat, fakeQuantBits?: 4) => {
        const buffers = zeros(net);
        const loss = tf.tidy(
          () =>
            sgdStep(
              net,
              x,
              y,
              buffers,
              { ...DEFAULT_SGD, ...(fakeQuantBits ? { fakeQuantBits } : {}) },
              9,
            ).dataSync()[0],
        );
        tf.dispose(buffers);
        return loss as number;
      };
      const before = qat.trainableVariables().map((v) => v.dataSync().slice());
      const qatLoss = step(qat, 4);
      // The loss is the stored 4-bit network's, not the float one's.
      expect(qatLoss).toBeCloseTo(step(quantized), 5);
      expect(Math.abs(qatLoss - step(plain))).toBeGreaterThan(1e-4);
      // The update landed on the float weights: they moved, and are not 4-bit values now.
      const after = qat.trainableVariables().map((v) => v.dataSync());
      expect(after.some((a, i) => a.some((v, j) => v !== (before[i] as Float32Array)[j]))).toBe(true);
      const stillFloat = await quantizeWeights(await serializeWeights(qat.getWeights()), 4);
      const requantized = deserializeWeights(stillFloat.weights);
      const differs = Object.entries(qat.getWeights()).some(
        ([name, t]) =>
          !isRunningStatistic(name) &&
          t.dataSync().some((v, j) => v !== (requantized[name] as tf.Tensor).dataSync()[j]),
      );
      tf.dispose(requantized);
      expect(differs).toBe(true);
    } finally {
      tf.dispose([x, y]);
      for (const net of [qat, quantized, plain]) net.dispose();
    }
  });
});
