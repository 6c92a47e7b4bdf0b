/**
 * Training-mode BatchNorm as TensorFlow's own fused kernels on the tensorflow backend (tfjs-node):
 * FusedBatchNormV3 computes the batch statistics, the normalised output and the running statistics'
 * update in one op, and FusedBatchNormGradV3 the whole gradient in one more. Composed from tfjs ops the
 * same layer takes about twenty kernels each way, and on small feature maps the tensorflow backend's cost
 * is per kernel. tfjs exposes only the inference form of the op, so this calls it through the binding.
 */
import * as tf from '@tensorflow/tfjs-core';

interface OpAttr {
  name: string;
  type: number;
  value: number | string | boolean;
}

/** The part of tfjs-node's NodeJSKernelBackend this uses. */
interface TensorflowBackend {
  binding: {
    TF_ATTR_BOOL: number;
    TF_ATTR_FLOAT: number;
    TF_ATTR_STRING: number;
    TF_ATTR_TYPE: number;
    TF_FLOAT: number;
  };
  executeMultipleOutputs(name: string, attrs: OpAttr[], inputs: tf.Tensor[], outputs: number): tf.Tensor[];
}

/** Running statistics and the PyTorch-style momentum of their update. */
export interface RunningStats {
  mean: tf.Variable;
  variance: tf.Variable;
  momentum: number;
  /** Assign the updated statistics (false: leave them, as scoring at initialisation does). */
  update: boolean;
}

export function fusedBatchNormAvailable(): boolean {
  return tf.getBackend() === 'tensorflow';
}

function attrs(backend: TensorflowBackend, epsilon: number, extra: OpAttr[]): OpAttr[] {
  const { binding } = backend;
  return [
    { name: 'T', type: binding.TF_ATTR_TYPE, value: binding.TF_FLOAT },
    { name: 'U', type: binding.TF_ATTR_TYPE, value: binding.TF_FLOAT },
    { name: 'epsilon', type: binding.TF_ATTR_FLOAT, value: epsilon },
    { name: 'data_format', type: binding.TF_ATTR_STRING, value: 'NHWC' },
    { name: 'is_training', type: binding.TF_ATTR_BOOL, value: true },
    ...extra,
  ];
}

/**
 * Batch-statistics BatchNorm of NHWC `x` with its exact gradient for x, gamma and beta. `x` holds
 * `steps` timesteps stacked t-major ([T*B, H, W, C]), each normalised with its own statistics: one
 * FusedBatchNormV3 per timestep, whose running statistics feed the next one's, so they take T
 * successive updates as T separate calls would. The running statistics follow PyTorch:
 * new = (1 - momentum) old + momentum batch, with the unbiased batch variance (TensorFlow's
 * exponential_avg_factor is PyTorch's momentum).
 */
export function fusedBatchNormTraining(
  x: tf.Tensor4D,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon: number,
  steps: number,
  running: RunningStats,
): tf.Tensor4D {
  const backend = tf.backend() as unknown as TensorflowBackend;
  const forward = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, g, b, save] = args as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    const factor = {
      name: 'exponential_avg_factor',
      type: backend.binding.TF_ATTR_FLOAT,
      value: running.momentum,
    };
    const inputs = steps === 1 ? [input] : tf.split(input, steps);
    let mean: tf.Tensor = running.mean;
    let variance: tf.Tensor = running.variance;
    const ys: tf.Tensor[] = [];
    // Per timestep: its input and the three reserve spaces FusedBatchNormGradV3 reads.
    const kept: tf.Tensor[] = [];
    for (const step of inputs) {
      const [y, newMean, newVariance, reserve1, reserve2, reserve3] = backend.executeMultipleOutputs(
        'FusedBatchNormV3',
        attrs(backend, epsilon, [factor]),
        [step, g, b, mean, variance],
        6,
      ) as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor, tf.Tensor, tf.Tensor];
      ys.push(y);
      kept.push(step, reserve1, reserve2, reserve3);
      mean = newMean;
      variance = newVariance;
    }
    if (running.update) {
      running.mean.assign(mean);
      running.variance.assign(variance);
    }
    save([g, ...kept]);
    return {
      value: steps === 1 ? (ys[0] as tf.Tensor4D) : tf.concat(ys),
      gradFunc: (dy, saved) => {
        const [sg, ...perStep] = saved as tf.Tensor[];
        const dys = steps === 1 ? [dy as tf.Tensor] : tf.split(dy as tf.Tensor, steps);
        const dx: tf.Tensor[] = [];
        const dGamma: tf.Tensor[] = [];
        const dBeta: tf.Tensor[] = [];
        dys.forEach((stepDy, t) => {
          const [stepDx, stepDGamma, stepDBeta] = backend.executeMultipleOutputs(
            'FusedBatchNormGradV3',
            attrs(backend, epsilon, []),
            [stepDy, perStep[4 * t] as tf.Tensor, sg as tf.Tensor, ...perStep.slice(4 * t + 1, 4 * t + 4)],
            5,
          );
          dx.push(stepDx as tf.Tensor);
          dGamma.push(stepDGamma as tf.Tensor);
          dBeta.push(stepDBeta as tf.Tensor);
        });
        if (steps === 1) return [dx[0], dGamma[0], dBeta[0]] as tf.Tensor[];
        return [tf.concat(dx), tf.addN(dGamma), tf.addN(dBeta)];
      },
    };
  });
  return forward(x, gamma, beta) as tf.Tensor4D;
}
