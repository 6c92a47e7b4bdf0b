import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../common/rng.js';
import { parseArch } from '../search/space/arch.js';
import { initBackend } from '../snn/backend.js';
import { buildNetwork } from '../snn/network.js';
import { resolvePreset } from '../snn/presets.js';
import { isRunningStatistic, quantizeSymmetric, quantizeWeights } from '../snn/quantize.js';
import { deserializeWeights, serializeWeights } from '../snn/weights.js';

function randomWeights(seed: number, size: number): Float32Array {
  const rng = new Rng(seed);
  // Channels of very different ranges, so a per-tensor scale would fail the per-channel bound below.
  return Float32Array.from({ length: size }, (_, i) => (rng.next() * 2 - 1) * 10 ** ((i % 4) - 2));
}

describe('symmetric per-output-channel quantization', () => {
  const shape = [3, 3, 5, 4];
  const values = randomWeights(7, 3 * 3 * 5 * 4);

  for (const bits of [8, 4] as const) {
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
