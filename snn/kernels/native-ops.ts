/**
 * spikenas' native ops (native-ops.c) on the tensorflow backend, one TensorFlow kernel each way where
 * the composite form takes a few per timestep, and the per-kernel cost is what small networks pay:
 * - the fused LIF: a LIF layer's whole scan over T timesteps, or one timestep with its carried
 *   potential; the same float operations in the same order as the composite scan in snn/lif.ts;
 * - BatchNorm of a time-batched stack with per-timestep statistics (TensorFlow's fused BatchNorm takes
 *   one call per timestep plus a split and a concat each way);
 * - the Gram matrix of a batch's spikes, x xᵀ, by bit counting (SAHD's dot products, for 1/64 of a GEMM's
 *   operations);
 * - the momentum-SGD update of every trainable variable at once (six kernels per variable composite).
 * scripts/tensorflow.sh builds them beside tfjs-node's addon; without them (or on wasm, cpu and the GPU
 * package) the composite forms run.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { backendInfo } from '../backend.js';

/** The LIF constants the op takes as attributes (as float32, as the composite ops' scalars are). */
export interface LifConstants {
  decay: number;
  scale: number;
  threshold: number;
  /** Surrogate: (half_slope) / (1 + (zscale (v - threshold))^2). */
  zscale: number;
  halfSlope: number;
}

interface OpAttr {
  name: string;
  type: number;
  value: number;
}

/** The part of tfjs-node's NodeJSKernelBackend this uses. */
interface TensorflowBackend {
  binding: { TF_ATTR_INT: number; TF_ATTR_FLOAT: number };
  executeMultipleOutputs(name: string, attrs: OpAttr[], inputs: tf.Tensor[], outputs: number): tf.Tensor[];
}

/** tf.customGrad takes one output; this engine call (tfjs marks it private) takes several. */
interface EngineInternals {
  runKernelFunc(invocation: {
    forwardFunc: (backend: unknown, save: (tensors: tf.Tensor[]) => void) => tf.Tensor[];
    backwardsFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => Record<string, () => tf.Tensor>;
    inputs: tf.NamedTensorMap;
  }): tf.Tensor[];
}

/** Running statistics and the PyTorch-style momentum of their update. */
export interface RunningStats {
  mean: tf.Variable;
  variance: tf.Variable;
  momentum: number;
  /** Assign the updated statistics (false: leave them, as scoring at initialisation does). */
  update: boolean;
}

const require = createRequire(import.meta.url);
const PACKAGE = '@tensorflow/tfjs-node';
let loaded: boolean | undefined;

/** Native kernels run so far in this process: tf.profile lists these ops under no kernel name of tfjs. */
let nativeKernels = 0;

/** How many native kernels this process has run (the bench adds them to tfjs' kernel count). */
export function nativeKernelsRun(): number {
  return nativeKernels;
}

function runNative(
  backend: TensorflowBackend,
  name: string,
  attrs: OpAttr[],
  inputs: tf.Tensor[],
  outputs: number,
): tf.Tensor[] {
  nativeKernels++;
  return backend.executeMultipleOutputs(name, attrs, inputs, outputs);
}

/** Whether the native ops run here: the tensorflow backend of tfjs-node (CPU) with the ops built. */
export function nativeOpsAvailable(): boolean {
  if (tf.getBackend() !== 'tensorflow' || !nonGpuPackage()) return false;
  loaded ??= load();
  return loaded;
}

/** tfjs-node-gpu registers the same backend name; initBackend records which package loaded. */
function nonGpuPackage(): boolean {
  try {
    return backendInfo().package === PACKAGE;
  } catch {
    return false; // tensorflow set up without initBackend: the composite ops
  }
}

/** Loading the module registers the ops with TensorFlow (it is an N-API module for that reason). */
function load(): boolean {
  const file = path.join(
    path.dirname(require.resolve(`${PACKAGE}/package.json`)),
    'lib',
    'spikenas-ops.node',
  );
  if (!existsSync(file)) return false;
  try {
    process.dlopen({ exports: {} }, file);
    return true;
  } catch (error) {
    process.stderr.write(
      `spikenas: ${file} did not load, composite ops instead: ${(error as Error).message}\n`,
    );
    return false;
  }
}

function attrs(backend: TensorflowBackend, steps: number, c: LifConstants): OpAttr[] {
  const { TF_ATTR_INT: int, TF_ATTR_FLOAT: float } = backend.binding;
  return [
    { name: 'steps', type: int, value: steps },
    { name: 'decay', type: float, value: c.decay },
    { name: 'scale', type: float, value: c.scale },
    { name: 'threshold', type: float, value: c.threshold },
    { name: 'zscale', type: float, value: c.zscale },
    { name: 'half_slope', type: float, value: c.halfSlope },
  ];
}

/**
 * LIF over `steps` timesteps of x (stacked t-major [T*B, ...]) from potential v (per neuron [B, ...];
 * null: at rest). Returns the spikes [T*B, ...] and the potential after the last step [B, ...], both
 * differentiable (surrogate gradient, detached reset).
 */
export function fusedLif(
  x: tf.Tensor,
  v: tf.Tensor | null,
  steps: number,
  constants: LifConstants,
): { spikes: tf.Tensor; v: tf.Tensor } {
  const backend = tf.backend() as unknown as TensorflowBackend;
  const opAttrs = attrs(backend, steps, constants);
  const inputs: tf.NamedTensorMap = v === null ? { x } : { x, v };
  const [spikes, last] = (tf.engine() as unknown as EngineInternals).runKernelFunc({
    forwardFunc: (_backend, save) => {
      const rest = v ?? tf.scalar(0);
      const [s, charged, vLast] = runNative(backend, 'SpikenasLif', opAttrs, [x, rest], 3);
      save([charged as tf.Tensor, s as tf.Tensor]);
      return [s as tf.Tensor, vLast as tf.Tensor];
    },
    backwardsFunc: (dy, saved) => {
      const [dSpikes, dLast] = dy as tf.Tensor[];
      const [dx, dv] = runNative(
        backend,
        'SpikenasLifGrad',
        opAttrs,
        [dSpikes as tf.Tensor, dLast as tf.Tensor, ...saved],
        2,
      );
      const grads: Record<string, () => tf.Tensor> = { x: () => dx as tf.Tensor };
      if (v !== null) grads.v = () => dv as tf.Tensor;
      return grads;
    },
    inputs,
  });
  return { spikes: spikes as tf.Tensor, v: last as tf.Tensor };
}

/**
 * Batch-statistics BatchNorm of `steps` timesteps stacked t-major ([T*B, H, W, C]), each with its own
 * statistics over B, H and W, with its exact gradient for x, gamma and beta; the running statistics
 * take the T momentum updates in order (PyTorch's, unbiased variance).
 */
export function batchNormSteps(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon: number,
  steps: number,
  running: RunningStats,
): tf.Tensor4D {
  const backend = tf.backend() as unknown as TensorflowBackend;
  const { TF_ATTR_INT: int, TF_ATTR_FLOAT: float } = backend.binding;
  const opAttrs = [
    { name: 'steps', type: int, value: steps },
    { name: 'epsilon', type: float, value: epsilon },
    { name: 'momentum', type: float, value: running.momentum },
  ];
  const forward = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, g, b, save] = args as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    const [y, mean, variance, batchMean, batchInvStd] = runNative(
      backend,
      'SpikenasBatchNorm',
      opAttrs,
      [input, g, b, running.mean, running.variance],
      5,
    ) as tf.Tensor[];
    if (running.update) {
      running.mean.assign(mean as tf.Tensor);
      running.variance.assign(variance as tf.Tensor);
    }
    save([input, g, batchMean as tf.Tensor, batchInvStd as tf.Tensor]);
    return {
      value: y as tf.Tensor4D,
      gradFunc: (dy, saved) =>
        runNative(backend, 'SpikenasBatchNormGrad', opAttrs, [dy as tf.Tensor, ...saved], 3),
    };
  });
  return forward(x, gamma, beta) as tf.Tensor4D;
}

/**
 * x xᵀ of a [B, N] matrix of spikes (0 or 1; any nonzero value counts as 1): the same integers as
 * tf.matMul(x, x, false, true), counted on packed bits. No gradient: SAHD scores without one.
 */
export function spikeGram(x: tf.Tensor2D): tf.Tensor2D {
  const backend = tf.backend() as unknown as TensorflowBackend;
  return runNative(backend, 'SpikenasSpikeGram', [], [x], 1)[0] as tf.Tensor2D;
}

/** The SGD settings the fused update takes: PyTorch's momentum and weight decay, this step's rate. */
export interface MomentumSgdSettings {
  lr: number;
  momentum: number;
  weightDecay: number;
}

/**
 * PyTorch's momentum-SGD step on every variable in one kernel: per element g = grad + w decay,
 * b' = b momentum + g, w' = w - b' lr, in float32 in that order, as the composite update in
 * snn/train.ts. Returns the new variables and the new buffers, in the order given.
 */
export function momentumSgd(
  variables: tf.Tensor[],
  buffers: tf.Tensor[],
  grads: tf.Tensor[],
  sgd: MomentumSgdSettings,
): { variables: tf.Tensor[]; buffers: tf.Tensor[] } {
  const backend = tf.backend() as unknown as TensorflowBackend;
  const { TF_ATTR_INT: int, TF_ATTR_FLOAT: float } = backend.binding;
  const n = variables.length;
  const lr = tf.scalar(sgd.lr);
  const outputs = runNative(
    backend,
    'SpikenasMomentumSgd',
    [
      { name: 'N', type: int, value: n },
      { name: 'momentum', type: float, value: sgd.momentum },
      { name: 'weight_decay', type: float, value: sgd.weightDecay },
    ],
    [...variables, ...buffers, ...grads, lr],
    2 * n,
  );
  lr.dispose();
  return { variables: outputs.slice(0, n), buffers: outputs.slice(n) };
}
