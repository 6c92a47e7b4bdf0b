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

/** One Select kernel: tf.where would first broadcast (copy) each of its three operands. */
function select(condition: tf.Tensor, ifTrue: tf.Tensor, ifFalse: tf.Tensor): tf.Tensor {
  return tf.engine().runKernel('Select', { condition, t: ifTrue, e: ifFalse }) as tf.Tensor;
}

/**
 * A LIF layer's whole scan over T timesteps as one differentiable op, from rest: x holds the T inputs
 * stacked t-major ([T*B, ...]), and so do the spikes it returns. The input is scaled by 1/tau once for
 * all T, so a step is a multiply-add, a threshold and a reset (a Select); these are the reference
 * step's operations in the same order, so the spikes are the same. The backward pass is BPTT in closed
 * form: with g_t the gradient at the charged potential h_t, surrogate sigma' and the detached reset,
 * g_t = dS_t sigma'(h_t) + (1 - 1/tau) (1 - s_t) g_{t+1} and dx_t = g_t / tau; it keeps only the charged
 * potentials and the spikes.
 */
function spikeTrain(x: tf.Tensor, steps: number): tf.Tensor {
  const decay = 1 - 1 / LIF_TAU;
  const scan = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const scaled = tf.mul(input, 1 / LIF_TAU);
    const drive = steps === 1 ? [scaled] : tf.split(scaled, steps);
    const zeros = tf.zerosLike(drive[0] as tf.Tensor);
    const charged: tf.Tensor[] = [];
    const fired: tf.Tensor[] = [];
    let h = drive[0] as tf.Tensor;
    for (let t = 0; t < steps; t++) {
      charged.push(h);
      const fire = tf.greaterEqual(h, LIF_THRESHOLD);
      fired.push(fire);
      if (t + 1 < steps) h = tf.add(tf.mul(select(fire, zeros, h), decay), drive[t + 1] as tf.Tensor);
    }
    const potentials = steps === 1 ? h : tf.concat(charged);
    const spikes = tf.cast(steps === 1 ? (fired[0] as tf.Tensor) : tf.concat(fired), 'float32');
    save([potentials, spikes]);
    return {
      value: spikes,
      gradFunc: (dy, saved) => {
        const [savedH, savedS] = saved as [tf.Tensor, tf.Tensor];
        // The surrogate as spikeOf's gradient computes it, for all T at once.
        const z = tf.mul(tf.sub(savedH, LIF_THRESHOLD), (Math.PI / 2) * SURROGATE_ALPHA);
        const direct = tf.div(tf.mul(dy as tf.Tensor, SURROGATE_ALPHA / 2), tf.add(tf.square(z), 1));
        if (steps === 1) return [tf.mul(direct, 1 / LIF_TAU)];
        const carried = tf.mul(tf.sub(1, savedS), decay);
        const directs = tf.split(direct, steps);
        const carries = tf.split(carried, steps);
        const g: tf.Tensor[] = new Array(steps);
        g[steps - 1] = directs[steps - 1] as tf.Tensor;
        for (let t = steps - 2; t >= 0; t--) {
          g[t] = tf.add(directs[t] as tf.Tensor, tf.mul(carries[t] as tf.Tensor, g[t + 1] as tf.Tensor));
        }
        return [tf.mul(tf.concat(g), 1 / LIF_TAU)];
      },
    };
  });
  return scan(x);
}

/** Calls `observe` with each timestep's spikes [B, ...] of a [T*B, ...] stack, once per layer name. */
function observeSteps(
  observe: SpikeObserver,
  names: readonly string[],
  spikes: tf.Tensor,
  steps: number,
): void {
  const perStep = steps === 1 ? [spikes] : tf.split(spikes, steps);
  for (const step of perStep) for (const name of names) observe(name, step);
}

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

  /**
   * One timestep: charge, fire, hard-reset the neurons that fired; returns the spikes (0/1). `observe`
   * sees them under this layer's name and under its `twins'` names: LIF layers that see the same input
   * and so fire alike, computed once (SNASNet gives every conv edge leaving a node a LIF of its own).
   */
  step(x: tf.Tensor, observe?: SpikeObserver, twins: readonly LifNeuron[] = []): tf.Tensor {
    this.checkInput(x);
    // v starts at 0, so the first step's charge is x / tau.
    const charged = this.v === null ? tf.mul(x, 1 / LIF_TAU) : charge(this.v, x);
    const spikes = spikeOf(charged);
    this.v?.dispose();
    this.v = tf.keep(resetFired(charged, spikes));
    if (observe) for (const lif of [this, ...twins]) observe(lif.name, spikes);
    return spikes;
  }

  /**
   * All T timesteps at once, as spikingjelly's multi-step mode: x holds them stacked t-major
   * [T*B, ...]; returns the spikes the same way. Starts from rest and leaves no state. `observe` sees
   * each timestep's spikes [B, ...], under this layer's and its `twins'` names, as step() does.
   */
  multiStep(
    x: tf.Tensor,
    steps: number,
    observe?: SpikeObserver,
    twins: readonly LifNeuron[] = [],
  ): tf.Tensor {
    this.checkInput(x);
    const spikes = spikeTrain(x, steps);
    if (observe)
      observeSteps(
        observe,
        [this, ...twins].map((lif) => lif.name),
        spikes,
        steps,
      );
    return spikes;
  }

  reset(): void {
    this.v?.dispose();
    this.v = null;
  }

  private checkInput(x: tf.Tensor): void {
    if (x.size !== (x.shape[0] as number) * this.neurons) {
      throw new Error(`LIF ${this.name}: input ${x.shape} does not match its neurons [batch, ${this.shape}]`);
    }
  }
}
