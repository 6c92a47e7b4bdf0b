/**
 * One measurement of `npm run bench`, in its own process so that its peak RSS is its own and a backend
 * that aborts (wasm past its 4 GiB heap) takes only this measurement down. Prints one JSON line (a
 * ChildLine) on stdout; on failure, a `bench-error: <message>` line on stderr and exit code 1.
 *
 *   node dist/bench/measure.js gemm --backend tensorflow
 *   node dist/bench/measure.js forward --backend wasm --preset fmnist-tiny --batch 32
 *   node dist/bench/measure.js train --preset fmnist-small --arch "0302 0023 0002 0000" --cell-type forward --step-by-step
 *   node dist/bench/measure.js sahd --preset fmnist-small --candidates 8 --step-by-step
 *   node dist/bench/measure.js busy-train --preset fmnist-tiny --batch 64 --steps 20 --gate
 *
 * `--step-by-step` on forward, train and sahd also times the per-timestep path (ForwardOptions.stepByStep)
 * on a network with the same weights, alternating with the default path; on busy-* it times that path
 * alone. `--gate` (busy-*): after the warm-up, print `ready` and wait for a `go` line on stdin, so that the
 * driver starts every busy process's timed work at once.
 */

import { createInterface } from 'node:readline';
import * as tf from '@tensorflow/tfjs-core';
import { Argument, Command, InvalidArgumentError, Option } from 'commander';
import { scoreSahd } from '../search/predictors/sahd.js';
import { sampleCandidates } from '../search/space/sample.js';
import { BACKEND_CHOICES, type BackendInfo, initBackend } from '../snn/backend.js';
import type { Arch } from '../snn/cell-matrix.js';
import type { CellType } from '../snn/config.js';
import { nativeKernelsRun } from '../snn/kernels/native-ops.js';
import { buildNetwork, type ForwardOptions } from '../snn/network.js';
import { resolvePreset } from '../snn/presets.js';
import { DEFAULT_SGD, sgdStep } from '../snn/train.js';
import {
  benchNet,
  type ChildLine,
  type ChildResult,
  IMAGE_SEED,
  median,
  type PathTiming,
  PLANS,
  peakRssMiB,
  randomImages,
  SAHD_BATCH,
  SAHD_REPEATS,
  SAHD_SAMPLE_SEED,
  SNASNET_CELL,
} from './workload.js';

const KINDS = ['gemm', 'forward', 'train', 'sahd', 'busy-train', 'busy-sahd'] as const;
type Kind = (typeof KINDS)[number];
const CELL_TYPES: CellType[] = ['backward', 'forward'];

interface Options {
  backend?: string;
  preset: string;
  arch: string;
  cellType: CellType;
  batch?: number;
  reps?: number;
  steps: number;
  candidates?: number;
  warmupBatch?: number;
  size: number;
  stepByStep?: boolean;
  gate?: boolean;
}

type Path = Pick<ForwardOptions, 'stepByStep'>;
const DEFAULT_PATH: Path = {};
const STEP_BY_STEP: Path = { stepByStep: true };

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

/** Tells the driver this process is warm, then waits for its `go` line (busy-* with --gate). */
async function awaitGo(): Promise<void> {
  process.stdout.write('ready\n');
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line.trim() === 'go') break;
  }
  lines.close();
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

/**
 * Kernels the backend ran for `run`: tf.profile's list, without the entries that are tfjs scopes such as
 * custom-gradient wrappers rather than kernels of the backend, plus spikenas' native kernels, which
 * tf.profile does not name.
 */
async function countKernels(run: () => tf.Tensor): Promise<number> {
  const nativeBefore = nativeKernelsRun();
  const profile = await tf.profile(run);
  tf.dispose(profile.result);
  const backend = tf.getBackend();
  const tfjsKernels = profile.kernels.filter((k) => tf.getKernel(k.name, backend) !== undefined).length;
  return tfjsKernels + nativeKernelsRun() - nativeBefore;
}

/** One network on one path, ready to run inference forwards or training steps on a fixed batch. */
interface Runner {
  /** One forward or training step, inside tf.tidy; returns the output or loss. */
  run: () => tf.Tensor;
  params: number;
  dispose: () => void;
}

function runner(kind: 'forward' | 'train', options: Options, batch: number, path: Path): Runner {
  const { arch, config } = benchNet(options.preset, { arch: options.arch, cellType: options.cellType });
  const net = buildNetwork(arch, config, 3);
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
  const buffers =
    kind === 'train' ? net.trainableVariables().map((v) => tf.variable(tf.zerosLike(v), false)) : [];
  let step = 0;
  const run =
    kind === 'forward'
      ? () => tf.tidy(() => net.forward(x, { ...path, training: false }))
      : () => tf.tidy(() => sgdStep(net, x, labels, buffers, DEFAULT_SGD, step++, path));
  return {
    run,
    params: net.countParams(),
    dispose: () => {
      tf.dispose([x, labels, ...buffers]);
      net.dispose();
    },
  };
}

async function once(r: Runner): Promise<void> {
  const out = r.run();
  await out.data();
  out.dispose();
}

/**
 * Median ms of `reps` inference forwards or training steps, after one warm-up, and the kernels of one;
 * with --step-by-step, the same for the per-timestep path on a second network with the same weights,
 * the two paths alternating rep by rep.
 */
async function network(
  kind: 'forward' | 'train',
  backend: BackendInfo,
  options: Options,
  batch: number,
  reps: number,
): Promise<ChildResult> {
  const paths = options.stepByStep ? [DEFAULT_PATH, STEP_BY_STEP] : [DEFAULT_PATH];
  const runners = paths.map((path) => runner(kind, options, batch, path));
  try {
    for (const r of runners) await once(r);
    const times: number[][] = runners.map(() => []);
    for (let rep = 0; rep < reps; rep++) {
      for (const [i, r] of runners.entries()) times[i]?.push(await timeMs(() => once(r)));
    }
    const timings: PathTiming[] = [];
    for (const [i, r] of runners.entries()) {
      timings.push({ ms: median(times[i] as number[]), kernels: await countKernels(r.run) });
    }
    const [timing, stepByStep] = timings as [PathTiming, PathTiming | undefined];
    return {
      kind,
      backend,
      preset: options.preset,
      arch: options.arch,
      cellType: options.cellType,
      batch,
      params: (runners[0] as Runner).params,
      ...timing,
      ...(stepByStep === undefined ? {} : { stepByStep }),
    };
  } finally {
    for (const r of runners) r.dispose();
  }
}

/** The seeded SAHD sample and its batch-256 images, and a scoring of candidate k on a path. */
function sahdWork(preset: string, count: number) {
  const config = resolvePreset(preset);
  const archs = sampleCandidates(SAHD_SAMPLE_SEED, count, { distinct: false });
  const batches = Array.from({ length: SAHD_REPEATS }, (_, k) =>
    randomImages(IMAGE_SEED + k, SAHD_BATCH, config),
  );
  const warmUp = (batch: number, path: Path) =>
    scoreSahd(archs[0] as Arch, config, [randomImages(IMAGE_SEED, batch, config)], batch, 0, path);
  const score = (k: number, path: Path) =>
    scoreSahd(archs[k] as Arch, config, batches, SAHD_BATCH, k, path).then(() => undefined);
  return { archs, warmUp, score };
}

/**
 * Seconds to score a fixed seeded sample with SAHD at batch 256, 2 repeats, after one smaller warm-up;
 * with --step-by-step, also on the per-timestep path, the two paths alternating candidate by candidate.
 */
async function sahd(backend: BackendInfo, options: Options, count: number, warmupBatch: number) {
  const work = sahdWork(options.preset, count);
  const paths = options.stepByStep ? [DEFAULT_PATH, STEP_BY_STEP] : [DEFAULT_PATH];
  for (const path of paths) await work.warmUp(warmupBatch, path);
  const ms = paths.map(() => 0);
  for (const k of work.archs.keys()) {
    for (const [i, path] of paths.entries())
      ms[i] = (ms[i] as number) + (await timeMs(() => work.score(k, path)));
  }
  const [seconds, stepByStep] = ms.map((m) => m / 1000) as [number, number | undefined];
  return {
    kind: 'sahd',
    backend,
    preset: options.preset,
    candidates: count,
    seconds,
    ...(stepByStep === undefined ? {} : { stepByStep: { seconds: stepByStep } }),
  } satisfies ChildResult;
}

/**
 * One of the processes that keep the machine busy: `steps` training steps at `batch`, or the SAHD sample
 * once, on one path, timed from the common start (--gate).
 */
async function busy(
  kind: 'busy-train' | 'busy-sahd',
  backend: BackendInfo,
  options: Options,
  p: (typeof PLANS)[number],
): Promise<ChildResult> {
  const path = options.stepByStep ? STEP_BY_STEP : DEFAULT_PATH;
  let work: () => Promise<void>;
  let items: number;
  let dispose = () => {};
  if (kind === 'busy-train') {
    const batch = options.batch ?? p.busy?.trainBatch ?? (p.batches[0] as number);
    const r = runner('train', options, batch, path);
    await once(r);
    dispose = r.dispose;
    items = batch * options.steps;
    work = async () => {
      for (let step = 0; step < options.steps; step++) await once(r);
    };
  } else {
    const count = options.candidates ?? p.sahdCandidates;
    const sample = sahdWork(options.preset, count);
    await sample.warmUp(options.warmupBatch ?? p.sahdWarmupBatch, path);
    items = count;
    work = async () => {
      for (const k of sample.archs.keys()) await sample.score(k, path);
    };
  }
  try {
    if (options.gate) await awaitGo();
    const seconds = (await timeMs(work)) / 1000;
    return { kind, backend, preset: options.preset, items, seconds };
  } finally {
    dispose();
  }
}

async function measure(kind: Kind, options: Options): Promise<ChildResult> {
  // initBackend reads SPIKENAS_BACKEND; the driver sets it too, this makes the child usable on its own.
  if (options.backend !== undefined) process.env.SPIKENAS_BACKEND = options.backend;
  const backend = await initBackend();
  if (kind === 'gemm') return gemm(backend, options.size, options.reps ?? 5);
  const p = plan(options.preset);
  switch (kind) {
    case 'sahd':
      return sahd(
        backend,
        options,
        options.candidates ?? p.sahdCandidates,
        options.warmupBatch ?? p.sahdWarmupBatch,
      );
    case 'busy-train':
    case 'busy-sahd':
      return busy(kind, backend, options, p);
    default:
      return network(
        kind,
        backend,
        options,
        options.batch ?? (p.batches[0] as number),
        options.reps ?? p.reps,
      );
  }
}

const program = new Command('measure')
  .description('one measurement of npm run bench, printed as one JSON line')
  .addArgument(new Argument('<kind>', 'what to measure').choices(KINDS))
  .addOption(new Option('--backend <name>', 'tfjs backend (sets SPIKENAS_BACKEND)').choices(BACKEND_CHOICES))
  .option('--preset <name>', 'network preset', 'fmnist-tiny')
  .option('--arch <matrix>', 'cell of forward / train / busy-train', SNASNET_CELL)
  .addOption(
    new Option('--cell-type <type>', 'cell type of that network').choices(CELL_TYPES).default('backward'),
  )
  .option('--batch <n>', 'batch of forward / train / busy-train', positiveInt)
  .option('--reps <n>', 'timed repetitions after the warm-up', positiveInt)
  .option('--steps <n>', 'training steps of busy-train', positiveInt, 10)
  .option('--candidates <n>', 'SAHD candidates to score', positiveInt)
  .option('--warmup-batch <n>', 'batch of the untimed SAHD warm-up scoring', positiveInt)
  .option('--size <n>', 'matMul size of gemm (n x n times n x n)', positiveInt, 2048)
  .option('--step-by-step', 'also time the per-timestep path (busy-*: time it alone)')
  .option('--gate', "busy-*: print 'ready' after the warm-up and start on a 'go' line on stdin")
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
