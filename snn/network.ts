import * as tf from '@tensorflow/tfjs-core';
import { InputError } from '../common/errors.js';
import { deriveSeed } from '../common/rng.js';
import { Cell } from './cell.js';
import { type Arch, CELL_NODES } from './cell-matrix.js';
import { checkpoint } from './checkpoint.js';
import type { NetConfig } from './config.js';
import { LifNeuron, type SpikeObserver } from './lif.js';
import { BatchNorm, type ForwardContext, ParamStore } from './ops.js';

/** SNASNet's Dropout before the classifier's hidden layer, the rate a forward pass takes unless told. */
const SNASNET_DROPOUT = 0.5;
/** Training recomputes each timestep in the backward pass when plain BPTT would keep more than this. */
const CHECKPOINT_ABOVE_BYTES = 2 ** 30;

export interface ForwardOptions {
  /** Batch statistics in BatchNorm and Dropout on (training mode); running statistics otherwise. */
  training: boolean;
  /** Update BatchNorm running statistics; defaults to `training`. */
  updateStats?: boolean;
  /** Seed of this pass's Dropout mask (one mask for all timesteps, as spikingjelly's layer.Dropout). */
  dropoutSeed?: number;
  /** Training mode's Dropout rate, in [0, 1); default SNASNET_DROPOUT. 0 draws no mask. */
  dropoutRate?: number;
  /** Sees every LIF call's spikes. Also runs the last step's cell feedback, as SNASNet's hooks count it. */
  observe?: SpikeObserver;
  /**
   * Training only: recompute each timestep in the backward pass rather than keep its tape (same
   * gradients, a third more compute, a fraction of the memory). Default: when plain BPTT would keep
   * more than 1 GiB.
   */
  recompute?: boolean;
  /**
   * Run one timestep at a time through the whole network, as SNASNet does (the reference path; same
   * numbers). Default false: layers that carry no state from step to step run once on all T timesteps
   * stacked as [T*B, ...] whenever what that holds at once stays within the same 1 GiB as BPTT's rule
   * (see timeBatchedBytes()); `recompute: true` also takes the per-timestep path.
   */
  stepByStep?: boolean;
}

/** Per-sample spatial sizes the backbone produces for a config (PyTorch conv/pool arithmetic, floor). */
export interface BackboneShape {
  /** [H, W, C] of cell 1. */
  cell1: [number, number, number];
  /** [H, W, 2C] of cell 2. */
  cell2: [number, number, number];
  /** Length of the flattened head input after the p x p pool. */
  flat: number;
}

/** An SNASNet-style SNN built from a pruned cell matrix. forward() must run inside tf.tidy or a gradient call. */
export interface SpikingNetwork {
  readonly arch: Arch;
  readonly config: NetConfig;
  readonly shape: BackboneShape;
  /** Trainable values actually created: conv and linear weights, linear biases, BatchNorm gamma and beta. */
  countParams(): number;
  /** LIF neurons of one sample (each LIF layer's neurons once). */
  countNeurons(): number;
  /** LIF layer names in build order. */
  lifLayers(): string[];
  /** Each LIF layer's name and neurons per sample, in build order. */
  lifNeurons(): { name: string; neurons: number }[];
  /** Class scores [batch, classes]: the mean over T timesteps of the population-voted outputs. */
  forward(x: tf.Tensor4D, options: ForwardOptions): tf.Tensor2D;
  trainableVariables(): tf.Variable[];
  /** Our name of each trainable variable (tfjs's own variable names are global counters). */
  trainableNames(): string[];
  /** Every tensor needed to run the network: parameters and BatchNorm running statistics, by name. */
  getWeights(): tf.NamedTensorMap;
  /** Assigns values by name; every name must exist and every shape match. */
  setWeights(weights: tf.NamedTensorMap): void;
  dispose(): void;
}

export function backboneShape(config: NetConfig): BackboneShape {
  validateConfig(config);
  const [h, w] = config.inputShape;
  const c = config.stemChannels;
  const s = config.stemStride;
  // stem: conv3x3, padding 1, stride s
  const h1 = Math.floor((h - 1) / s) + 1;
  const w1 = Math.floor((w - 1) / s) + 1;
  // down: avgpool 2x2 stride 2; head: avgpool p x p stride p
  const h2 = Math.floor(h1 / 2);
  const w2 = Math.floor(w1 / 2);
  const h3 = Math.floor(h2 / config.secondPool);
  const w3 = Math.floor(w2 / config.secondPool);
  if (h3 < 1 || w3 < 1) {
    throw new InputError(
      'config.secondPool',
      `${config.secondPool} pools the ${h2}x${w2} maps of cell 2 to nothing`,
      `1..${Math.min(h2, w2)} for this input shape and stem stride`,
    );
  }
  return { cell1: [h1, w1, c], cell2: [h2, w2, 2 * c], flat: h3 * w3 * 2 * c };
}

export function validateConfig(config: NetConfig): void {
  const positive: [string, number][] = [
    ['inputShape[0]', config.inputShape[0]],
    ['inputShape[1]', config.inputShape[1]],
    ['inputShape[2]', config.inputShape[2]],
    ['numClasses', config.numClasses],
    ['stemChannels', config.stemChannels],
    ['stemStride', config.stemStride],
    ['secondPool', config.secondPool],
    ['classifierHidden', config.classifierHidden],
    ['populationSize', config.populationSize],
    ['timesteps', config.timesteps],
  ];
  for (const [field, value] of positive) {
    if (!Number.isInteger(value) || value < 1) {
      throw new InputError(`config.${field}`, `${value} is not a positive integer`, 'integers >= 1');
    }
  }
  if (config.cellType !== 'forward' && config.cellType !== 'backward') {
    throw new InputError('config.cellType', `'${config.cellType}' is not a cell type`, 'forward, backward');
  }
}

/** Builds the network for a pruned matrix; every initial value derives from `seed` and the layer's name. */
export function buildNetwork(arch: Arch, config: NetConfig, seed: number): SpikingNetwork {
  const shape = backboneShape(config);
  const store = new ParamStore(seed);
  try {
    return new Snasnet(arch, config, shape, store, seed);
  } catch (error) {
    store.dispose();
    throw error;
  }
}

/**
 * The stem's conv3x3 with PyTorch's padding 1 on every side. At stride 1 that is 'same'; at stride 2
 * 'same' would pad only the bottom and right (TensorFlow's rule) and shift every output pixel, so the
 * input is padded explicitly. Numeric padding is not an option: the tensorflow backend rejects it.
 */
function stemConv(x: tf.Tensor4D, weight: tf.Tensor4D, stride: number): tf.Tensor4D {
  if (stride === 1) return tf.conv2d(x, weight, 1, 'same');
  const padded = tf.pad(x, [
    [0, 0],
    [1, 1],
    [1, 1],
    [0, 0],
  ]);
  return tf.conv2d(padded, weight, stride, 'valid');
}

/** Inverted dropout: keeps each value with probability 1 - rate and scales the kept ones by 1 / (1 - rate). */
function dropoutMask(shape: [number, number], rate: number, seed: number): tf.Tensor2D {
  const uniform = tf.randomUniform(shape, 0, 1, 'float32', seed);
  return tf.div(tf.step(tf.sub(uniform, rate)), 1 - rate);
}

class Snasnet implements SpikingNetwork {
  private readonly stemWeight: tf.Variable;
  private readonly stemBn: BatchNorm;
  private readonly cell1: Cell;
  private readonly downBnIn: BatchNorm;
  private readonly downLif: LifNeuron;
  private readonly downWeight: tf.Variable;
  private readonly downBnOut: BatchNorm;
  private readonly cell2: Cell;
  private readonly headBn: BatchNorm;
  private readonly headLif: LifNeuron;
  private readonly hiddenWeight: tf.Variable;
  private readonly hiddenLif: LifNeuron;
  private readonly outWeight: tf.Variable;
  private readonly outBias: tf.Variable;
  private readonly lifs: LifNeuron[];

  constructor(
    readonly arch: Arch,
    readonly config: NetConfig,
    readonly shape: BackboneShape,
    private readonly store: ParamStore,
    private readonly seed: number,
  ) {
    const c = config.stemChannels;
    const outputs = config.numClasses * config.populationSize;
    this.stemWeight = store.convWeight('stem.conv', 3, config.inputShape[2], c);
    this.stemBn = new BatchNorm(store, 'stem.bn', c);
    this.cell1 = new Cell(arch, config.cellType, store, 'cell1', shape.cell1);
    this.downBnIn = new BatchNorm(store, 'down.bn1', c);
    this.downLif = new LifNeuron('down.lif', shape.cell1);
    this.downWeight = store.convWeight('down.conv', 3, c, 2 * c);
    this.downBnOut = new BatchNorm(store, 'down.bn2', 2 * c);
    this.cell2 = new Cell(arch, config.cellType, store, 'cell2', shape.cell2);
    this.headBn = new BatchNorm(store, 'head.bn', 2 * c);
    this.headLif = new LifNeuron('head.lif', shape.cell2);
    this.hiddenWeight = store.linearWeight('head.fc1.weight', shape.flat, config.classifierHidden);
    this.hiddenLif = new LifNeuron('head.fc1.lif', [config.classifierHidden]);
    this.outWeight = store.linearWeight('head.fc2.weight', config.classifierHidden, outputs);
    this.outBias = store.constant('head.fc2.bias', [outputs], 0, true);
    this.lifs = [...this.cell1.lifs, this.downLif, ...this.cell2.lifs, this.headLif, this.hiddenLif];
  }

  countParams(): number {
    return this.store.countTrainable();
  }

  countNeurons(): number {
    return this.lifs.reduce((total, lif) => total + lif.neurons, 0);
  }

  lifLayers(): string[] {
    return this.lifs.map((lif) => lif.name);
  }

  lifNeurons(): { name: string; neurons: number }[] {
    return this.lifs.map((lif) => ({ name: lif.name, neurons: lif.neurons }));
  }

  forward(x: tf.Tensor4D, options: ForwardOptions): tf.Tensor2D {
    const [h, w, ch] = this.config.inputShape;
    if (x.shape[1] !== h || x.shape[2] !== w || x.shape[3] !== ch) {
      throw new InputError(
        'images',
        `shape ${x.shape} does not match the config`,
        `[batch, ${h}, ${w}, ${ch}]`,
      );
    }
    const ctx: ForwardContext = {
      training: options.training,
      updateStats: options.updateStats ?? options.training,
      observe: options.observe,
    };
    const batch = x.shape[0];
    const t = this.config.timesteps;
    // The stem sees the same static image at every timestep: it runs once.
    const static0 = this.stemBn.apply(
      stemConv(x, this.stemWeight as tf.Tensor4D, this.config.stemStride),
      ctx,
    );
    const dropoutRate = options.dropoutRate ?? SNASNET_DROPOUT;
    const dropMask =
      options.training && dropoutRate > 0
        ? dropoutMask(
            [batch, this.shape.flat],
            dropoutRate,
            options.dropoutSeed ?? deriveSeed(this.seed, 'dropout'),
          )
        : null;
    // Large networks in training recompute each step in the backward pass instead of keeping its tape.
    const recompute =
      options.training && (options.recompute ?? this.bpttBytes(batch) > CHECKPOINT_ABOVE_BYTES);
    const batched =
      !options.stepByStep &&
      options.recompute !== true &&
      this.timeBatchedBytes(batch) <= CHECKPOINT_ABOVE_BYTES;
    const votes = batched
      ? this.timeBatched(static0, ctx, dropMask)
      : this.stepThroughTime(static0, ctx, dropMask, recompute);
    // Population voting commutes with the mean over T: average the outputs first, then each class's population.
    const perOutput = tf.div(votes, t);
    const grouped = tf.reshape(perOutput, [batch, this.config.numClasses, this.config.populationSize]);
    return tf.mean(grouped, 2) as tf.Tensor2D;
  }

  /**
   * All timesteps at once (spikingjelly's multi-step mode): every layer without state from step to
   * step runs once on the T timesteps stacked t-major as [T*B, ...], BatchNorm with each timestep's
   * own statistics; LIF layers scan over T; a cell with feedback steps through time inside itself.
   * Holds every timestep's activations at once, hence only when timeBatchedBytes() fits. Returns the
   * sum over T of the outputs [batch, classes x pop].
   */
  private timeBatched(stem: tf.Tensor4D, ctx: ForwardContext, dropMask: tf.Tensor2D | null): tf.Tensor2D {
    const t = this.config.timesteps;
    const batch = stem.shape[0];
    const observe = ctx.observe;
    let y = this.cell1.run(tf.tile(stem, [t, 1, 1, 1]), ctx, t);
    y = this.downBnIn.apply(y, ctx, t);
    const downSpikes = this.downLif.multiStep(y, t, observe) as tf.Tensor4D;
    y = tf.conv2d(downSpikes, this.downWeight as tf.Tensor4D, 1, 'same');
    y = tf.avgPool(this.downBnOut.apply(y, ctx, t), 2, 2, 'valid');
    y = this.cell2.run(y, ctx, t);
    y = this.headLif.multiStep(this.headBn.apply(y, ctx, t), t, observe) as tf.Tensor4D;
    const p = this.config.secondPool;
    const pooled = p === 1 ? y : tf.avgPool(y, p, p, 'valid');
    let flat = tf.reshape(pooled, [t * batch, this.shape.flat]) as tf.Tensor2D;
    // One Dropout mask for all timesteps.
    if (dropMask) flat = tf.mul(flat, tf.tile(dropMask, [t, 1]));
    const hidden = this.hiddenLif.multiStep(
      tf.matMul(flat, this.hiddenWeight as tf.Tensor2D),
      t,
      observe,
    ) as tf.Tensor2D;
    const outputs = tf.add(tf.matMul(hidden, this.outWeight as tf.Tensor2D), this.outBias);
    return tf.sum(tf.reshape(outputs, [t, batch, -1]), 0) as tf.Tensor2D;
  }

  /**
   * One timestep at a time, as SNASNet runs (the reference path), in one tf.tidy per timestep: a step
   * keeps only what later steps read (votes, neuron and feedback state, all owned by their layers) and
   * what BPTT saved, never every step's intermediates. Returns the sum over T of the outputs.
   */
  private stepThroughTime(
    static0: tf.Tensor4D,
    ctx: ForwardContext,
    dropMask: tf.Tensor2D | null,
    recompute: boolean,
  ): tf.Tensor2D {
    const t = this.config.timesteps;
    this.reset();
    let votes: tf.Tensor2D | null = null;
    for (let step = 0; step < t; step++) {
      const previous: tf.Tensor2D | null = votes;
      const feedback = step < t - 1 || ctx.observe !== undefined;
      votes = tf.tidy(() => {
        const out = recompute
          ? this.checkpointedStep(static0, ctx, feedback, dropMask)
          : this.step(static0, ctx, feedback, dropMask);
        return previous === null ? out : tf.add<tf.Tensor2D>(previous, out);
      });
      previous?.dispose();
    }
    this.reset();
    return votes as tf.Tensor2D;
  }

  /** What plain BPTT would keep over all timesteps (measured: about 20 float maps per neuron and step). */
  private bpttBytes(batch: number): number {
    return batch * this.countNeurons() * 4 * 20 * this.config.timesteps;
  }

  /**
   * What a time-batched pass holds at once: BPTT's tape when gradients are being recorded; otherwise
   * every timestep's activations (measured on the fmnist presets: about 4.2 float maps per neuron and
   * step, at the head; scoring takes 5).
   */
  private timeBatchedBytes(batch: number): number {
    // Whether a gradient computation is recording this pass (engine state tfjs' typings mark private).
    const engine = tf.engine() as unknown as { state: { gradientDepth: number } };
    if (engine.state.gradientDepth > 0) return this.bpttBytes(batch);
    return batch * this.countNeurons() * 4 * 5 * this.config.timesteps;
  }

  /** Tensors carried from one timestep to the next: every LIF's potential, then each cell's feedback. */
  private carriedState(): (tf.Tensor | null)[] {
    return [
      ...this.lifs.map((lif) => lif.v),
      ...this.cell1.carriedFeedback(),
      ...this.cell2.carriedFeedback(),
    ];
  }

  private restoreState(state: readonly (tf.Tensor | null)[]): void {
    this.lifs.forEach((lif, i) => {
      lif.v = state[i] ?? null;
    });
    const feedback = state.slice(this.lifs.length) as (tf.Tensor4D | null)[];
    this.cell1.restoreFeedback(feedback.slice(0, CELL_NODES));
    this.cell2.restoreFeedback(feedback.slice(CELL_NODES));
  }

  /**
   * step() as one checkpointed op: BPTT saves the stem output and the carried state, and recomputes the
   * step's intermediates (without updating BatchNorm statistics again) when it differentiates it.
   */
  private checkpointedStep(
    stem: tf.Tensor4D,
    ctx: ForwardContext,
    feedback: boolean,
    dropMask: tf.Tensor2D | null,
  ): tf.Tensor2D {
    const before = this.carriedState();
    const present = before.flatMap((tensor, i) => (tensor === null ? [] : [i]));
    let after: number[] = [];
    const run = (inputs: tf.Tensor[], constants: tf.Tensor[], again: boolean): tf.Tensor[] => {
      if (again) {
        const state: (tf.Tensor | null)[] = before.map(() => null);
        present.forEach((i, k) => {
          state[i] = inputs[k + 1] as tf.Tensor;
        });
        this.restoreState(state);
      }
      const stepCtx = again ? { training: ctx.training, updateStats: false } : ctx;
      const mask = (constants[0] as tf.Tensor2D | undefined) ?? null;
      const out = this.step(inputs[0] as tf.Tensor4D, stepCtx, feedback, mask);
      const carried = this.carriedState();
      if (!again) after = carried.flatMap((tensor, i) => (tensor === null ? [] : [i]));
      return [out, ...after.map((i) => carried[i] as tf.Tensor)];
    };
    const inputs = [stem, ...present.map((i) => before[i] as tf.Tensor)];
    const constants = dropMask === null ? [] : [dropMask];
    const [out] = checkpoint(inputs, constants, run, this.trainableVariables(), () => this.reset());
    return out as tf.Tensor2D;
  }

  /** One timestep from the stem's output to the population outputs [batch, classes x pop]. */
  private step(
    stem: tf.Tensor4D,
    ctx: ForwardContext,
    feedback: boolean,
    dropMask: tf.Tensor2D | null,
  ): tf.Tensor2D {
    const batch = stem.shape[0];
    let y = this.cell1.step(stem, ctx, feedback);
    y = this.downBnIn.apply(y, ctx);
    y = tf.conv2d(
      this.downLif.step(y, ctx.observe) as tf.Tensor4D,
      this.downWeight as tf.Tensor4D,
      1,
      'same',
    );
    y = tf.avgPool(this.downBnOut.apply(y, ctx), 2, 2, 'valid');
    y = this.cell2.step(y, ctx, feedback);
    y = this.headLif.step(this.headBn.apply(y, ctx), ctx.observe) as tf.Tensor4D;
    const p = this.config.secondPool;
    const pooled = p === 1 ? y : tf.avgPool(y, p, p, 'valid');
    let flat = tf.reshape(pooled, [batch, this.shape.flat]) as tf.Tensor2D;
    if (dropMask) flat = tf.mul(flat, dropMask);
    const hidden = this.hiddenLif.step(
      tf.matMul(flat, this.hiddenWeight as tf.Tensor2D),
      ctx.observe,
    ) as tf.Tensor2D;
    return tf.add(tf.matMul(hidden, this.outWeight as tf.Tensor2D), this.outBias) as tf.Tensor2D;
  }

  trainableVariables(): tf.Variable[] {
    return [...this.store.trainable.values()];
  }

  trainableNames(): string[] {
    return [...this.store.trainable.keys()];
  }

  getWeights(): tf.NamedTensorMap {
    const named: tf.NamedTensorMap = {};
    for (const [name, v] of [...this.store.trainable, ...this.store.state]) named[name] = v;
    return named;
  }

  setWeights(weights: tf.NamedTensorMap): void {
    const all = new Map([...this.store.trainable, ...this.store.state]);
    for (const name of all.keys()) {
      if (!(name in weights))
        throw new InputError('weights', `missing tensor ${name}`, 'weights of this arch/config');
    }
    for (const [name, value] of Object.entries(weights)) {
      const target = all.get(name);
      if (target === undefined)
        throw new InputError('weights', `unknown tensor ${name}`, 'weights of this arch/config');
      if (!tf.util.arraysEqual(target.shape, value.shape)) {
        throw new InputError(
          'weights',
          `${name} has shape ${value.shape}, expected ${target.shape}`,
          'matching shapes',
        );
      }
      target.assign(value);
    }
  }

  dispose(): void {
    this.store.dispose();
  }

  private reset(): void {
    this.cell1.reset();
    this.cell2.reset();
    for (const lif of [this.downLif, this.headLif, this.hiddenLif]) lif.reset();
  }
}
