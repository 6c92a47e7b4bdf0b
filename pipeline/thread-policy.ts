/**
 * How a worker spends its cores on heavy steps, by network size and by whether the step has siblings.
 * A small network's kernels are too small to split well across threads, so a step that comes in shards
 * (impact pairs, score shards) runs one TensorFlow thread per process and one process per core, each
 * process a shard of its own: two one-thread processes train fmnist-small at 318 images/s together, one
 * two-thread process at 211 (batch 64, 2 cores, native ops; bench/results/runtime-2026-12-07-tensorflow-
 * native-ops.json and the lone-step timing below). A step that runs alone (the winner's training,
 * quantize-evaluate) takes every core in one process: fmnist-small's training step is 304 ms on two
 * threads against 379 ms on one (fmnist-tiny's 156 against 153). A CIFAR-size network's convolutions split
 * well, and a second copy of its activations would double the largest memory: one process, every core.
 */
import { availableParallelism } from 'node:os';
import { InputError } from '../common/errors.js';
import type { NetConfig } from '../snn/config.js';

export type NetworkSize = 'small' | 'large';

/** 'sharded': the step is one of several that run at once (impact and score shards); 'alone': it is not. */
export type StepShape = 'sharded' | 'alone';

export interface ThreadPolicy {
  network: NetworkSize;
  step: StepShape;
  /** Heavy steps that run at once, each in a process of its own. */
  processes: number;
  /** TensorFlow's intra-op threads in each of those processes. */
  intraOpThreads: number;
  /** 'auto', or the environment variable that set it. */
  source: 'auto' | typeof POLICY_ENV;
}

export const POLICY_ENV = 'SPIKENAS_THREAD_POLICY';

/**
 * Above this many activations per image in the widest layer (cell 1: input height and width over the stem
 * stride, times its channels), a network counts as large: fmnist-small has 3,136, SNASNet's CIFAR-10
 * network 262,144.
 */
const LARGE_ACTIVATIONS = 32_768;

export function networkSize(config: NetConfig): NetworkSize {
  const [height, width] = config.inputShape;
  const cell1 =
    Math.ceil(height / config.stemStride) * Math.ceil(width / config.stemStride) * config.stemChannels;
  return cell1 > LARGE_ACTIVATIONS ? 'large' : 'small';
}

/**
 * The policy for a step of a network on this machine. SPIKENAS_THREAD_POLICY overrides it: `small` or
 * `large` (that size class's policy), or `<processes>x<threads>` for every step, e.g. `2x1` or `1x2`.
 */
export function threadPolicy(
  config: NetConfig,
  shape: StepShape,
  cores = availableParallelism(),
  env: NodeJS.ProcessEnv = process.env,
): ThreadPolicy {
  const override = env[POLICY_ENV];
  if (override === undefined || override === '') return sizePolicy(networkSize(config), shape, cores, 'auto');
  if (override === 'small' || override === 'large') return sizePolicy(override, shape, cores, POLICY_ENV);
  const match = /^([1-9]\d*)x([1-9]\d*)$/.exec(override);
  if (match === null) {
    throw new InputError(
      POLICY_ENV,
      `'${override}' is not a thread policy`,
      'small, large, <processes>x<threads> (e.g. 2x1)',
    );
  }
  return {
    network: networkSize(config),
    step: shape,
    processes: Number(match[1]),
    intraOpThreads: Number(match[2]),
    source: POLICY_ENV,
  };
}

function sizePolicy(
  network: NetworkSize,
  shape: StepShape,
  cores: number,
  source: ThreadPolicy['source'],
): ThreadPolicy {
  return network === 'small' && shape === 'sharded'
    ? { network, step: shape, processes: cores, intraOpThreads: 1, source }
    : { network, step: shape, processes: 1, intraOpThreads: cores, source };
}

/** One line for logs and reports. */
export function describeThreadPolicy(policy: ThreadPolicy): string {
  const processes = policy.processes === 1 ? '1 process' : `${policy.processes} processes`;
  const threads =
    policy.intraOpThreads === 1 ? '1 TensorFlow thread' : `${policy.intraOpThreads} TensorFlow threads`;
  const by =
    policy.source === 'auto'
      ? `${policy.network} network, ${policy.step === 'alone' ? 'step alone' : 'sharded step'}`
      : policy.source;
  return `${processes} x ${threads} (${by})`;
}
