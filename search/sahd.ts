/**
 * SAHD: the sparsity-aware Hamming-distance score of SNASNet, as specified in the method doc.
 * Pure functions over spike statistics; the SNN runtime supplies one SpikeGram per LIF call.
 */

/** Statistics of one LIF call's output x (batch x neurons, 1 where it spiked). */
export interface SpikeGram {
  /** x xᵀ, row-major batch x batch. */
  gram: ArrayLike<number>;
  /** Spikes per sample: rowsum(x), length batch. */
  rowSums: ArrayLike<number>;
  batch: number;
  neurons: number;
}

export interface SpikeLayer {
  /** Row-major batch x neurons, 1 for a spike, 0 otherwise. */
  spikes: ArrayLike<number>;
  batch: number;
  neurons: number;
}

/**
 * K_layer = N - (0.5 / (normK + 1e-3)) * H, with H = x(1-x)ᵀ + (1-x)xᵀ = r_i + r_j - 2 (xxᵀ)_ij
 * and normK = (s(1-s)ᵀ + (1-s)sᵀ) N, s = r / N. Summed over calls, divided by their number.
 */
export function sahdKernel(calls: readonly SpikeGram[]): Float64Array {
  const first = calls[0];
  if (first === undefined) throw new Error('sahd: no LIF calls to score');
  const b = first.batch;
  const kernel = new Float64Array(b * b);
  for (const call of calls) {
    if (call.batch !== b) throw new Error(`sahd: batch ${call.batch} differs from ${b}`);
    const n = call.neurons;
    for (let i = 0; i < b; i++) {
      const ri = call.rowSums[i] as number;
      const si = ri / n;
      for (let j = 0; j < b; j++) {
        const rj = call.rowSums[j] as number;
        const sj = rj / n;
        const normK = (si * (1 - sj) + (1 - si) * sj) * n;
        const hamming = ri + rj - 2 * (call.gram[i * b + j] as number);
        kernel[i * b + j] = (kernel[i * b + j] as number) + n - (0.5 / (normK + 1e-3)) * hamming;
      }
    }
  }
  for (let k = 0; k < kernel.length; k++) kernel[k] = (kernel[k] as number) / calls.length;
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

/** The score of one mini-batch from per-call spike statistics. Higher is better. */
export function sahdFromGrams(calls: readonly SpikeGram[]): number {
  const kernel = sahdKernel(calls);
  return logAbsDet(kernel, (calls[0] as SpikeGram).batch);
}

/** The score of one mini-batch from raw spike matrices, one per LIF call (each timestep counts). */
export function sahdScore(layers: readonly SpikeLayer[]): number {
  return sahdFromGrams(layers.map(gramOf));
}

function gramOf(layer: SpikeLayer): SpikeGram {
  const { spikes, batch: b, neurons: n } = layer;
  if (spikes.length !== b * n) {
    throw new Error(`sahd: spikes has ${spikes.length} values, expected batch x neurons = ${b * n}`);
  }
  const rowSums = new Float64Array(b);
  const gram = new Float64Array(b * b);
  for (let i = 0; i < b; i++) {
    let r = 0;
    for (let k = 0; k < n; k++) r += spikes[i * n + k] as number;
    rowSums[i] = r;
    for (let j = 0; j <= i; j++) {
      let dot = 0;
      for (let k = 0; k < n; k++) dot += (spikes[i * n + k] as number) * (spikes[j * n + k] as number);
      gram[i * b + j] = dot;
      gram[j * b + i] = dot;
    }
  }
  return { gram, rowSums, batch: b, neurons: n };
}
