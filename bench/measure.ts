/**
 * One measurement of `npm run bench`, in its own process so that its peak RSS is its own and a backend
 * that aborts (wasm past its 4 GiB heap) takes only this measurement down. Prints one JSON line (a
 * ChildLine) on stdout; on failure, a `bench-error: <message>` line on stderr and exit code 1.
 *
 *   node dist/bench/measure.js gemm --backend tensorflow
 *   node dist/bench/measure.js forward --backend wasm --preset fmnist-tiny --batch 32
 *   node dist/bench/measure.js train --preset snasnet-cifar10 --batch 16 --reps 2
 *   node dist/bench/measure.js sahd --preset fmnist-small --candidates 8
 */
import * as tf from '@tensorflow/tfjs-core';
import { Argument, Command, InvalidArgumentError, Option } from 'commander';
import { scoreSahd } from '../search/predictors/sahd.js';
import { sampleCandidates } from '../search/space/sample.js';
import { BACKEND_CHOICES, type BackendInfo, initBackend } from '../snn/backend.js';
import type { Arch } from '../snn/cell-matrix.js';
import { buildNetwork } from '../snn/network.js';
import { resolvePreset } from '../snn/presets.js';
import { DEFAULT_SGD, sgdStep } from '../snn/train.js';
import {
  type ChildLine,
  type ChildResult,
  IMAGE_SEED,
  median,
  PLANS,
  peakRssMiB,
  randomImages,
  SAHD_BATCH,
  SAHD_REPEATS,
  SAHD_SAMPLE_SEED,
  snasnetCell,
} from './workload.js';

const KINDS = ['gemm', 'forward', 'train', 'sahd'] as const;
type Kind = (typeof KINDS)[number];

interface Options {
  backend?: string;
  preset: string;
  batch?: number;
  reps?: number;
  candidates?: number;
  warmupBatch?: number;
  size: number;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('not an integer >= 1');
  return n;
}

function plan(preset: string) {
  const found = PLANS.find((p) => p.preset === preset);
  if (found === undefined) throw new Error(`no bench plan for preset '${preset}'`);
  return found;
}

async function timeMs(run: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

async function gemm(backend: BackendInfo, size: number, reps: number): Promise<ChildResult> {
  const a = tf.randomUniform([size, size], -1, 1, 'float32', 1) as tf.Tensor2D;
  const b = tf.randomUniform([size, size], -1, 1, 'float32', 2) as tf.Tensor2D;
  const once = async () => {
    const c = tf.matMul(a, b);
    await c.data();
    c.dispose();
  };
  await once();
  const times: number[] = [];
  for (let rep = 0; rep < reps; rep++) times.push(await timeMs(once));
  tf.dispose([a, b]);
  const ms = median(times);
  return { kind: 'gemm', backend, size, reps, gemmMs: ms, gemmGflops: (2 * size ** 3) / (ms / 1000) / 1e9 };
}

/** Median ms of `reps` inference forwards or training steps of SNASNet's cell, after one warm-up. */
async function network(
  kind: 'forward' | 'train',
  backend: BackendInfo,
  preset: string,
  batch: number,
  reps: number,
): Promise<ChildResult> {
  const config = resolvePreset(preset);
  const net = buildNetwork(snasnetCell(), config, 3);
  const [h, w, c] = config.inputShape;
  const x = tf.tensor4d(randomImages(IMAGE_SEED, batch, config), [batch, h, w, c]);
  const labels = tf.tidy(() =>
    tf.oneHot(
      tf.tensor1d(
        Array.from({ length: batch }, (_, i) => i % config.numClasses),
        'int32',
      ),
      config.numClasses,
    ),
  );
  const variables = net.trainableVariables();
  const buffers = kind === 'train' ? variables.map((v) => tf.variable(tf.zerosLike(v), false)) : [];
  const forward = async () => {
    const out = tf.tidy(() => net.forward(x, { training: false }));
    await out.data();
    out.dispose();
  };
  let step = 0;
  const trainStep = async () => {
    const dropoutSeed = step++;
    const loss = tf.tidy(() => sgdStep(net, x, labels, buffers, DEFAULT_SGD, dropoutSeed));
    await loss.data();
    loss.dispose();
  };
  const once = kind === 'forward' ? forward : trainStep;
  try {
    await once();
    const times: number[] = [];
    for (let rep = 0; rep < reps; rep++) times.push(await timeMs(once));
    return { kind, backend, preset, batch, params: net.countParams(), ms: median(times) };
  } finally {
    tf.dispose([x, labels, ...buffers]);
    net.dispose();
  }
}

/** Seconds to score a fixed seeded sample with SAHD at batch 256, 2 repeats, after one smaller warm-up. */
async function sahd(
  backend: BackendInfo,
  preset: string,
  count: number,
  warmupBatch: number,
): Promise<ChildResult> {
  const config = resolvePreset(preset);
  const archs = sampleCandidates(SAHD_SAMPLE_SEED, count, { distinct: false });
  const batches = Array.from({ length: SAHD_REPEATS }, (_, k) =>
    randomImages(IMAGE_SEED + k, SAHD_BATCH, config),
  );
  await scoreSahd(archs[0] as Arch, config, [randomImages(IMAGE_SEED, warmupBatch, config)], warmupBatch, 0);
  const started = performance.now();
  for (const [k, arch] of archs.entries()) await scoreSahd(arch, config, batches, SAHD_BATCH, k);
  return { kind: 'sahd', backend, preset, candidates: count, seconds: (performance.now() - started) / 1000 };
}

async function measure(kind: Kind, options: Options): Promise<ChildResult> {
  // initBackend reads SPIKENAS_BACKEND; the driver sets it too, this makes the child usable on its own.
  if (options.backend !== undefined) process.env.SPIKENAS_BACKEND = options.backend;
  const backend = await initBackend();
  if (kind === 'gemm') return gemm(backend, options.size, options.reps ?? 5);
  const p = plan(options.preset);
  if (kind === 'sahd') {
    return sahd(
      backend,
      p.preset,
      options.candidates ?? p.sahdCandidates,
      options.warmupBatch ?? p.sahdWarmupBatch,
    );
  }
  return network(kind, backend, p.preset, options.batch ?? (p.batches[0] as number), options.reps ?? p.reps);
}

const program = new Command('measure')
  .description('one measurement of npm run bench, printed as one JSON line')
  .addArgument(new Argument('<kind>', 'what to measure').choices(KINDS))
  .addOption(new Option('--backend <name>', 'tfjs backend (sets SPIKENAS_BACKEND)').choices(BACKEND_CHOICES))
  .option('--preset <name>', 'network preset', 'fmnist-tiny')
  .option('--batch <n>', 'batch of forward / train', positiveInt)
  .option('--reps <n>', 'timed repetitions after the warm-up', positiveInt)
  .option('--candidates <n>', 'SAHD candidates to score', positiveInt)
  .option('--warmup-batch <n>', 'batch of the untimed SAHD warm-up scoring', positiveInt)
  .option('--size <n>', 'matMul size of gemm (n x n times n x n)', positiveInt, 2048)
  .action(async (kind: Kind, options: Options) => {
    try {
      const result = await measure(kind, options);
      const line: ChildLine = { ...result, peakRssMiB: peakRssMiB() };
      process.stdout.write(`${JSON.stringify(line)}\n`);
    } catch (error) {
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      process.stderr.write(`bench-error: ${message.split('\n')[0]}\n`);
      if (error instanceof Error && error.stack !== undefined) process.stderr.write(`${error.stack}\n`);
      process.exitCode = 1;
    }
  });

await program.parseAsync();
