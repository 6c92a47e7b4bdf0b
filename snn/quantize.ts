import * as tf from '@tensorflow/tfjs-core';
import { InputError } from '../common/errors.js';
import { deserializeWeights, type SerializedWeights, serializeWeights } from './weights.js';

export type QuantBits = 8 | 6 | 4;
export const QUANT_BITS: readonly QuantBits[] = [8, 6, 4];

export interface QuantizedValues {
  /** codes x scale of their channel: what the quantized network computes with (fake quantization). */
  dequantized: Float32Array;
  /** Signed integer codes in [-(2^(bits-1) - 1), 2^(bits-1) - 1]. */
  codes: Int8Array;
  /** One scale per output channel (the last axis). */
  scales: Float32Array;
}

/**
 * Symmetric per-output-channel quantization of a row-major tensor whose last axis is the output
 * channel (conv [kh, kw, in, out], linear [in, out]); a 1-D tensor (BatchNorm gamma/beta, a bias) is
 * one channel. Scale = max |w| of the channel / qmax, so each channel's largest weight is exact.
 */
export function quantizeSymmetric(
  values: Float32Array,
  shape: readonly number[],
  bits: QuantBits,
): QuantizedValues {
  if (!QUANT_BITS.includes(bits))
    throw new InputError('weightBits', `${bits} cannot be quantized to`, QUANT_BITS.join(', '));
  const channels = shape.length <= 1 ? 1 : (shape[shape.length - 1] as number);
  const qmax = 2 ** (bits - 1) - 1;
  const maxAbs = new Float32Array(channels);
  values.forEach((v, i) => {
    const ch = i % channels;
    maxAbs[ch] = Math.max(maxAbs[ch] as number, Math.abs(v));
  });
  const scales = maxAbs.map((m) => m / qmax);
  const codes = new Int8Array(values.length);
  const dequantized = new Float32Array(values.length);
  values.forEach((v, i) => {
    const scale = scales[i % channels] as number;
    const code = scale === 0 ? 0 : Math.max(-qmax, Math.min(qmax, Math.round(v / scale)));
    codes[i] = code;
    dequantized[i] = code * scale;
  });
  return { dequantized, codes, scales };
}

/**
 * quantizeSymmetric's dequantized values as tensor ops, for quantization-aware training: per output channel
 * (the last axis), scale = max |w| / qmax, codes rounded half up (as Math.round) and clipped. Computed in
 * float32 where quantizeSymmetric divides in float64, so a value within an ulp of a rounding boundary
 * may take the neighbouring code; the stored weights always come from quantizeSymmetric.
 */
export function fakeQuantize(t: tf.Tensor, bits: QuantBits): tf.Tensor {
  return tf.tidy(() => {
    const qmax = 2 ** (bits - 1) - 1;
    const axes = t.shape.slice(0, -1).map((_, i) => i);
    const maxAbs = t.rank <= 1 ? tf.max(tf.abs(t)) : tf.max(tf.abs(t), axes);
    const scale = tf.div(maxAbs, qmax);
    // A channel of zeros has scale 0: its codes are 0 (as quantizeSymmetric), not 0 / 0.
    const safe = tf.where(tf.equal(scale, 0), tf.onesLike(scale), scale);
    const codes = tf.clipByValue(tf.floor(tf.add(tf.div(t, safe), 0.5)), -qmax, qmax);
    return tf.mul(codes, scale);
  });
}

export interface QuantizedWeights {
  /** Same tensors, trainable ones replaced by their dequantized values; running statistics unchanged. */
  weights: SerializedWeights;
  bits: QuantBits;
  /** Bytes of the packed integer codes (bits per parameter, rounded up per tensor). */
  codeBytes: number;
  /** Bytes of the float32 per-channel scales. */
  scaleBytes: number;
}

/** BatchNorm running statistics are state, not parameters; they stay in float. */
export function isRunningStatistic(name: string): boolean {
  return name.endsWith('.running_mean') || name.endsWith('.running_var');
}

/** Fake-quantizes every parameter of a serialized network to `bits`. */
export async function quantizeWeights(
  weights: SerializedWeights,
  bits: QuantBits,
): Promise<QuantizedWeights> {
  const tensors = deserializeWeights(weights);
  const replaced: tf.Tensor[] = [];
  try {
    let codeBytes = 0;
    let scaleBytes = 0;
    const out: tf.NamedTensorMap = {};
    for (const [name, tensor] of Object.entries(tensors)) {
      if (isRunningStatistic(name)) {
        out[name] = tensor;
        continue;
      }
      const q = quantizeSymmetric(tensor.dataSync() as Float32Array, tensor.shape, bits);
      codeBytes += Math.ceil((tensor.size * bits) / 8);
      scaleBytes += q.scales.length * 4;
      const t = tf.tensor(q.dequantized, tensor.shape, 'float32');
      replaced.push(t);
      out[name] = t;
    }
    return { weights: await serializeWeights(out), bits, codeBytes, scaleBytes };
  } finally {
    tf.dispose(tensors);
    tf.dispose(replaced);
  }
}
