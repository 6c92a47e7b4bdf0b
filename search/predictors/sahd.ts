/**
 * SAHD: the sparsity-aware Hamming-distance score of SNASNet, as specified in the method doc.
 * The kernel math is pure functions over spike statistics; the forward pass below hooks into any network
 * through its spike observer and accumulates the kernel on the backend, so the network never knows SAHD exists.
 */
import * as tf from '@tensorflow/tfjs-core';
import { InputError } from '../../common/errors.js';
import { deriveSeed } from '../../common/rng.js';
import {
  type Arch,
  assertBatchFits,
  buildNetwork,
  type ForwardOptions,
  initBackend,
  type NetConfig,
  nativeOpsAvailable,
  type SpikingNetwork,
  spikeGram,
} from '../../snn/index.js';

/**
 * SAHD's kernel summed over a mini-batch's LIF calls, in the form that keeps float32 sums exact enough:
 * K_layer = N - W_layer with W_layer = (0.5 / (normK + 1e-3)) * H, so sum K = (sum N) - (sum W).
 * W is O(1) per entry while N reaches 10^5, so the backend accumulates only W and the subtraction
 * from sum N happens here, in float64.
 */
export interface SahdSums {
  /** Row-major batch x batch: the sum over calls of 0.5 H / (normK + 1e-3). */
  weighted: ArrayLike<number>;
  /** Sum of N (neurons per sample) over the calls. */
  neurons: number;
  calls: number;
  batch: number;
}

export interface SpikeLayer {
  /** Row-major batch x neurons, 1 for a spike, 0 otherwise. */
  spikes: ArrayLike<number>;
  batch: number;
  neurons: number;
}

/**
 * K = (1 / calls) sum over calls of (N - (0.5 / (normK + 1e-3)) * H), with H = x(1-x)ᵀ + (1-x)xᵀ
 * = r_i + r_j - 2 (xxᵀ)_ij and normK = (s(1-s)ᵀ + (1-s)sᵀ) N = r_i + r_j - 2 r_i r_j / N, s = r / N.
 */
export function sahdKernel(sums: SahdSums): Float64Array {
  if (sums.calls === 0) throw new Error('sahd: no LIF calls to score');
  const b = sums.batch;
  if (sums.weighted.length !== b * b) {
    throw new Error(`sahd: weighted sums have ${sums.weighted.length} values, expected ${b} x ${b}`);
  }
  const kernel = new Float64Array(b * b);
  for (let k = 0; k < kernel.length; k++) {
    kernel[k] = (sums.neurons - (sums.weighted[k] as number)) / sums.calls;
  }
  return kernel;
}

/** log|det K| by LU decomposition with partial pivoting, in float64. */
export function logAbsDet(matrix: Float64Array, size: number): number {
  const a = Float64Array.from(matrix);
  let logDet = 0;
  for (let col = 0; col < size; col++) {
    let pivot = col;
    for (let row = col + 1; row < size; row++) {
      if (Math.abs(a[row * size + col] as number) > Math.abs(a[pivot * size + col] as number)) pivot = row;
    }
    const p = a[pivot * size + col] as number;
    if (p === 0) return Number.NEGATIVE_INFINITY;
    if (pivot !== col) {
      for (let k = 0; k < size; k++) {
        const t = a[col * size + k] as number;
        a[col * size + k] = a[pivot * size + k] as number;
        a[pivot * size + k] = t;
      }
    }
    logDet += Math.log(Math.abs(p));
    for (let row = col + 1; row < size; row++) {
      const f = (a[row * size + col] as number) / p;
      if (f === 0) continue;
      for (let k = col; k < size; k++)
        a[row * size + k] = (a[row * size + k] as number) - f * (a[col * size + k] as number);
    }
  }
  return logDet;
}

/** The score of one mini-batch from its summed spike statistics. Higher is better. */
export function sahdFromSums(sums: SahdSums): number {
  return logAbsDet(sahdKernel(sums), sums.batch);
}

/**
 * The score of one mini-batch from raw spike matrices, one per LIF call (each timestep counts), all in
 * float64: the reference the runtime's backend accumulation is tested against.
 */
export function sahdScore(layers: readonly SpikeLayer[]): number {
  const first = layers[0];
  if (first === undefined) throw new Error('sahd: no LIF calls to score');
  const b = first.batch;
  const weighted = new Float64Array(b * b);
  let neurons = 0;
  for (const layer of layers) {
    const { spikes, batch, neurons: n } = layer;
    if (batch !== b) throw new Error(`sahd: batch ${batch} differs from ${b}`);
    if (spikes.length !== b * n) {
      throw new Error(`sahd: spikes has ${spikes.length} values, expected batch x neurons = ${b * n}`);
    }
    const r = new Float64Array(b);
    for (let i = 0; i < b; i++)
      for (let k = 0; k < n; k++) r[i] = (r[i] as number) + (spikes[i * n + k] as number);
    for (let i = 0; i < b; i++) {
      for (let j = 0; j < b; j++) {
        let dot = 0;
        for (let k = 0; k < n; k++) dot += (spikes[i * n + k] as number) * (spikes[j * n + k] as number);
        const ri = r[i] as number;
        const rj = r[j] as number;
        const hamming = ri + rj - 2 * dot;
        const normK = ri + rj - (2 * ri * rj) / n;
        weighted[i * b + j] = (weighted[i * b + j] as number) + (0.5 / (normK + 1e-3)) * hamming;
      }
    }
    neurons += n;
  }
  return sahdFromSums({ weighted, neurons, calls: layers.length, batch: b });
}

/**
 * SAHD of a candidate at initialisation (higher is better): one forward pass per batch, the mean of the
 * per-batch scores. Passing a config with fewer timesteps gives the cheap first-pass score.
 * `batches` hold batchSize images each, NHWC; the network's weights derive from `seed`. `path` picks the
 * execution path (the bench times the step-by-step one beside the default).
 */
export async function scoreSahd(
  arch: Arch,
  config: NetConfig,
  batches: Float32Array[],
  batchSize: number,
  seed: number,
  path: Pick<ForwardOptions, 'stepByStep'> = {},
): Promise<number> {
  if (batches.length === 0) throw new InputError('batches', 'no batch to score on', 'at least one batch');
  await initBackend();
  const net = buildNetwork(arch, config, seed);
  try {
    assertBatchFits(net, 'score', batchSize, 'batchSize');
    let total = 0;
    for (const [k, images] of batches.entries()) {
      total += sahdFromSums(sahdSumsOf(net, images, batchSize, sahdDropoutSeed(seed, k), path));
    }
    return total / batches.length;
  } finally {
    net.dispose();
  }
}

/** The Dropout seed scoreSahd uses for batch k of a candidate scored with `seed`. */
export function sahdDropoutSeed(seed: number, batchIndex: number): number {
  return deriveSeed(seed, `sahd/dropout/${batchIndex}`);
}

/**
 * One forward pass as SNASNet scores it (training-mode BatchNorm and Dropout, as its un-eval'd model,
 * without touching running statistics or keeping gradients). Each LIF call adds its B x B term of the
 * kernel to an accumulator on the backend, so the pass downloads one B x B matrix, whatever the
 * network's size, and no call's spike map outlives its layer.
 */
export function sahdSumsOf(
  net: SpikingNetwork,
  images: Float32Array,
  batchSize: number,
  dropoutSeed: number,
  path: Pick<ForwardOptions, 'stepByStep'> = {},
): SahdSums {
  const [h, w, c] = net.config.inputShape;
  if (images.length !== batchSize * h * w * c) {
    throw new InputError(
      'batches',
      `a batch has ${images.length} values`,
      `batchSize x ${h}x${w}x${c} = ${batchSize * h * w * c}`,
    );
  }
  const weighted = tf.tidy(() => tf.variable(tf.zeros([batchSize, batchSize]), false));
  let neurons = 0;
  let calls = 0;
  // LIF twins (conv edges leaving one node) hand the observer the same spikes tensor one name after
  // another: their term is computed once and added once per name, as SNASNet's per-edge hooks count it.
  let last: { spikes: tf.Tensor; term: tf.Tensor2D } | null = null;
  // The per-timestep path is the reference: there the GEMM gives x xᵀ, elsewhere the native bit counts.
  const bitCounts = path.stepByStep !== true && nativeOpsAvailable();
  try {
    tf.tidy(() => {
      net.forward(tf.tensor4d(images, [batchSize, h, w, c]), {
        ...path,
        training: true,
        updateStats: false,
        dropoutSeed,
        observe: (_layer, spikes) => {
          const n = spikes.size / batchSize;
          if (last?.spikes !== spikes) {
            const x = tf.reshape(spikes, [batchSize, n]) as tf.Tensor2D;
            last = { spikes, term: weightedHamming(x, n, bitCounts) };
          }
          weighted.assign(tf.add(weighted, last.term));
          neurons += n;
          calls++;
        },
      });
    });
    return { weighted: weighted.dataSync(), neurons, calls, batch: batchSize };
  } finally {
    weighted.dispose();
  }
}

/**
 * 0.5 H / (normK + 1e-3) of one call's spikes x (B x N), with r = rowsum(x): H = r_i + r_j - 2 (xxᵀ)_ij,
 * normK = r_i + r_j - 2 r_i r_j / N. Spike counts and dot products of 0/1 vectors are exact in float32,
 * so the native op's bit counts (tensorflow backend) and the GEMM (elsewhere) give the same xxᵀ.
 */
function weightedHamming(x: tf.Tensor2D, n: number, bitCounts: boolean): tf.Tensor2D {
  const b = x.shape[0];
  const r = tf.sum(x, 1, true) as tf.Tensor2D;
  const pairSums = tf.add(r, tf.reshape(r, [1, b]));
  const dot = bitCounts ? spikeGram(x) : tf.matMul(x, x, false, true);
  const hamming = tf.sub(pairSums, tf.mul(dot, 2));
  const normK = tf.sub(pairSums, tf.mul(tf.matMul(r, r, false, true), 2 / n));
  return tf.div(tf.mul(hamming, 0.5), tf.add(normK, 1e-3)) as tf.Tensor2D;
}
