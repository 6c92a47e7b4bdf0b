/**
 * `npm run -s bench [-- --backend wasm] [-- --preset fmnist-tiny --quick] [-- --out file.json]`: the SNN
 * runtime's speed and memory on this machine, as one JSON object on stdout and in --out (progress on
 * stderr; without -s, npm prints its own header lines to stdout first).
 *
 * Per backend: `gemmGflops` (a 2048x2048 float32 matMul, the ceiling the ratios use); `nets[]`, on each
 * preset at two batches, SNASNet's published (backward) cell and, on the fmnist presets, a forward cell:
 * inference forward and training step (forward in training mode + BPTT + a momentum-SGD update), their
 * GFLOP/s and ratio to `gemmGflops`, the tfjs kernels each runs, and peak RSS; `sahd[]`, SAHD candidates
 * per second over a fixed seeded sample at batch 256 with 2 repeats; `threads`. On the fmnist presets
 * every row also has `stepByStep`: the same figures on the per-timestep path (ForwardOptions.stepByStep),
 * same network, batch and weights, timed in the same process alternating with the default path. The first
 * backend also gets `machineThroughput`: SAHD candidates/s and training images/s with one process per core,
 * each on one TensorFlow thread, all started at once after their warm-up.
 *
 * Every measurement runs in its own child process (measure.ts): its peak RSS is its own, and a backend
 * that aborts (wasm past its 4 GiB heap) or a size that outgrows --max-rss-gib fails that measurement
 * only, recorded as `error`; so does one that leaves the shared machine under 1 GiB available, or outlasts
 * --timeout-min. By default the native backend runs everything and wasm the fmnist presets;
 * the native run's figures are the top-level fields, the others go to `otherBackends`.
 *
 * The --out file is rewritten after every measurement (`complete: false` until the end). Run again with
 * the same settings, the bench keeps what the file holds and measures only what is missing or failed.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { Command, InvalidArgumentError, Option } from 'commander';
import { machineIdentity } from '../common/machine.js';
import { estimateMemory } from '../search/space/memory.js';
import { sampleCandidates } from '../search/space/sample.js';
import { BACKEND_CHOICES, type BackendInfo } from '../snn/backend.js';
import type { Arch } from '../snn/cell-matrix.js';
import type { CellType } from '../snn/config.js';
import { resolvePreset } from '../snn/presets.js';
import { writeResultJson } from './result-json.js';
import {
  type BenchCell,
  benchNet,
  type ChildLine,
  forwardFlops,
  PLANS,
  type PresetPlan,
  peakRssMiB,
  round,
  SAHD_BATCH,
  SAHD_REPEATS,
  SAHD_SAMPLE_SEED,
  TRAIN_FLOPS_PER_FORWARD,
  WASM_DEFAULT_PRESETS,
} from './workload.js';

interface Flags {
  backend?: string;
  preset?: string[];
  quick?: boolean;
  maxRssGib: number;
  timeoutMin: number;
  out?: string;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('not a number > 0');
  return n;
}

const program = new Command('bench')
  .description('speed and memory of the SNN runtime, one JSON object on stdout and in --out')
  .addOption(
    new Option(
      '--backend <name>',
      'measure this backend only (default: tensorflow, then wasm where it fits)',
    ).choices(BACKEND_CHOICES),
  )
  .addOption(
    new Option('--preset <names...>', 'measure these presets only').choices(PLANS.map((p) => p.preset)),
  )
  .option('--quick', 'one timed rep, the smaller batch, fewer SAHD candidates (for developing the bench)')
  .option(
    '--max-rss-gib <n>',
    'kill a measurement whose RSS passes this, recording an error',
    positiveNumber,
    20,
  )
  .option('--timeout-min <n>', 'kill a measurement that runs longer, recording an error', positiveNumber, 60)
  .option(
    '--out <file>',
    'the JSON, written as measurements finish and resumed from (default: bench/results/runtime-<date>-<backend>.json; with --quick, in the temporary folder)',
  )
  .parse();
const flags = program.opts<Flags>();

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MEASURE = fileURLToPath(new URL('./measure.js', import.meta.url));

function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

interface ChildOutcome {
  line?: ChildLine;
  error?: string;
  peakRssMiB?: number;
}

/** VmRSS of a live process in MiB (Linux), or undefined. */
function rssMiB(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** MemAvailable of the machine in MiB (Linux), or undefined. */
function availableMiB(): number | undefined {
  try {
    const match = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** A measurement is stopped when the machine has less than this available (it is shared). */
const MIN_AVAILABLE_MIB = 1024;

/** The line of a failed child's stderr that says why: ours, else the first error-looking line, else the last. */
function failureLine(stderr: string, code: number | null, signal: string | null): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const ours = lines.find((l) => l.startsWith('bench-error: '));
  if (ours !== undefined) return ours.slice('bench-error: '.length);
  const why =
    lines.find((l) => /error|abort|out of memory/i.test(l) && !l.startsWith('at ')) ??
    lines.at(-1) ??
    'no output';
  return `${why} (exit ${signal ?? code})`;
}

/** A child that waits for its `go` line after the warm-up (measure.ts --gate). */
interface Gate {
  /** Called when the child has printed `ready`. */
  onReady: () => void;
  /** Resolves when the child may start. */
  go: Promise<void>;
}

interface ChildSettings {
  env?: Record<string, string>;
  gate?: Gate;
}

/** Measuring children still running: a bench that is stopped stops them too (what --out holds stays). */
const running = new Set<ChildProcess>();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const child of running) child.kill('SIGKILL');
    process.exit(130);
  });
}

async function runChild(
  backend: string,
  args: string[],
  label: string,
  settings: ChildSettings = {},
): Promise<ChildOutcome> {
  const started = performance.now();
  const { gate } = settings;
  const child = spawn(process.execPath, [MEASURE, ...args, '--backend', backend], {
    env: { ...process.env, ...settings.env, SPIKENAS_BACKEND: backend },
    stdio: 'pipe',
  });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    if (gate !== undefined && /^ready$/m.test(stdout)) gate.onReady();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  // A child that ended before `go` cannot read it: ignore the broken pipe.
  child.stdin.on('error', () => {});
  if (gate === undefined) child.stdin.end();
  else gate.go.then(() => child.stdin.end('go\n'));
  let killedFor: string | undefined;
  let polledPeak = 0;
  const kill = (why: string) => {
    if (killedFor !== undefined) return;
    killedFor = why;
    child.kill('SIGKILL');
  };
  const limitMiB = flags.maxRssGib * 1024;
  const poll = setInterval(() => {
    const rss = child.pid === undefined ? undefined : rssMiB(child.pid);
    if (rss === undefined) return;
    polledPeak = Math.max(polledPeak, rss);
    const available = availableMiB();
    if (available !== undefined && available < MIN_AVAILABLE_MIB) {
      kill(
        `killed by the bench: RSS ${Math.round(rss)} MiB, machine down to ${Math.round(available)} MiB available`,
      );
    }
    if (rss > limitMiB)
      kill(`killed by the bench: RSS ${Math.round(rss)} MiB passed --max-rss-gib ${flags.maxRssGib}`);
  }, 200);
  const timeout = setTimeout(
    () => kill(`killed by the bench: still running after --timeout-min ${flags.timeoutMin}`),
    flags.timeoutMin * 60_000,
  );
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => {
    child.on('error', (error) => {
      stderr += `bench-error: ${error.message}\n`;
      resolve([null, null]);
    });
    child.on('close', (c, s) => resolve([c, s]));
  });
  running.delete(child);
  clearInterval(poll);
  clearTimeout(timeout);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const last = stdout.trim().split('\n').at(-1) ?? '';
  let outcome: ChildOutcome;
  if (killedFor === undefined && code === 0 && last.startsWith('{')) {
    const line = JSON.parse(last) as ChildLine;
    outcome = { line, peakRssMiB: line.peakRssMiB };
  } else {
    outcome = { error: killedFor ?? failureLine(stderr, code, signal), peakRssMiB: Math.round(polledPeak) };
  }
  log(`${backend} ${label}: ${outcome.error === undefined ? 'ok' : outcome.error} (${seconds} s)`);
  return outcome;
}

/** The processes of a machine-throughput measurement: one per core, one TensorFlow thread each. */
const BUSY_PROCESSES = availableParallelism();
const BUSY_ENV = { TF_NUM_INTRAOP_THREADS: '1', TF_NUM_INTEROP_THREADS: '1' };

/**
 * Runs the same measurement in BUSY_PROCESSES children at once: each warms up, and all start their timed
 * work together once every one is ready (or has failed).
 */
async function runBusy(backend: string, args: string[], label: string): Promise<ChildOutcome[]> {
  let release = () => {};
  const go = new Promise<void>((resolve) => {
    release = resolve;
  });
  let waiting = BUSY_PROCESSES;
  const arrive = () => {
    waiting--;
    if (waiting === 0) release();
  };
  return Promise.all(
    Array.from({ length: BUSY_PROCESSES }, (_, i) => {
      let arrived = false;
      const once = () => {
        if (arrived) return;
        arrived = true;
        arrive();
      };
      return runChild(backend, [...args, '--gate'], `${label} (process ${i + 1} of ${BUSY_PROCESSES})`, {
        env: BUSY_ENV,
        gate: { onReady: once, go },
      }).finally(once);
    }),
  );
}

const gflops = (flops: number, ms: number) => flops / (ms / 1000) / 1e9;
const ratio = (achieved: number | null, ceiling: number | null) =>
  achieved === null || ceiling === null ? null : round(achieved / ceiling, 3);

/** The per-timestep path's figures of a net row, timed in the same process as the row. */
interface StepByStepFigures {
  forwardMs: number | null;
  trainStepMs: number | null;
  kernelsPerForward: number | null;
  kernelsPerTrainStep: number | null;
}

interface NetFigures {
  preset: string;
  arch: string;
  cellType: CellType;
  batch: number;
  params: number;
  reps: number;
  forwardMs: number | null;
  forwardGflops: number | null;
  forwardGemmRatio: number | null;
  trainStepMs: number | null;
  trainGflops: number | null;
  trainGemmRatio: number | null;
  kernelsPerForward: number | null;
  kernelsPerTrainStep: number | null;
  stepByStep?: StepByStepFigures;
  /** The larger of the two processes' peaks: in practice the training step's. */
  peakRssMiB: number | null;
  forwardPeakRssMiB: number | null;
  trainPeakRssMiB: number | null;
  error?: string;
}

interface SahdFigures {
  preset: string;
  batch: number;
  repeats: number;
  candidates: number;
  sampleSeed: number;
  candidatesPerSecond: number | null;
  seconds: number | null;
  stepByStep?: { candidatesPerSecond: number | null; seconds: number | null };
  peakRssMiB: number | null;
  error?: string;
}

/** A rate of all busy processes together: their items over the time the slowest took. */
interface BusyRate {
  perSecond: number | null;
  seconds: number | null;
}

interface BusySahd {
  preset: string;
  batch: number;
  repeats: number;
  sampleSeed: number;
  /** Each process scores the whole sample. */
  candidatesPerProcess: number;
  candidatesPerSecond: number | null;
  seconds: number | null;
  stepByStep: { candidatesPerSecond: number | null; seconds: number | null };
  error?: string;
}

interface BusyTraining {
  preset: string;
  arch: string;
  cellType: CellType;
  batch: number;
  stepsPerProcess: number;
  imagesPerSecond: number | null;
  seconds: number | null;
  stepByStep: { imagesPerSecond: number | null; seconds: number | null };
  error?: string;
}

interface MachineThroughput {
  threads: Threads;
  sahd: BusySahd[];
  training: BusyTraining[];
}

/** TensorFlow intra-op threads of each process, and how many processes computed at once. */
interface Threads {
  intraOp: number | null;
  processes: number;
}

interface BackendRun {
  backend: BackendInfo | { name: string; error: string };
  threads: Threads;
  gemmGflops: number | null;
  gemmError?: string;
  nets: NetFigures[];
  sahd: SahdFigures[];
  machineThroughput?: MachineThroughput;
  /** Largest peak RSS of this backend's measurements. */
  peakRssMiB: number;
}

function effectivePlan(plan: PresetPlan): PresetPlan {
  if (!flags.quick) return plan;
  return {
    ...plan,
    batches: plan.batches.slice(0, 1),
    reps: 1,
    sahdCandidates: Math.min(2, Math.ceil(plan.sahdCandidates / 4)),
    ...(plan.busy === undefined ? {} : { busy: { ...plan.busy, trainSteps: 2 } }),
  };
}

const selected = flags.preset ?? PLANS.map((p) => p.preset);
const schedule: [string, string[]][] = (
  flags.backend !== undefined
    ? [[flags.backend, selected]]
    : [
        ['tensorflow', selected],
        ['wasm', selected.filter((p) => WASM_DEFAULT_PRESETS.includes(p))],
      ]
).filter(([, presets]) => presets.length > 0) as [string, string[]][];

/** What decides which measurements a results file holds: a file with other settings is not resumed. */
const settings = { quick: flags.quick === true, schedule, busyProcesses: BUSY_PROCESSES };

const today = new Date().toISOString().slice(0, 10);
const outFile = resolve(
  flags.out ??
    (flags.quick
      ? join(tmpdir(), `spikenas-bench-quick-${today}-${schedule[0]?.[0]}.json`)
      : join(ROOT, 'bench', 'results', `runtime-${today}-${schedule[0]?.[0]}.json`)),
);

/** What --out holds: the first backend's run at the top level, as on stdout. */
type BenchFile = BackendRun & { date: string; settings: typeof settings; otherBackends: BackendRun[] };

/** An earlier bench with the same settings in --out: when it began, and its runs by backend name. */
function earlierBench(): { date?: string; runs: Map<string, BackendRun> } {
  const runs = new Map<string, BackendRun>();
  if (!existsSync(outFile)) return { runs };
  const file = JSON.parse(readFileSync(outFile, 'utf8')) as BenchFile;
  if (!isDeepStrictEqual(file.settings, settings)) {
    log(`${outFile} holds a bench with other settings: measuring everything and replacing it`);
    return { runs };
  }
  for (const run of [file, ...file.otherBackends]) runs.set(run.backend.name, run);
  log(`resuming ${outFile}: keeping its measurements without an error`);
  return { date: file.date, runs };
}
const earlier = earlierBench();

async function netFigures(
  backend: string,
  plan: PresetPlan,
  cell: BenchCell,
  batch: number,
  ceiling: number | null,
): Promise<{ figures: NetFigures; backends: (BackendInfo | undefined)[] }> {
  const { arch, config } = benchNet(plan.preset, cell);
  const flops = forwardFlops(arch, config, batch);
  const args = [
    ...['--preset', plan.preset, '--arch', cell.arch, '--cell-type', cell.cellType],
    ...['--batch', String(batch), '--reps', String(plan.reps)],
    ...(plan.stepByStep ? ['--step-by-step'] : []),
  ];
  const what = `${plan.preset} ${cell.cellType} cell batch ${batch}`;
  const forward = await runChild(backend, ['forward', ...args], `forward ${what}`);
  const train = await runChild(backend, ['train', ...args], `train ${what}`);
  const forwardLine = forward.line?.kind === 'forward' ? forward.line : undefined;
  const trainLine = train.line?.kind === 'train' ? train.line : undefined;
  const forwardMs = forwardLine?.ms ?? null;
  const trainStepMs = trainLine?.ms ?? null;
  const forwardGflops = forwardMs === null ? null : gflops(flops, forwardMs);
  const trainGflops = trainStepMs === null ? null : gflops(TRAIN_FLOPS_PER_FORWARD * flops, trainStepMs);
  const peaks = [forward.peakRssMiB, train.peakRssMiB].filter((p): p is number => p !== undefined && p > 0);
  const errors = [
    forward.error === undefined ? [] : [`forward: ${forward.error}`],
    train.error === undefined ? [] : [`train: ${train.error}`],
  ].flat();
  const ms = (value: number | undefined) => (value === undefined ? null : round(value, 1));
  const figures: NetFigures = {
    preset: plan.preset,
    arch: cell.arch,
    cellType: cell.cellType,
    batch,
    params: forwardLine?.params ?? estimateMemory(arch, config, { weightBits: 32 }).params,
    reps: plan.reps,
    forwardMs: ms(forwardLine?.ms),
    forwardGflops: forwardGflops === null ? null : round(forwardGflops, 2),
    forwardGemmRatio: ratio(forwardGflops, ceiling),
    trainStepMs: ms(trainLine?.ms),
    trainGflops: trainGflops === null ? null : round(trainGflops, 2),
    trainGemmRatio: ratio(trainGflops, ceiling),
    kernelsPerForward: forwardLine?.kernels ?? null,
    kernelsPerTrainStep: trainLine?.kernels ?? null,
    ...(plan.stepByStep
      ? {
          stepByStep: {
            forwardMs: ms(forwardLine?.stepByStep?.ms),
            trainStepMs: ms(trainLine?.stepByStep?.ms),
            kernelsPerForward: forwardLine?.stepByStep?.kernels ?? null,
            kernelsPerTrainStep: trainLine?.stepByStep?.kernels ?? null,
          },
        }
      : {}),
    peakRssMiB: peaks.length === 0 ? null : Math.max(...peaks),
    forwardPeakRssMiB: forward.peakRssMiB ?? null,
    trainPeakRssMiB: train.peakRssMiB ?? null,
  };
  if (errors.length > 0) figures.error = errors.join('; ');
  return { figures, backends: [forward.line?.backend, train.line?.backend] };
}

async function sahdFigures(backend: string, plan: PresetPlan) {
  const outcome = await runChild(
    backend,
    [
      ...['sahd', '--preset', plan.preset, '--candidates', String(plan.sahdCandidates)],
      ...(plan.stepByStep ? ['--step-by-step'] : []),
    ],
    `${plan.preset} sahd ${plan.sahdCandidates} candidates`,
  );
  const line = outcome.line?.kind === 'sahd' ? outcome.line : undefined;
  const rate = (seconds: number | undefined) =>
    seconds === undefined ? null : round(plan.sahdCandidates / seconds, 3);
  const figures: SahdFigures = {
    preset: plan.preset,
    batch: SAHD_BATCH,
    repeats: SAHD_REPEATS,
    candidates: plan.sahdCandidates,
    sampleSeed: SAHD_SAMPLE_SEED,
    candidatesPerSecond: rate(line?.seconds),
    seconds: line === undefined ? null : round(line.seconds, 2),
    ...(plan.stepByStep
      ? {
          stepByStep: {
            candidatesPerSecond: rate(line?.stepByStep?.seconds),
            seconds: line?.stepByStep === undefined ? null : round(line.stepByStep.seconds, 2),
          },
        }
      : {}),
    peakRssMiB: outcome.peakRssMiB ?? null,
  };
  if (outcome.error !== undefined) figures.error = outcome.error;
  return { figures, backend: outcome.line?.backend };
}

/** All busy processes' items over the time the slowest took, or the first error. */
async function busyRate(
  backend: string,
  args: string[],
  label: string,
): Promise<BusyRate & { error?: string }> {
  const outcomes = await runBusy(backend, args, label);
  const failed = outcomes.find((o) => o.error !== undefined);
  if (failed !== undefined) return { perSecond: null, seconds: null, error: failed.error };
  const lines = outcomes
    .map((o) => o.line)
    .filter(
      (l): l is Extract<ChildLine, { items: number }> => l?.kind === 'busy-train' || l?.kind === 'busy-sahd',
    );
  const items = lines.reduce((sum, l) => sum + l.items, 0);
  const seconds = Math.max(...lines.map((l) => l.seconds));
  return { perSecond: items / seconds, seconds: round(seconds, 2) };
}

async function busySahd(backend: string, plan: PresetPlan): Promise<BusySahd> {
  const args = ['busy-sahd', '--preset', plan.preset, '--candidates', String(plan.sahdCandidates)];
  const label = `${plan.preset} sahd, all cores busy`;
  const batched = await busyRate(backend, args, label);
  const stepped = await busyRate(backend, [...args, '--step-by-step'], `${label}, step by step`);
  const rate = (r: BusyRate) => (r.perSecond === null ? null : round(r.perSecond, 3));
  const figures: BusySahd = {
    preset: plan.preset,
    batch: SAHD_BATCH,
    repeats: SAHD_REPEATS,
    sampleSeed: SAHD_SAMPLE_SEED,
    candidatesPerProcess: plan.sahdCandidates,
    candidatesPerSecond: rate(batched),
    seconds: batched.seconds,
    stepByStep: { candidatesPerSecond: rate(stepped), seconds: stepped.seconds },
  };
  const error = batched.error ?? stepped.error;
  if (error !== undefined) figures.error = error;
  return figures;
}

async function busyTraining(
  backend: string,
  plan: PresetPlan,
  busy: NonNullable<PresetPlan['busy']>,
  cell: BenchCell,
): Promise<BusyTraining> {
  const args = [
    ...['busy-train', '--preset', plan.preset, '--arch', cell.arch, '--cell-type', cell.cellType],
    ...['--batch', String(busy.trainBatch), '--steps', String(busy.trainSteps)],
  ];
  const label = `${plan.preset} ${cell.cellType} cell training batch ${busy.trainBatch}, all cores busy`;
  const batched = await busyRate(backend, args, label);
  const stepped = await busyRate(backend, [...args, '--step-by-step'], `${label}, step by step`);
  const rate = (r: BusyRate) => (r.perSecond === null ? null : round(r.perSecond, 1));
  const figures: BusyTraining = {
    preset: plan.preset,
    arch: cell.arch,
    cellType: cell.cellType,
    batch: busy.trainBatch,
    stepsPerProcess: busy.trainSteps,
    imagesPerSecond: rate(batched),
    seconds: batched.seconds,
    stepByStep: { imagesPerSecond: rate(stepped), seconds: stepped.seconds },
  };
  const error = batched.error ?? stepped.error;
  if (error !== undefined) figures.error = error;
  return figures;
}

/** The results so far, in every backend's order: what stdout and --out get. */
const runs: BackendRun[] = [];
/** When the bench began (its first session, if resumed) and the load as this session began. */
const started = { date: earlier.date ?? new Date().toISOString(), load: loadavg() };

function document(complete: boolean) {
  const [primary, ...others] = runs;
  return {
    date: started.date,
    command: `npm run -s bench -- ${process.argv.slice(2).join(' ')}`.trim().replace(/ --$/, ''),
    machine: machineIdentity(),
    loadAverage: { start: started.load.map((l) => round(l, 2)), end: loadavg().map((l) => round(l, 2)) },
    settings,
    complete,
    ...primary,
    peakRssMiB: Math.max(peakRssMiB(), ...runs.map((r) => r.peakRssMiB)),
    quick: flags.quick === true,
    otherBackends: others,
  };
}

/** Rewrites --out with what is measured so far (a reader never sees half a file; formatted, so a partial file can be committed). */
function save(): void {
  writeResultJson(outFile, document(false), log);
}

const ok = <T extends { error?: string }>(row: T | undefined): row is T =>
  row !== undefined && row.error === undefined;

async function benchBackend(backend: string, presets: string[], withBusy: boolean): Promise<void> {
  const before = earlier.runs.get(backend);
  const run: BackendRun = {
    backend: { name: backend, error: 'no measurement loaded the backend yet' },
    threads: { intraOp: null, processes: 1 },
    gemmGflops: null,
    nets: [],
    sahd: [],
    peakRssMiB: 0,
  };
  runs.push(run);
  const seen: (BackendInfo | undefined)[] = [];
  const settle = () => {
    const info = seen.find((b): b is BackendInfo => b !== undefined);
    if (info !== undefined) {
      run.backend = info;
      run.threads = { intraOp: info.threads, processes: 1 };
    }
    run.peakRssMiB = Math.max(
      0,
      ...run.nets.map((n) => n.peakRssMiB ?? 0),
      ...run.sahd.map((n) => n.peakRssMiB ?? 0),
    );
    save();
  };
  if (before !== undefined && before.gemmGflops !== null && 'version' in before.backend) {
    run.gemmGflops = before.gemmGflops;
    seen.push(before.backend);
  } else {
    const gemm = await runChild(backend, ['gemm'], 'gemm 2048');
    run.gemmGflops = gemm.line?.kind === 'gemm' ? round(gemm.line.gemmGflops, 2) : null;
    if (gemm.error !== undefined) run.gemmError = gemm.error;
    seen.push(gemm.line?.backend);
  }
  settle();
  const plans = PLANS.filter((p) => presets.includes(p.preset)).map(effectivePlan);
  for (const plan of plans) {
    for (const cell of plan.cells) {
      for (const batch of plan.batches) {
        const kept = before?.nets.find(
          (n) => n.preset === plan.preset && n.arch === cell.arch && n.batch === batch,
        );
        if (ok(kept)) {
          run.nets.push(kept);
        } else {
          const net = await netFigures(backend, plan, cell, batch, run.gemmGflops);
          run.nets.push(net.figures);
          seen.push(...net.backends);
        }
        settle();
      }
    }
  }
  for (const plan of plans) {
    const kept = before?.sahd.find((s) => s.preset === plan.preset);
    if (ok(kept)) {
      run.sahd.push(kept);
    } else {
      const scored = await sahdFigures(backend, plan);
      run.sahd.push(scored.figures);
      seen.push(scored.backend);
    }
    settle();
  }
  if (!withBusy) return;
  const busyPlans = plans.filter((p) => p.busy !== undefined);
  if (busyPlans.length === 0) return;
  const throughput: MachineThroughput = {
    threads: { intraOp: 1, processes: BUSY_PROCESSES },
    sahd: [],
    training: [],
  };
  run.machineThroughput = throughput;
  for (const plan of busyPlans) {
    const kept = before?.machineThroughput?.sahd.find((s) => s.preset === plan.preset);
    throughput.sahd.push(ok(kept) ? kept : await busySahd(backend, plan));
    settle();
  }
  for (const plan of busyPlans) {
    for (const cell of plan.cells) {
      const busy = plan.busy as NonNullable<PresetPlan['busy']>;
      const kept = before?.machineThroughput?.training.find(
        (t) => t.preset === plan.preset && t.arch === cell.arch && t.batch === busy.trainBatch,
      );
      throughput.training.push(ok(kept) ? kept : await busyTraining(backend, plan, busy, cell));
      settle();
    }
  }
}

/** The memory model's estimate rate (pure JS, in this process). */
function memoryEstimatesPerSecond(): number {
  const config = resolvePreset('fmnist-tiny');
  const archs: Arch[] = sampleCandidates(5, 2000, { distinct: false });
  const started = performance.now();
  let rounds = 0;
  while (performance.now() - started < 500) {
    for (const arch of archs) estimateMemory(arch, config, { weightBits: 8 });
    rounds++;
  }
  return Math.round((rounds * archs.length) / ((performance.now() - started) / 1000));
}

log(`writing ${outFile} as measurements finish`);
for (const [i, [backend, presets]] of schedule.entries()) await benchBackend(backend, presets, i === 0);
const result = { ...document(true), memoryEstimatesPerSecond: memoryEstimatesPerSecond() };
writeResultJson(outFile, result, log);
process.stdout.write(`${JSON.stringify(result)}\n`);
