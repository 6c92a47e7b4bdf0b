import * as tf from '@tensorflow/tfjs-core';
import { deriveSeed } from '../common/rng.js';
import type { OpCode } from '../search/arch.types.js';
import { fusedBatchNormAvailable, fusedBatchNormTraining } from './kernels/fused-batchnorm.js';
import { LifNeuron, type SpikeObserver } from './lif.js';

/** What a forward pass needs besides the input. */
export interface ForwardContext {
  /** BatchNorm uses batch statistics (and Dropout is on) when true, running statistics when false. */
  training: boolean;
  /** Update BatchNorm running statistics (defaults to `training`; scoring at init turns it off). */
  updateStats: boolean;
  observe?: SpikeObserver;
}

const BN_EPSILON = 1e-5;
const BN_MOMENTUM = 0.1;
/** kaiming_uniform_(a=2), as SNASNet initialises its convolutions. */
const CONV_INIT_GAIN = Math.sqrt(2 / (1 + 2 * 2));

/**
 * The tensors of one network: trainable parameters (what `params` counts) and BatchNorm running
 * statistics (state, not parameters). Every initial value is drawn from deriveSeed(seed, name), so a
 * parameter's initial value does not depend on which other layers exist.
 */
export class ParamStore {
  readonly trainable = new Map<string, tf.Variable>();
  readonly state = new Map<string, tf.Variable>();

  constructor(private readonly seed: number) {}

  convWeight(name: string, kernel: number, inChannels: number, outChannels: number): tf.Variable {
    const bound = CONV_INIT_GAIN * Math.sqrt(3 / (kernel * kernel * inChannels));
    const seed = deriveSeed(this.seed, name);
    const init = tf.randomUniform([kernel, kernel, inChannels, outChannels], -bound, bound, 'float32', seed);
    return this.add(this.trainable, name, init);
  }

  /**
   * He-uniform, U(-sqrt(6/fan_in), sqrt(6/fan_in)). SNASNet draws N(0, 0.01) (and PyTorch's default is
   * U(+-1/sqrt(fan_in))): on sparse spike inputs and our small presets both leave the hidden LIF layer
   * silent (rate 0), so the output layer gets no gradient and training stays at chance.
   */
  linearWeight(name: string, inputs: number, outputs: number): tf.Variable {
    const bound = Math.sqrt(6 / inputs);
    const init = tf.randomUniform([inputs, outputs], -bound, bound, 'float32', deriveSeed(this.seed, name));
    return this.add(this.trainable, name, init);
  }

  constant(name: string, shape: number[], value: number, trainable: boolean): tf.Variable {
    return this.add(trainable ? this.trainable : this.state, name, tf.fill(shape, value));
  }

  countTrainable(): number {
    let total = 0;
    for (const v of this.trainable.values()) total += v.size;
    return total;
  }

  dispose(): void {
    for (const v of [...this.trainable.values(), ...this.state.values()]) v.dispose();
    this.trainable.clear();
    this.state.clear();
  }

  private add(into: Map<string, tf.Variable>, name: string, init: tf.Tensor): tf.Variable {
    if (this.trainable.has(name) || this.state.has(name)) throw new Error(`duplicate parameter ${name}`);
    // tfjs variable names are global and unique; ours are per network, so tfjs names its own.
    const variable = tf.variable(init, into === this.trainable);
    init.dispose();
    into.set(name, variable);
    return variable;
  }
}

/** BatchNorm2d over the channel axis of NHWC tensors: trainable gamma and beta, running mean and variance. */
export class BatchNorm {
  private readonly gamma: tf.Variable<tf.Rank.R1>;
  private readonly beta: tf.Variable<tf.Rank.R1>;
  private readonly runningMean: tf.Variable<tf.Rank.R1>;
  private readonly runningVar: tf.Variable<tf.Rank.R1>;

  constructor(store: ParamStore, name: string, channels: number) {
    this.gamma = store.constant(`${name}.gamma`, [channels], 1, true) as tf.Variable<tf.Rank.R1>;
    this.beta = store.constant(`${name}.beta`, [channels], 0, true) as tf.Variable<tf.Rank.R1>;
    this.runningMean = store.constant(
      `${name}.running_mean`,
      [channels],
      0,
      false,
    ) as tf.Variable<tf.Rank.R1>;
    this.runningVar = store.constant(`${name}.running_var`, [channels], 1, false) as tf.Variable<tf.Rank.R1>;
  }

  /**
   * `x` holds `steps` timesteps stacked t-major ([T*B, H, W, C]); batch statistics are each timestep's
   * own (over B, H and W, as SNASNet normalises one timestep at a time), and the running statistics take
   * the timesteps' momentum updates one after another.
   */
  apply(x: tf.Tensor4D, ctx: ForwardContext, steps = 1): tf.Tensor4D {
    if (!ctx.training)
      return tf.batchNorm4d(x, this.runningMean, this.runningVar, this.beta, this.gamma, BN_EPSILON);
    if (fusedBatchNormAvailable()) {
      return fusedBatchNormTraining(x, this.gamma, this.beta, BN_EPSILON, steps, {
        mean: this.runningMean,
        variance: this.runningVar,
        momentum: BN_MOMENTUM,
        update: ctx.updateStats,
      });
    }
    if (steps === 1) return this.batchStatistics(x, ctx.updateStats);
    return tf.concat(
      tf.split(x, steps).map((step) => this.batchStatistics(step as tf.Tensor4D, ctx.updateStats)),
    );
  }

  private batchStatistics(x: tf.Tensor4D, updateStats: boolean): tf.Tensor4D {
    const y = batchNormTraining(x, this.gamma, this.beta) as tf.Tensor4D;
    if (updateStats) {
      // Statistics again, outside the custom gradient (whose intermediates it disposes): a few cheap
      // kernels that are off the loss's path, so they add nothing to the backward pass.
      const { mean, variance } = tf.moments(x, [0, 1, 2]);
      // PyTorch keeps the unbiased variance in its running estimate.
      const n = x.size / (x.shape[3] as number);
      const unbiased = tf.mul(variance, n / Math.max(1, n - 1));
      this.runningMean.assign(tf.add(tf.mul(this.runningMean, 1 - BN_MOMENTUM), tf.mul(mean, BN_MOMENTUM)));
      this.runningVar.assign(tf.add(tf.mul(this.runningVar, 1 - BN_MOMENTUM), tf.mul(unbiased, BN_MOMENTUM)));
    }
    return y;
  }
}

/**
 * Batch-statistics BatchNorm with its closed-form gradient: about a dozen kernels each way, where
 * differentiating the composed ops would take several dozen (tiles, broadcasts) per call.
 * With xhat = (x - mean) / sqrt(var + eps) over N = batch*H*W values per channel:
 * dbeta = sum(dy), dgamma = sum(dy * xhat), dx = gamma / sqrt(var + eps) * (dy - mean(dy) - xhat * mean(dy * xhat)).
 */
const batchNormTraining = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [input, g, b, save] = args as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
  const m = tf.mean(input, [0, 1, 2]) as tf.Tensor1D;
  const centered = tf.sub(input, m);
  const v = tf.mean(tf.square(centered), [0, 1, 2]) as tf.Tensor1D;
  const invStd = tf.rsqrt(tf.add(v, BN_EPSILON));
  const xhat = tf.mul(centered, invStd);
  save([xhat, invStd, g]);
  return {
    value: tf.add(tf.mul(xhat, g), b),
    gradFunc: (dy, saved) => {
      const [sxhat, sinvStd, sg] = saved as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];
      const dbeta = tf.sum(dy, [0, 1, 2]);
      const dgamma = tf.sum(tf.mul(dy, sxhat), [0, 1, 2]);
      const n = dy.size / (dy.shape[3] as number);
      const centeredDy = tf.sub(dy, tf.div(dbeta, n));
      const dx = tf.mul(tf.sub(centeredDy, tf.mul(sxhat, tf.div(dgamma, n))), tf.mul(sg, sinvStd));
      return [dx, dgamma, dbeta];
    },
  };
});

/** One edge of a cell: an operation with its own weights and neurons. */
export interface CellOp {
  readonly code: OpCode;
  /** The LIF neurons in front of a spiking convolution; null for skip and avgpool. */
  readonly lif: LifNeuron | null;
  /** One timestep of the whole edge on the node value x (its LIF steps once). */
  apply(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D;
  /**
   * What follows the LIF, on `steps` timesteps stacked t-major: x is the LIF's spikes for a spiking
   * convolution, the node value otherwise (these ops have no LIF).
   */
  afterLif(x: tf.Tensor4D, ctx: ForwardContext, steps: number): tf.Tensor4D;
}

/** LIF -> conv kxk (stride 1, same size, no bias) -> BatchNorm: operations 2 (k = 1) and 3 (k = 3). */
class SpikingConv implements CellOp {
  readonly lif: LifNeuron;
  private readonly weight: tf.Variable;
  private readonly bn: BatchNorm;

  constructor(
    readonly code: OpCode,
    store: ParamStore,
    name: string,
    kernel: 1 | 3,
    shape: readonly [number, number, number],
  ) {
    const channels = shape[2];
    this.lif = new LifNeuron(`${name}.lif`, shape);
    this.weight = store.convWeight(`${name}.conv`, kernel, channels, channels);
    this.bn = new BatchNorm(store, `${name}.bn`, channels);
  }

  apply(x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D {
    return this.afterLif(this.lif.step(x, ctx.observe) as tf.Tensor4D, ctx, 1);
  }

  afterLif(spikes: tf.Tensor4D, ctx: ForwardContext, steps: number): tf.Tensor4D {
    // Stride 1: 'same' is PyTorch's symmetric padding (k - 1) / 2, and the one form every backend takes.
    const y = tf.conv2d(spikes, this.weight as tf.Tensor4D, 1, 'same');
    return this.bn.apply(y, ctx, steps);
  }
}

const skip: CellOp = { code: 1, lif: null, apply: (x) => x, afterLif: (x) => x };

/** avgpool 3x3, stride 1, padding 1 with PyTorch's count_include_pad: zero padding counts in the mean. */
function avgPool3x3(x: tf.Tensor4D): tf.Tensor4D {
  return tf.avgPool(
    tf.pad(x, [
      [0, 0],
      [1, 1],
      [1, 1],
      [0, 0],
    ]),
    3,
    1,
    'valid',
  );
}

const avgPool: CellOp = { code: 4, lif: null, apply: avgPool3x3, afterLif: avgPool3x3 };

/** Builds operation `code` on feature maps of per-sample `shape` [H, W, C]; weights are named `name.*`. */
export function buildCellOp(
  code: OpCode,
  store: ParamStore,
  name: string,
  shape: readonly [number, number, number],
): CellOp {
  switch (code) {
    case 1:
      return skip;
    case 2:
      return new SpikingConv(code, store, name, 1, shape);
    case 3:
      return new SpikingConv(code, store, name, 3, shape);
    case 4:
      return avgPool;
    case 0:
      throw new Error(`operation 0 (none) has no edge to build (${name})`);
  }
}
