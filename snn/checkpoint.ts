/**
 * Gradient checkpointing (as torch.utils.checkpoint): one differentiable op that runs `fn` without
 * keeping its intermediates, saves only its inputs, and runs `fn` again in the backward pass to
 * differentiate it. tfjs keeps every taped intermediate and the gradient of every one of them until a
 * whole backward pass ends; around a network's timestep, this bounds what BPTT holds to the tensors
 * carried between steps plus one step's tape.
 */
import * as tf from '@tensorflow/tfjs-core';

/**
 * The engine internals this needs, which tfjs' typings mark private: the call tf.customGrad is built on,
 * which (unlike customGrad) takes an op with several outputs, and the tape of the backward pass in
 * progress, which a nested gradient computation replaces and the outer pass still has to clean up.
 */
interface EngineInternals {
  state: { activeTape: unknown };
  runKernelFunc(invocation: {
    forwardFunc: (backend: unknown, save: (tensors: tf.Tensor[]) => void) => tf.Tensor[];
    backwardsFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => Record<string, () => tf.Tensor>;
    inputs: tf.NamedTensorMap;
  }): tf.Tensor[];
}

/**
 * `fn(inputs, constants, recompute)` returns the op's outputs. It reads `params` (variables) directly and
 * takes `constants` (kept for the recomputation, not differentiated); it is called once forward
 * (recompute false) and once in the backward pass (recompute true, with copies of the inputs it may
 * dispose). `release` runs after the backward pass has used the recomputed outputs.
 */
export function checkpoint(
  inputs: tf.Tensor[],
  constants: tf.Tensor[],
  fn: (inputs: tf.Tensor[], constants: tf.Tensor[], recompute: boolean) => tf.Tensor[],
  params: tf.Variable[],
  release: () => void,
): tf.Tensor[] {
  const all: tf.NamedTensorMap = {};
  [...inputs, ...params].forEach((t, i) => {
    all[i] = t;
  });
  const engine = tf.engine() as unknown as EngineInternals;
  return engine.runKernelFunc({
    forwardFunc: (_backend, save) => {
      save([...inputs, ...constants]);
      return fn(inputs, constants, false);
    },
    backwardsFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const dys = Array.isArray(dy) ? dy : [dy];
      const xs = saved.slice(0, inputs.length).map((t) => tf.clone(t));
      const kept = saved.slice(inputs.length);
      const outerTape = engine.state.activeTape;
      let grads: (tf.Tensor | null)[];
      try {
        grads = tf.engine().gradients(
          () => {
            const outputs = fn(xs, kept, true);
            return tf.addN(outputs.map((out, k) => tf.sum(tf.mul(out, dys[k] as tf.Tensor)))) as tf.Scalar;
          },
          [...xs, ...params],
          undefined,
          true,
        ).grads;
      } finally {
        engine.state.activeTape = outerTape;
        release();
      }
      const named: Record<string, () => tf.Tensor> = {};
      [...xs, ...params].forEach((x, i) => {
        const grad = grads[i];
        named[i] = () => grad ?? tf.zerosLike(x);
      });
      return named;
    },
    inputs: all,
  });
}
