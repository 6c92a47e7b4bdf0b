/**
 * The numerics suite: the same forward passes and gradients on the three backends, the native
 * `tensorflow` one (which runs BatchNorm as TensorFlow's fused kernels), wasm (with this project's
 * convolution-gradient kernels) and cpu (tfjs' reference kernels). Each backend must agree with cpu, so
 * the fallbacks stay correct whichever backend a machine ends up on.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../common/rng.js';
import { sahdFromSums, sahdSumsOf, scoreSahd } from '../search/predictors/sahd.js';
import { parseArch, pruneArch } from '../search/space/arch.js';
import { activateBackend, BACKEND_CHOICES, type BackendChoice, initBackend } from '../snn/backend.js';
import type { Arch } from '../snn/cell-matrix.js';
import type { NetConfig } from '../snn/config.js';
import { nativeOpsAvailable, spikeGram } from '../snn/kernels/native-ops.js';
import { atanSurrogateGrad, LIF_THRESHOLD, LifNeuron, SURROGATE_ALPHA, spikeOf } from '../snn/lif.js';
import { buildNetwork, type ForwardOptions, type SpikingNetwork } from '../snn/network.js';
import { applySgd, sgdUpdate } from '../snn/train.js';

const VS = [-1.5, -0.3, 0, 0.5, 0.9, 1, 1.05, 1.7, 3];

/** The smooth function whose derivative the ATan surrogate is: atan(pi/2 * alpha * (v - thr)) / pi + 1/2. */
function smoothSpike(v: number): number {
  return Math.atan((Math.PI / 2) * SURROGATE_ALPHA * (v - LIF_THRESHOLD)) / Math.PI + 0.5;
}

function randomArray(seed: number, size: number, scale = 1): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: size }, () => (rng.next() * 2 - 1) * scale);
}

/** Largest difference over the larger of b's largest magnitude and `floor` (absolute below it). */
function maxRelativeError(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-12): number {
  expect(a.length).toBe(b.length);
  let scale = floor;
  let diff = 0;
  for (let i = 0; i < a.length; i++) {
    scale = Math.max(scale, Math.abs(b[i] as number));
    diff = Math.max(diff, Math.abs((a[i] as number) - (b[i] as number)));
  }
  return diff / scale;
}

/** Runs `compute` on every backend; returns its results by backend name. */
async function onEveryBackend<T>(compute: () => T | Promise<T>): Promise<Record<BackendChoice, T>> {
  const results: Partial<Record<BackendChoice, T>> = {};
  for (const backend of BACKEND_CHOICES) {
    await activateBackend(backend);
    results[backend] = await compute();
  }
  return results as Record<BackendChoice, T>;
}

let original: BackendChoice;

beforeAll(async () => {
  original = (await initBackend()).name as BackendChoice;
});

afterAll(async () => {
  await activateBackend(original);
});

describe('LIF spike surrogate gradient, on every backend', () => {
  for (const backend of BACKEND_CHOICES) {
    it(`${backend}: forward is the Heaviside step at the threshold, backward the ATan surrogate`, async () => {
      await activateBackend(backend);
      const out = tf.tidy(() => spikeOf(tf.tensor1d(VS)).dataSync());
      expect(Array.from(out)).toEqual(VS.map((v) => (v >= LIF_THRESHOLD ? 1 : 0)));
      const h = 1e-5;
      const dy = VS.map((_, i) => i + 1);
      const grads = tf.tidy(() =>
        tf
          .grad((v: tf.Tensor) => tf.sum(tf.mul(spikeOf(v), tf.tensor1d(dy))))(tf.tensor1d(VS))
          .dataSync(),
      );
      VS.forEach((v, i) => {
        const fd = (smoothSpike(v + h) - smoothSpike(v - h)) / (2 * h);
        expect(grads[i]).toBeCloseTo((i + 1) * fd, 4);
        expect(grads[i]).toBeCloseTo((i + 1) * atanSurrogateGrad(v), 5);
      });
    });
  }
});

describe('a LIF layer over T timesteps, on every backend', () => {
  const steps = 4;
  const batch = 3;
  const neurons = 7;
  // Inputs around the threshold, so that neurons fire, reset and fire again.
  const x = randomArray(21, steps * batch * neurons, 2.5);
  const r = randomArray(22, steps * batch * neurons);

  /** Spikes and the gradient of sum(spikes * r) by x, of one way to run the layer over all steps. */
  function lifResults(run: (lif: LifNeuron, input: tf.Tensor) => tf.Tensor): Float32Array[] {
    return tf.tidy(() => {
      const lif = new LifNeuron('layer', [neurons]);
      const input = tf.tensor2d(x, [steps * batch, neurons]);
      const weights = tf.tensor2d(r, [steps * batch, neurons]);
      const spikes = run(lif, input).dataSync() as Float32Array;
      const grad = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(run(lif, a), weights)))(input);
      return [spikes, grad.dataSync() as Float32Array];
    });
  }
  const perStep = (method: 'step' | 'advance') => (lif: LifNeuron, input: tf.Tensor) => {
    const out = tf.concat(tf.split(input, steps).map((xt) => lif[method](xt)));
    lif.reset();
    return out;
  };

  for (const backend of BACKEND_CHOICES) {
    it(`${backend}: multiStep and advance give step()'s spikes and gradients`, async () => {
      await activateBackend(backend);
      // The fused op is what the tensorflow backend runs here; scripts/tensorflow.sh builds it.
      expect(nativeOpsAvailable()).toBe(backend === 'tensorflow');
      const reference = lifResults(perStep('step'));
      expect(reference[0]?.some((v) => v === 1)).toBe(true);
      for (const results of [
        lifResults((lif, input) => lif.multiStep(input, steps)),
        lifResults(perStep('advance')),
      ]) {
        expect(Array.from(results[0] as Float32Array)).toEqual(Array.from(reference[0] as Float32Array));
        expect(maxRelativeError(results[1] as Float32Array, reference[1] as Float32Array)).toBeLessThan(1e-6);
      }
    });
  }
});

describe("SAHD's spike Gram matrix, on every backend", () => {
  // N not a multiple of 64, and rows from silent to always firing, so every word and edge case counts.
  const batch = 37;
  const neurons = 203;
  const rates = Array.from({ length: batch }, (_, i) => i / (batch - 1));
  const noise = randomArray(31, batch * neurons);
  const spikes = Float32Array.from(noise, (v, k) =>
    (v + 1) / 2 < (rates[Math.floor(k / neurons)] as number) ? 1 : 0,
  );

  for (const backend of BACKEND_CHOICES) {
    it(`${backend}: the bit-counted x xᵀ (native) equals the float32 GEMM exactly`, async () => {
      await activateBackend(backend);
      const [gemm, gram] = tf.tidy(() => {
        const x = tf.tensor2d(spikes, [batch, neurons]);
        const product = tf.matMul(x, x, false, true).dataSync() as Float32Array;
        return [product, nativeOpsAvailable() ? (spikeGram(x).dataSync() as Float32Array) : product];
      });
      expect(nativeOpsAvailable()).toBe(backend === 'tensorflow');
      expect(Array.from(gram)).toEqual(Array.from(gemm));
      // Silent rows meet nothing; an always-firing row meets each row in all of its spikes.
      expect(gram[0]).toBe(0);
      expect(gram[(batch - 1) * batch + (batch - 1)]).toBe(neurons);
    });
  }
});

describe('the momentum-SGD update, on every backend', () => {
  // Variables of several shapes, one left without a gradient (it only decays), momentum buffers already
  // moving, and three steps so that each reads the buffers the last one wrote.
  const shapes = [[3, 3, 4, 5], [5], [7, 11], [1]];
  const sgd = { lr: 0.0731, momentum: 0.9, weightDecay: 5e-4 };

  function run(update: typeof applySgd): Float32Array[] {
    return tf.tidy(() => {
      const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
      const variables = shapes.map((shape, i) =>
        tf.variable(tf.tensor(randomArray(40 + i, size(shape)), shape)),
      );
      const buffers = shapes.map((shape, i) =>
        tf.variable(tf.tensor(randomArray(50 + i, size(shape), 0.1), shape), false),
      );
      for (let step = 0; step < 3; step++) {
        const grads: tf.NamedTensorMap = {};
        variables.slice(0, -1).forEach((v, i) => {
          grads[v.name] = tf.tensor(randomArray(60 + 10 * step + i, v.size, 0.5), v.shape);
        });
        update(variables, buffers, grads, { ...sgd, lr: sgd.lr / (step + 1) });
      }
      const out = [...variables, ...buffers].map((t) => t.dataSync() as Float32Array);
      tf.dispose([...variables, ...buffers]);
      return out;
    });
  }

  for (const backend of BACKEND_CHOICES) {
    it(`${backend}: the update training applies (one native kernel on tensorflow) equals the composite exactly`, async () => {
      await activateBackend(backend);
      expect(nativeOpsAvailable()).toBe(backend === 'tensorflow');
      const reference = run(sgdUpdate);
      const applied = run(applySgd);
      expect(applied).toHaveLength(2 * shapes.length);
      applied.forEach((values, k) => {
        expect(Array.from(values)).toEqual(Array.from(reference[k] as Float32Array));
      });
      // The variable without a gradient still decayed.
      expect(reference[shapes.length - 1]?.[0]).not.toBe(randomArray(40 + shapes.length - 1, 1)[0]);
    });
  }
});

interface ConvCase {
  name: string;
  xShape: [number, number, number, number];
  wShape: [number, number, number, number];
  stride: number;
  /** Zero padding on every side before a 'valid' conv (the stem at stride 2), or 'same'. */
  pad: 'same' | 1;
}

// The convolutions the network runs: 'same' at stride 1 (cell and down convs, the stem at stride 1) and
// explicit padding 1 then 'valid' at stride 2 (the stem).
const CONV_CASES: ConvCase[] = [
  { name: '3x3 same', xShape: [3, 9, 7, 4], wShape: [3, 3, 4, 5], stride: 1, pad: 'same' },
  { name: '1x1 same', xShape: [2, 6, 6, 3], wShape: [1, 1, 3, 6], stride: 1, pad: 'same' },
  { name: '3x3 stride 2 pad 1, even input', xShape: [2, 28, 28, 1], wShape: [3, 3, 1, 4], stride: 2, pad: 1 },
  { name: '3x3 stride 2 pad 1, odd input', xShape: [2, 9, 11, 2], wShape: [3, 3, 2, 3], stride: 2, pad: 1 },
];

function conv(x: tf.Tensor4D, w: tf.Tensor4D, c: ConvCase): tf.Tensor4D {
  if (c.pad === 'same') return tf.conv2d(x, w, c.stride, 'same');
  const padded = tf.pad(x, [
    [0, 0],
    [1, 1],
    [1, 1],
    [0, 0],
  ]);
  return tf.conv2d(padded, w, c.stride, 'valid');
}

/** conv2d(x, w) and the gradients of sum(conv2d(x, w) * r) with respect to x and w. */
function convResults(c: ConvCase): Float32Array[] {
  return tf.tidy(() => {
    const size = (shape: number[]) => shape.reduce((a, b) => a * b);
    const x = tf.tensor4d(randomArray(1, size(c.xShape)), c.xShape);
    const w = tf.tensor4d(randomArray(2, size(c.wShape)), c.wShape);
    const y = conv(x, w, c);
    const r = tf.tensor(randomArray(3, y.size), y.shape);
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(conv(a as tf.Tensor4D, b as tf.Tensor4D, c), r)),
    )([x, w]);
    return [y.dataSync(), dx?.dataSync(), dw?.dataSync()] as Float32Array[];
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
      return tf.sum(tf.mul(y, tf.tensor(randomArray(5, y.size), y.shape)));
    };
    return tf.grad(f)(x).dataSync() as Float32Array;
  });
}

describe('convolutions and pooling agree with the cpu backend', () => {
  for (const c of CONV_CASES) {
    it(`conv2d ${c.name}: output, input gradient, filter gradient`, async () => {
      const results = await onEveryBackend(() => convResults(c));
      for (const backend of ['tensorflow', 'wasm'] as const) {
        results[backend].forEach((values, k) => {
          expect(maxRelativeError(values, results.cpu[k] as Float32Array)).toBeLessThan(1e-5);
        });
      }
    });
  }

  for (const kind of ['pool2', 'pool3pad'] as const) {
    it(`avgPool ${kind} gradient`, async () => {
      const results = await onEveryBackend(() => poolGrad(kind));
      expect(maxRelativeError(results.tensorflow, results.cpu)).toBeLessThan(1e-5);
      expect(maxRelativeError(results.wasm, results.cpu)).toBeLessThan(1e-5);
    });
  }
});

// Stride 2 stem, both cells with every operation (skip, conv1x1, conv3x3, avgpool) and feedback.
const CONFIG: NetConfig = {
  inputShape: [10, 10, 2],
  numClasses: 3,
  stemChannels: 4,
  stemStride: 2,
  secondPool: 1,
  classifierHidden: 12,
  populationSize: 2,
  timesteps: 3,
  cellType: 'backward',
};
const BATCH = 5;
const ARCH = pruneArch(parseArch('0302 0040 1003 0200')) as Arch;

interface NetworkResults {
  logits: Float32Array;
  loss: number;
  grads: Float32Array[];
  /** The same gradients with every timestep recomputed in the backward pass (checkpointed BPTT). */
  recomputedGrads: Float32Array[];
  runningStats: Float32Array[];
  sahd: number;
}

/** Inference logits; a training step's loss, gradients and updated BatchNorm statistics; SAHD. */
async function networkResults(): Promise<NetworkResults> {
  const net = buildNetwork(ARCH, CONFIG, 11);
  const images = randomArray(6, BATCH * 10 * 10 * 2, 3);
  try {
    const x = tf.tensor4d(images, [BATCH, 10, 10, 2]);
    const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1], 'int32'), CONFIG.numClasses);
    const logits = tf.tidy(() => net.forward(x, { training: false }).dataSync() as Float32Array);
    const gradients = (recompute: boolean) => {
      const { value, grads } = tf.variableGrads(() => {
        const out = net.forward(x, { training: true, updateStats: false, dropoutSeed: 3, recompute });
        return tf.neg(tf.mean(tf.sum(tf.mul(labels, tf.logSoftmax(out)), 1))) as tf.Scalar;
      }, net.trainableVariables());
      const values = net.trainableVariables().map((v) => grads[v.name]?.dataSync() as Float32Array);
      const loss = value.dataSync()[0] as number;
      tf.dispose([value, ...Object.values(grads)]);
      return { loss, values };
    };
    const recomputedGrads = gradients(true).values;
    const { loss, values: gradValues } = gradients(false);
    // One more training-mode pass that updates the running statistics.
    tf.tidy(() => net.forward(x, { training: true, dropoutSeed: 3 }));
    tf.dispose([x, labels]);
    const weights = net.getWeights();
    const runningStats = Object.keys(weights)
      .filter((name) => name.endsWith('.running_mean') || name.endsWith('.running_var'))
      .map((name) => weights[name]?.dataSync() as Float32Array);
    const sahd = await scoreSahd(ARCH, CONFIG, [images], BATCH, 11);
    return { logits, loss, grads: gradValues, recomputedGrads, runningStats, sahd };
  } finally {
    net.dispose();
  }
}

describe('the SNASNet network agrees with the cpu backend', () => {
  let results: Record<BackendChoice, NetworkResults>;

  beforeAll(async () => {
    results = await onEveryBackend(networkResults);
  });

  it('covers every operation, feedback, and gives every parameter a gradient', () => {
    expect(ARCH.flat().sort()).toEqual(expect.arrayContaining([1, 2, 3, 4]));
    const cpu = results.cpu;
    expect(cpu.grads.every((g) => g !== undefined)).toBe(true);
    // A BatchNorm whose output another BatchNorm normalises again gets exactly zero: allow a few.
    expect(cpu.grads.filter((g) => g.some((v) => v !== 0)).length).toBeGreaterThan(cpu.grads.length - 4);
    expect(Number.isFinite(cpu.sahd)).toBe(true);
  });

  for (const backend of BACKEND_CHOICES) {
    it(`${backend}: BPTT that recomputes every timestep gives the gradients of BPTT that keeps them`, () => {
      const { grads, recomputedGrads } = results[backend];
      expect(recomputedGrads).toHaveLength(grads.length);
      recomputedGrads.forEach((g, k) => {
        expect(maxRelativeError(g, grads[k] as Float32Array)).toBeLessThan(1e-5);
      });
    });
  }

  for (const backend of ['tensorflow', 'wasm'] as const) {
    it(`${backend}: inference logits, loss, every gradient, running statistics and SAHD`, () => {
      const mine = results[backend];
      const cpu = results.cpu;
      expect(maxRelativeError(mine.logits, cpu.logits)).toBeLessThan(1e-5);
      expect(mine.loss).toBeCloseTo(cpu.loss, 5);
      expect(mine.grads).toHaveLength(cpu.grads.length);
      mine.grads.forEach((g, k) => {
        expect(maxRelativeError(g, cpu.grads[k] as Float32Array)).toBeLessThan(1e-4);
      });
      mine.runningStats.forEach((s, k) => {
        // Running means near 0 (1e-9) are compared absolutely.
        expect(maxRelativeError(s, cpu.runningStats[k] as Float32Array, 1)).toBeLessThan(1e-5);
      });
      expect(mine.sahd).toBeCloseTo(cpu.sahd, 4);
    });
  }
});

// Time-batched execution (the default) against the per-timestep reference path, on every backend: a
// forward cell runs every layer once on the [T*B] stack; SNASNet's published backward cell steps through
// time inside the cell (its feedback needs step t-1) while the stem, the down block and the head batch.
const PATH_CASES: { arch: string; cellType: 'forward' | 'backward' }[] = [
  { arch: '0302 0023 0002 0000', cellType: 'forward' },
  { arch: '0303 0030 2002 0200', cellType: 'backward' },
];

interface PathResults {
  logits: Float32Array;
  loss: number;
  grads: Float32Array[];
  runningStats: Float32Array[];
  sahd: number;
  /** Per LIF layer name: the calls the observer saw and their spikes in total. */
  observed: Map<string, { calls: number; spikes: number }>;
}

/** Inference logits, a training step's loss and gradients, running statistics after it, SAHD. */
function pathResults(arch: Arch, config: NetConfig, stepByStep: boolean): PathResults {
  const net = buildNetwork(arch, config, 11);
  const images = randomArray(6, BATCH * 10 * 10 * 2, 3);
  try {
    const x = tf.tensor4d(images, [BATCH, 10, 10, 2]);
    const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1], 'int32'), config.numClasses);
    const logits = tf.tidy(() => net.forward(x, { training: false, stepByStep }).dataSync() as Float32Array);
    const { value, grads } = tf.variableGrads(() => {
      const out = net.forward(x, { training: true, updateStats: false, dropoutSeed: 3, stepByStep });
      return tf.neg(tf.mean(tf.sum(tf.mul(labels, tf.logSoftmax(out)), 1))) as tf.Scalar;
    }, net.trainableVariables());
    const gradValues = net.trainableVariables().map((v) => grads[v.name]?.dataSync() as Float32Array);
    const loss = value.dataSync()[0] as number;
    tf.dispose([value, ...Object.values(grads)]);
    tf.tidy(() => net.forward(x, { training: true, dropoutSeed: 3, stepByStep }));
    const weights = net.getWeights();
    const runningStats = Object.keys(weights)
      .filter((name) => name.endsWith('.running_mean') || name.endsWith('.running_var'))
      .map((name) => weights[name]?.dataSync() as Float32Array);
    const observed = new Map<string, { calls: number; spikes: number }>();
    tf.tidy(() =>
      net.forward(x, {
        training: true,
        updateStats: false,
        dropoutSeed: 3,
        stepByStep,
        observe: (layer, spikes) => {
          const seen = observed.get(layer) ?? { calls: 0, spikes: 0 };
          observed.set(layer, {
            calls: seen.calls + 1,
            spikes: seen.spikes + (tf.sum(spikes).dataSync()[0] as number),
          });
        },
      }),
    );
    tf.dispose([x, labels]);
    // sahdSumsOf runs the network as scoring does; this view of it picks the path.
    const onPath = {
      config: net.config,
      forward: (images: tf.Tensor4D, options: ForwardOptions) =>
        net.forward(images, { ...options, stepByStep }),
    } as SpikingNetwork;
    const sahd = sahdFromSums(sahdSumsOf(onPath, images, BATCH, 5));
    return { logits, loss, grads: gradValues, runningStats, sahd, observed };
  } finally {
    net.dispose();
  }
}

describe('time-batched execution equals the per-timestep path, on every backend', () => {
  for (const c of PATH_CASES) {
    const arch = pruneArch(parseArch(c.arch, c.cellType)) as Arch;
    const config: NetConfig = { ...CONFIG, cellType: c.cellType };
    let results: Record<BackendChoice, { step: PathResults; batched: PathResults }>;

    beforeAll(async () => {
      results = await onEveryBackend(() => ({
        step: pathResults(arch, config, true),
        batched: pathResults(arch, config, false),
      }));
    });

    for (const backend of BACKEND_CHOICES) {
      it(`${backend}, ${c.cellType} cell ${c.arch}: logits, loss, every gradient, running statistics, SAHD`, () => {
        const { step, batched } = results[backend];
        expect(maxRelativeError(batched.logits, step.logits)).toBeLessThan(1e-5);
        expect(Math.abs(batched.loss - step.loss)).toBeLessThan(1e-5 * Math.max(1, Math.abs(step.loss)));
        // Relative to the network's largest gradient: a BatchNorm whose output another BatchNorm
        // normalises again has a gradient of exactly zero in theory and rounding noise in practice.
        const scale = Math.max(...step.grads.map((g) => Math.max(...Array.from(g, Math.abs))));
        expect(scale).toBeGreaterThan(0);
        expect(batched.grads).toHaveLength(step.grads.length);
        batched.grads.forEach((g, k) => {
          expect(maxRelativeError(g, step.grads[k] as Float32Array, scale)).toBeLessThan(1e-5);
        });
        expect(batched.runningStats).toHaveLength(step.runningStats.length);
        batched.runningStats.forEach((s, k) => {
          // Running means near 0 (1e-9) are compared absolutely.
          expect(maxRelativeError(s, step.runningStats[k] as Float32Array, 1)).toBeLessThan(1e-5);
        });
        expect(Math.abs(batched.sahd - step.sahd)).toBeLessThan(1e-5 * Math.abs(step.sahd));
        // Every LIF layer is observed as often, with the same spikes, as on the per-timestep path.
        expect(new Map([...batched.observed].sort())).toEqual(new Map([...step.observed].sort()));
        expect([...step.observed.values()].every((o) => o.calls === config.timesteps)).toBe(true);
      });
    }
  }
});
