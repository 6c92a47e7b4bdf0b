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
 * Heaviside spike of the membrane potential (1 where v >= threshold) whose backward pass is the ATan
 * surrogate instead of the Dirac delta, so BPTT can train through spikes.
 */
export const spikeOf: (v: tf.Tensor) => tf.Tensor = tf.customGrad(
  (...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [v, save] = args as [tf.Tensor, tf.GradSaveFunc];
    save([v]);
    return {
      value: tf.cast(tf.greaterEqual(v, LIF_THRESHOLD), 'float32'),
      gradFunc: (dy, saved) => {
        const [savedV] = saved as [tf.Tensor];
        const z = tf.mul(tf.sub(savedV, LIF_THRESHOLD), (Math.PI / 2) * SURROGATE_ALPHA);
        return [tf.div(tf.mul(dy, SURROGATE_ALPHA / 2), tf.add(tf.square(z), 1))];
      },
    };
  },
) as (v: tf.Tensor) => tf.Tensor;

/** Called with each LIF call's spikes (batch x per-sample shape); used for spike rates and SAHD. */
export type SpikeObserver = (layer: string, spikes: tf.Tensor) => void;

/**
 * A layer of leaky integrate-and-fire neurons. Its only state is the membrane potential v, carried
 * from one timestep to the next within a forward pass; reset() clears it between batches.
 * Tensors it creates live in the caller's tf.tidy / gradient scope, so it never disposes them itself.
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
    // v += (x - v) / tau, i.e. v = (1 - 1/tau) v + x / tau; v starts at 0.
    const charged =
      this.v === null
        ? tf.mul(x, 1 / LIF_TAU)
        : tf.add(tf.mul(this.v, 1 - 1 / LIF_TAU), tf.mul(x, 1 / LIF_TAU));
    const spikes = spikeOf(charged);
    // Hard reset to 0, detached from the graph (spikingjelly detach_reset=True): step() has a zero gradient
    // and returns the spikes unchanged (they are exactly 0 or 1).
    const fired = tf.step(spikes);
    this.v = tf.sub(charged, tf.mul(charged, fired));
    observe?.(this.name, spikes);
    return spikes;
  }

  reset(): void {
    this.v = null;
  }
}
