import * as tf from '@tensorflow/tfjs-core';

/** spikingjelly LIFNode defaults used by SNASNet (see the method doc). */
export const LIF_TAU = 4 / 3;
export const LIF_THRESHOLD = 1.0;
/** ATan surrogate sharpness. */
export const SURROGATE_ALPHA = 2;

/** d spike / d v of the ATan surrogate: (alpha/2) / (1 + (pi/2 * alpha * (v - threshold))^2). */
export function atanSurrogateGrad(v: number, threshold = LIF_THRESHOLD, alpha = SURROGATE_ALPHA): number {
  const z = (Math.PI / 2) * alpha * (v - threshold);
  return alpha / 2 / (1 + z * z);
}

/**
 * v' = (1 - 1/tau) v + x / tau as one differentiable op whose gradient needs nothing saved (it is linear):
 * BPTT keeps no copy of v or x for it.
 */
const charge: (v: tf.Tensor, x: tf.Tensor) => tf.Tensor = tf.customGrad(
  (...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [v, x] = args as [tf.Tensor, tf.Tensor];
    return {
      value: tf.add(tf.mul(v, 1 - 1 / LIF_TAU), tf.mul(x, 1 / LIF_TAU)),
      gradFunc: (dy) => [tf.mul(dy as tf.Tensor, 1 - 1 / LIF_TAU), tf.mul(dy as tf.Tensor, 1 / LIF_TAU)],
    };
  },
) as (v: tf.Tensor, x: tf.Tensor) => tf.Tensor;

/**
 * Heaviside spike of the membrane potential (1 where v >= threshold) whose backward pass is the ATan
 * surrogate instead of the Dirac delta, so BPTT can train through spikes. 1 - relu(sign(threshold - v))
 * is that step exactly, in kernels every backend runs fast (a comparison plus a cast is several times
 * slower on the tensorflow backend).
 */
export const spikeOf: (v: tf.Tensor) => tf.Tensor = tf.customGrad(
  (...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [v, save] = args as [tf.Tensor, tf.GradSaveFunc];
    save([v]);
    return {
      value: tf.sub(1, tf.relu(tf.sign(tf.sub(LIF_THRESHOLD, v)))),
      gradFunc: (dy, saved) => {
        const [savedV] = saved as [tf.Tensor];
        const z = tf.mul(tf.sub(savedV, LIF_THRESHOLD), (Math.PI / 2) * SURROGATE_ALPHA);
        return [tf.div(tf.mul(dy, SURROGATE_ALPHA / 2), tf.add(tf.square(z), 1))];
      },
    };
  },
) as (v: tf.Tensor) => tf.Tensor;

/**
 * Hard reset to 0 of the neurons that fired, with the spikes detached from the graph (spikingjelly's
 * detach_reset=True): v (1 - s), whose gradient is dy (1 - s) for v and none through s. It saves only the
 * spikes, which the next layer's convolution keeps anyway.
 */
const resetFired: (v: tf.Tensor, spikes: tf.Tensor) => tf.Tensor = tf.customGrad(
  (...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [v, spikes, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    save([spikes]);
    return {
      value: tf.sub(v, tf.mul(v, spikes)),
      gradFunc: (dy, saved) => {
        const [savedSpikes] = saved as [tf.Tensor];
        return [tf.sub(dy, tf.mul(dy, savedSpikes)), tf.zerosLike(savedSpikes)];
      },
    };
  },
) as (v: tf.Tensor, spikes: tf.Tensor) => tf.Tensor;

/** Called with each LIF call's spikes (batch x per-sample shape); used for spike rates and SAHD. */
export type SpikeObserver = (layer: string, spikes: tf.Tensor) => void;

/**
 * A layer of leaky integrate-and-fire neurons. Its only state is the membrane potential v, carried from
 * one timestep to the next within a forward pass. The neuron owns that tensor: it survives the caller's
 * per-step tf.tidy, and the next step or reset() disposes it (BPTT keeps its own copies of what it needs).
 */
export class LifNeuron {
  /** Membrane potential after the last step (after reset), or null before the first step. */
  v: tf.Tensor | null = null;
  readonly neurons: number;

  /** `shape` is the per-sample shape of the input, e.g. [H, W, C] or [hidden]. */
  constructor(
    readonly name: string,
    readonly shape: readonly number[],
  ) {
    this.neurons = shape.reduce((a, b) => a * b, 1);
  }

  /** One timestep: charge, fire, hard-reset the neurons that fired; returns the spikes (0/1). */
  step(x: tf.Tensor, observe?: SpikeObserver): tf.Tensor {
    if (x.size !== (x.shape[0] as number) * this.neurons) {
      throw new Error(`LIF ${this.name}: input ${x.shape} does not match its neurons [batch, ${this.shape}]`);
    }
    // v starts at 0, so the first step's charge is x / tau.
    const charged = this.v === null ? tf.mul(x, 1 / LIF_TAU) : charge(this.v, x);
    const spikes = spikeOf(charged);
    this.v?.dispose();
    this.v = tf.keep(resetFired(charged, spikes));
    observe?.(this.name, spikes);
    return spikes;
  }

  reset(): void {
    this.v?.dispose();
    this.v = null;
  }
}
