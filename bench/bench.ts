/**
 * `npm run -s bench [-- --backend wasm] [-- --preset fmnist-tiny --quick]`: the SNN runtime's speed and
 * memory on this machine, as one JSON object on stdout (progress on stderr; without -s, npm prints its
 * own header lines to stdout first).
 *
 * Per backend: `gemmGflops` (a 2048x2048 float32 matMul, the ceiling the ratios use); `nets[]`, SNASNet's
 * published cell on each preset at two batches, inference forward and training step (forward in training
 * mode + BPTT + a momentum-SGD update), their GFLOP/s and ratio to `gemmGflops`, and peak RSS; `sahd[]`,
 * SAHD candidates per second over a fixed seeded sample at batch 256 with 2 repeats.
 *
 * Every measurement runs in its own child process (measure.ts): its peak RSS is its own, and a backend
 * that aborts (wasm past its 4 GiB heap) or a size that outgrows --max-rss-gib fails that measurement
 * only, recorded as `error`; so does one that leaves the shared machine under 1 GiB available, or outlasts
 * --timeout-min. By default the native backend runs everything and wasm the fmnist presets;
 * the native run's figures are the top-level fields, the others go to `otherBackends`.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { estimateMemory } from '../search/space/memory.js';
import { sampleCandidates } from '../search/space/sample.js';
import { BACKEND_CHOICES, type BackendInfo } from '../snn/backend.js';
import type { Arch } from '../snn/cell-matrix.js';
import { resolvePreset } from '../snn/presets.js';
import {
  type ChildLine,
  forwardFlops,
  PLANS,
  type PresetPlan,
  peakRssMiB,
  round,
  SAHD_BATCH,
  SAHD_REPEATS,
  SAHD_SAMPLE_SEED,
  SNASNET_CELL,
  snasnetCell,
  TRAIN_FLOPS_PER_FORWARD,
  WASM_DEFAULT_PRESETS,
} from './workload.js';

interface Flags {
  backend?: string;
  preset?: string[];
  quick?: boolean;
  maxRssGib: number;
  timeoutMin: number;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('not a number > 0');
  return n;
}

const program = new Command('bench')
  .description('speed and memory of the SNN runtime, one JSON object on stdout')
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
  .parse();
const flags = program.opts<Flags>();

const MEASURE = fileURLToPath(new URL('./measure.js', import.meta.url));

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

async function runChild(backend: string, args: string[], label: string): Promise<ChildOutcome> {
  const started = performance.now();
  const child = spawn(process.execPath, [MEASURE, ...args, '--backend', backend], {
    env: { ...process.env, SPIKENAS_BACKEND: backend },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
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
  process.stderr.write(
    `bench: ${backend} ${label}: ${outcome.error === undefined ? 'ok' : outcome.error} (${seconds} s)\n`,
  );
  return outcome;
}

const gflops = (flops: number, ms: number) => flops / (ms / 1000) / 1e9;
const ratio = (achieved: number | null, ceiling: number | null) =>
  achieved === null || ceiling === null ? null : round(achieved / ceiling, 3);

interface NetFigures {
  preset: string;
  arch: string;
  batch: number;
  params: number;
  reps: number;
  forwardMs: number | null;
  forwardGflops: number | null;
  forwardGemmRatio: number | null;
  trainStepMs: number | null;
  trainGflops: number | null;
  trainGemmRatio: number | null;
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
  peakRssMiB: number | null;
  error?: string;
}

interface BackendRun {
  backend: BackendInfo | { name: string; error: string };
  gemmGflops: number | null;
  gemmError?: string;
  nets: NetFigures[];
  sahd: SahdFigures[];
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
  };
}

async function netFigures(backend: string, plan: PresetPlan, batch: number, ceiling: number | null) {
  const config = resolvePreset(plan.preset);
  const arch = snasnetCell();
  const flops = forwardFlops(arch, config, batch);
  const args = ['--preset', plan.preset, '--batch', String(batch), '--reps', String(plan.reps)];
  const forward = await runChild(backend, ['forward', ...args], `${plan.preset} forward batch ${batch}`);
  const train = await runChild(backend, ['train', ...args], `${plan.preset} train batch ${batch}`);
  const forwardMs = forward.line?.kind === 'forward' ? forward.line.ms : null;
  const trainStepMs = train.line?.kind === 'train' ? train.line.ms : null;
  const forwardGflops = forwardMs === null ? null : gflops(flops, forwardMs);
  const trainGflops = trainStepMs === null ? null : gflops(TRAIN_FLOPS_PER_FORWARD * flops, trainStepMs);
  const peaks = [forward.peakRssMiB, train.peakRssMiB].filter((p): p is number => p !== undefined && p > 0);
  const errors = [
    forward.error === undefined ? [] : [`forward: ${forward.error}`],
    train.error === undefined ? [] : [`train: ${train.error}`],
  ].flat();
  const figures: NetFigures = {
    preset: plan.preset,
    arch: SNASNET_CELL,
    batch,
    params:
      (forward.line?.kind === 'forward' ? forward.line.params : undefined) ??
      estimateMemory(arch, config, { weightBits: 32 }).params,
    reps: plan.reps,
    forwardMs: forwardMs === null ? null : round(forwardMs, 1),
    forwardGflops: forwardGflops === null ? null : round(forwardGflops, 2),
    forwardGemmRatio: ratio(forwardGflops, ceiling),
    trainStepMs: trainStepMs === null ? null : round(trainStepMs, 1),
    trainGflops: trainGflops === null ? null : round(trainGflops, 2),
    trainGemmRatio: ratio(trainGflops, ceiling),
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
    ['sahd', '--preset', plan.preset, '--candidates', String(plan.sahdCandidates)],
    `${plan.preset} sahd ${plan.sahdCandidates} candidates`,
  );
  const seconds = outcome.line?.kind === 'sahd' ? outcome.line.seconds : null;
  const figures: SahdFigures = {
    preset: plan.preset,
    batch: SAHD_BATCH,
    repeats: SAHD_REPEATS,
    candidates: plan.sahdCandidates,
    sampleSeed: SAHD_SAMPLE_SEED,
    candidatesPerSecond: seconds === null ? null : round(plan.sahdCandidates / seconds, 3),
    seconds: seconds === null ? null : round(seconds, 2),
    peakRssMiB: outcome.peakRssMiB ?? null,
  };
  if (outcome.error !== undefined) figures.error = outcome.error;
  return { figures, backend: outcome.line?.backend };
}

async function benchBackend(backend: string, presets: string[]): Promise<BackendRun> {
  const gemm = await runChild(backend, ['gemm'], 'gemm 2048');
  const gemmGflops = gemm.line?.kind === 'gemm' ? round(gemm.line.gemmGflops, 2) : null;
  const seen: (BackendInfo | undefined)[] = [gemm.line?.backend];
  const nets: NetFigures[] = [];
  const sahd: SahdFigures[] = [];
  const peaks: number[] = [gemm.peakRssMiB ?? 0];
  for (const plan of PLANS.filter((p) => presets.includes(p.preset)).map(effectivePlan)) {
    for (const batch of plan.batches) {
      const net = await netFigures(backend, plan, batch, gemmGflops);
      nets.push(net.figures);
      seen.push(...net.backends);
      peaks.push(net.figures.peakRssMiB ?? 0);
    }
  }
  for (const plan of PLANS.filter((p) => presets.includes(p.preset)).map(effectivePlan)) {
    const scored = await sahdFigures(backend, plan);
    sahd.push(scored.figures);
    seen.push(scored.backend);
    peaks.push(scored.figures.peakRssMiB ?? 0);
  }
  const info = seen.find((b): b is BackendInfo => b !== undefined);
  const run: BackendRun = {
    backend: info ?? { name: backend, error: gemm.error ?? 'no measurement loaded the backend' },
    gemmGflops,
    nets,
    sahd,
    peakRssMiB: Math.max(...peaks),
  };
  if (gemm.error !== undefined) run.gemmError = gemm.error;
  return run;
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

const selected = flags.preset ?? PLANS.map((p) => p.preset);
const schedule: [string, string[]][] =
  flags.backend !== undefined
    ? [[flags.backend, selected]]
    : [
        ['tensorflow', selected],
        ['wasm', selected.filter((p) => WASM_DEFAULT_PRESETS.includes(p))],
      ];
const runs: BackendRun[] = [];
for (const [backend, presets] of schedule) {
  if (presets.length > 0) runs.push(await benchBackend(backend, presets));
}
const [primary, ...others] = runs as [BackendRun, ...BackendRun[]];
const result = {
  ...primary,
  peakRssMiB: Math.max(peakRssMiB(), ...runs.map((r) => r.peakRssMiB)),
  memoryEstimatesPerSecond: memoryEstimatesPerSecond(),
  quick: flags.quick === true,
  otherBackends: others,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
