/**
 * One JSON object on stdout: the SNN runtime's speed on this machine for the fmnist presets
 * (SAHD candidates per second, forward and forward+backward ms per batch, forward GFLOP/s) and the
 * memory model's estimates per second. Run once: `npm run bench`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../common/rng.js';
import { archEdges, pruneArch, sampleArch } from '../search/arch.js';
import type { Arch } from '../search/arch.types.js';
import { estimateMemory, spatialSizes } from '../search/memory.js';
import { initBackend } from '../snn/backend.js';
import type { NetConfig } from '../snn/config.js';
import { buildNetwork } from '../snn/network.js';
import { resolvePreset } from '../snn/presets.js';
import { scoreSahd } from '../snn/score.js';

const CONFIGS = ['fmnist-tiny', 'fmnist-small'];
const SCORE_BATCH = 64;
const STEP_BATCH = 32;
const SCORED = 12;
const REPS = 5;

function candidates(seed: number, count: number): Arch[] {
  const rng = new Rng(seed);
  const out: Arch[] = [];
  while (out.length < count) {
    const pruned = pruneArch(sampleArch(rng, [1, 2, 3, 4], 'backward'));
    if (pruned) out.push(pruned);
  }
  return out;
}

function randomImages(seed: number, count: number, config: NetConfig): Float32Array {
  const rng = new Rng(seed);
  const [h, w, c] = config.inputShape;
  return Float32Array.from({ length: count * h * w * c }, () => rng.next() * 2 - 1);
}

/** Multiply-adds x 2 of every conv and linear layer over T timesteps (the stem runs once). */
function forwardFlops(arch: Arch, config: NetConfig, batch: number): number {
  const { cell1, cell2, head } = spatialSizes(config);
  const c = config.stemChannels;
  const area1 = cell1[0] * cell1[1];
  const area2 = cell2[0] * cell2[1];
  const kernelArea = (op: number) => (op === 3 ? 9 : op === 2 ? 1 : 0);
  const cellMacs = (channels: number, area: number) =>
    archEdges(arch).reduce((sum, e) => sum + kernelArea(e.op) * channels * channels * area, 0);
  const flat = 2 * c * head[0] * head[1];
  const outputs = config.numClasses * config.populationSize;
  const perStep =
    cellMacs(c, area1) +
    9 * c * 2 * c * area1 +
    cellMacs(2 * c, area2) +
    flat * config.classifierHidden +
    config.classifierHidden * outputs;
  const stem = 9 * config.inputShape[2] * c * area1;
  return 2 * batch * (stem + config.timesteps * perStep);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

async function benchConfig(name: string): Promise<Record<string, number | string>> {
  const config = resolvePreset(name);
  const archs = candidates(1, SCORED);
  const scoreBatch = randomImages(2, SCORE_BATCH, config);
  await scoreSahd(archs[0] as Arch, config, [scoreBatch], SCORE_BATCH, 0);
  let started = performance.now();
  for (const [k, arch] of archs.entries()) await scoreSahd(arch, config, [scoreBatch], SCORE_BATCH, k);
  const sahdPerSecond = SCORED / ((performance.now() - started) / 1000);

  const arch = archs[0] as Arch;
  const net = buildNetwork(arch, config, 3);
  const [h, w, c] = config.inputShape;
  const x = tf.tensor4d(randomImages(4, STEP_BATCH, config), [STEP_BATCH, h, w, c]);
  const labels = tf.oneHot(
    tf.tensor1d(
      Array.from({ length: STEP_BATCH }, (_, i) => i % config.numClasses),
      'int32',
    ),
    config.numClasses,
  );
  const forwardMs: number[] = [];
  const stepMs: number[] = [];
  for (let rep = 0; rep <= REPS; rep++) {
    started = performance.now();
    const out = tf.tidy(() => net.forward(x, { training: false }));
    await out.data();
    out.dispose();
    const forward = performance.now() - started;
    started = performance.now();
    const { value, grads } = tf.variableGrads(() => {
      const logits = net.forward(x, { training: true, dropoutSeed: rep });
      return tf.neg(tf.mean(tf.sum(tf.mul(labels, tf.logSoftmax(logits)), 1))) as tf.Scalar;
    }, net.trainableVariables());
    await value.data();
    tf.dispose([value, ...Object.values(grads)]);
    const step = performance.now() - started;
    if (rep > 0) {
      forwardMs.push(forward);
      stepMs.push(step);
    }
  }
  tf.dispose([x, labels]);
  net.dispose();
  const forward = median(forwardMs);
  return {
    config: name,
    params: estimateMemory(arch, config, { weightBits: 32 }).params,
    sahdCandidatesPerSecond: Number(sahdPerSecond.toFixed(2)),
    forwardMsPerBatch32: Number(forward.toFixed(1)),
    forwardBackwardMsPerBatch32: Number(median(stepMs).toFixed(1)),
    forwardGflops: Number((forwardFlops(arch, config, STEP_BATCH) / (forward / 1000) / 1e9).toFixed(3)),
  };
}

function memoryEstimatesPerSecond(): number {
  const config = resolvePreset('fmnist-tiny');
  const archs = candidates(5, 2000);
  const started = performance.now();
  let rounds = 0;
  while (performance.now() - started < 500) {
    for (const arch of archs) estimateMemory(arch, config, { weightBits: 8 });
    rounds++;
  }
  return Math.round((rounds * archs.length) / ((performance.now() - started) / 1000));
}

const backend = await initBackend();
const configs = [];
for (const name of CONFIGS) configs.push(await benchConfig(name));
process.stdout.write(
  `${JSON.stringify({ backend, configs, memoryEstimatesPerSecond: memoryEstimatesPerSecond() })}\n`,
);
