/**
 * Quantization to meet the budget (SpikeNAS v4): when 32-bit weights miss the budget, try 8-bit, then
 * 4-bit weights (per-channel symmetric, snn's quantizeWeights), evaluating test accuracy after each try.
 * The first width that fits is chosen; every tried width is reported, and so is a miss at every width.
 */

import type { WorkContext } from '../../common/work-context.js';
import type { ImageSet } from '../../datasets/types.js';
import type { Arch } from '../../snn/cell-matrix.js';
import type { NetConfig } from '../../snn/config.js';
import { evaluateNetwork, quantizeWeights, type SerializedWeights } from '../../snn/index.js';
import { estimateMemory } from '../space/memory.js';

/** Widths tried, in order: full precision first, then the quantized ones snn supports. */
export const QUANTIZATION_ORDER = [32, 8, 4] as const;
export type TriedBits = (typeof QUANTIZATION_ORDER)[number];

export interface QuantizeInput {
  arch: Arch;
  config: NetConfig;
  weights: SerializedWeights;
  budgetBytes: number;
  test: ImageSet;
  batchSize: number;
  /** Test accuracy of the 32-bit weights when already measured (training reports it); evaluated otherwise. */
  accuracy32?: number;
}

export interface QuantizationTry {
  bits: TriedBits;
  /** Weight bytes at this width: params x 4 for 32 bits; packed codes + per-channel scales otherwise. */
  bytes: number;
  fits: boolean;
  accuracy: number;
}

export interface QuantizeResult {
  tried: QuantizationTry[];
  /** The first width that fits, or null when none does. */
  chosenBits: TriedBits | null;
  /** Weights at the chosen width (the input weights for 32); null when none fits. */
  weights: SerializedWeights | null;
}

export async function quantizeForBudget(
  input: QuantizeInput,
  ctx: Pick<WorkContext<never>, 'signal'> = {},
): Promise<QuantizeResult> {
  const tried: QuantizationTry[] = [];
  const bytes32 = estimateMemory(input.arch, input.config, { weightBits: 32 }).weightBytes;
  const accuracy32 =
    input.accuracy32 ??
    (await evaluateNetwork(input.arch, input.config, input.weights, input.test, input.batchSize)).accuracy;
  tried.push({ bits: 32, bytes: bytes32, fits: bytes32 <= input.budgetBytes, accuracy: accuracy32 });
  if (bytes32 <= input.budgetBytes) return { tried, chosenBits: 32, weights: input.weights };

  for (const bits of [8, 4] as const) {
    ctx.signal?.throwIfAborted();
    const quantized = await quantizeWeights(input.weights, bits);
    // Storing quantized weights takes the packed codes and the per-channel float32 scales.
    const bytes = quantized.codeBytes + quantized.scaleBytes;
    const { accuracy } = await evaluateNetwork(
      input.arch,
      input.config,
      quantized.weights,
      input.test,
      input.batchSize,
    );
    const fits = bytes <= input.budgetBytes;
    tried.push({ bits, bytes, fits, accuracy });
    if (fits) return { tried, chosenBits: bits, weights: quantized.weights };
  }
  return { tried, chosenBits: null, weights: null };
}
