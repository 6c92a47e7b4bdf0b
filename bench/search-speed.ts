/**
 * spikenas against the snasnet baseline on the same data, budget, weight bits and seed, each run as a
 * search through Temporal with its shards scored in parallel: the figure the method doc says users compare.
 *
 *   npm run bench:search -- --profile paper --dataset fashion-mnist --budget 64KiB --seed 1
 *
 * Uses the Temporal server at TEMPORAL_ADDRESS, or starts the pinned dev server there (scripts/temporal.sh,
 * as `npm start` does; it keeps running afterwards). Runs its own worker processes (`spikenas worker`, both
 * queues, TF_NUM_INTRAOP_THREADS=1 and SPIKENAS_THREADS=1 each: two one-thread processes train the small
 * networks faster than one two-thread process) on task queues of its own, and stops them when it ends.
 * Workflow IDs are `<run prefix>-<mode>`; re-running with the same --run-prefix (and artifact store) follows
 * or resumes those workflows from their checkpoints instead of starting over. Writes one JSON object to
 * bench/results/<profile>-<dataset>-<budget>-seed<n>.json (or --out) and prints it; progress goes to stderr.
 *
 * Run together, the modes' searches run one after the other, each with every worker, and hold their
 * winners' training (holdTraining); once both searches are done the two winners train side by side, one per
 * worker process. Stage wall times are each stage's own, so the speed-ups compare like with like.
 *
 * The file fills mode by mode (--modes, both by default), written as each mode finishes: a later run with
 * the same settings and --modes snasnet adds a missing half to the file, keeps the half it holds, and
 * computes the speed-ups once both are in.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Client } from '@temporalio/client';
import { openStore } from '../artifacts/index.js';
import { RUN_FILES, RunArtifacts, stageFile } from '../artifacts/run.js';
import { ProgressView } from '../cli/progress-view.js';
import {
  outcomeIfClosed,
  type SettledSearch,
  startSearch,
  taskQueues,
  temporalConnectConfig,
  withClient,
} from '../client/temporal.js';
import { innermostMessage } from '../common/errors.js';
import { machineIdentity } from '../common/machine.js';
import { tcpAnswers } from '../common/net.js';
import { parseSize } from '../common/size.js';
import { MODES, validateSearchRequest } from '../config/request.js';
import type { SearchProgress } from '../contract/progress.js';
import type { SearchMode, SearchRequest } from '../contract/request.js';
import type { RunPlan } from '../contract/run-records.js';
import { totalStageMs } from '../contract/stages.js';
import type { SearchSummary } from '../contract/summary.js';
import { RELEASE_TRAINING_SIGNAL } from '../contract/temporal.js';
import { parseWeightBits } from '../search/space/memory.js';
import type { SearchResult } from '../search/strategy/search-result.js';
import {
  type Machine,
  type ModeResult,
  type ModeSession,
  type OpImpactFigure,
  type PaperResult,
  withSpeedups,
} from './paper-results.js';
import { writeResultJson } from './result-json.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const MEASURE = join(ROOT, 'dist', 'bench', 'measure.js');
const TEMPORAL_SCRIPT = join(ROOT, 'scripts', 'temporal.sh');
/** Each worker process computes on one core (see the header). */
const WORKER_ENV = { TF_NUM_INTRAOP_THREADS: '1', SPIKENAS_THREADS: '1' };

const { values } = parseArgs({
  options: {
    profile: { type: 'string', default: 'quick' },
    dataset: { type: 'string', default: 'fashion-mnist' },
    budget: { type: 'string', default: '64KiB' },
    'weight-bits': { type: 'string', default: '8' },
    seed: { type: 'string', default: '1' },
    shards: { type: 'string', default: '2' },
    workers: { type: 'string', default: '2' },
    artifacts: { type: 'string' },
    'run-prefix': { type: 'string' },
    out: { type: 'string' },
    modes: { type: 'string', default: MODES.join(',') },
  },
});

function log(message: string): void {
  process.stderr.write(`bench:search: ${message}\n`);
}

/** A name part for IDs and file names: letters, digits, '.', '_' and '-' only. */
function slug(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[^A-Za-z0-9]+/, '');
}

const stamp = new Date()
  .toISOString()
  .replace(/[-:]/g, '')
  .replace(/\.\d+Z$/, 'Z');
const tag = `${slug(values.profile)}-${slug(values.dataset)}-${slug(values.budget)}-seed${slug(values.seed)}`;
const runPrefix = values['run-prefix'] ?? `bench-${tag}-${stamp}`;
if (!/^[A-Za-z0-9][A-Za-z0-9._:-]*$/.test(runPrefix)) {
  log(`--run-prefix '${runPrefix}' must hold letters, digits, '.', '_', ':' and '-' only`);
  process.exit(2);
}
const given = values.artifacts;
// A URI (s3://bucket/prefix, file://…) as given; a folder made absolute, as the workers open it too.
const artifacts: string =
  given !== undefined && /^[a-z][a-z0-9+.-]*:\/\//i.test(given)
    ? given
    : resolve(given ?? join(tmpdir(), `spikenas-bench-${runPrefix}`));
const outFile = resolve(values.out ?? join(ROOT, 'bench', 'results', `${tag}.json`));
const workerCount = Number(values.workers);
const requestedModes = values.modes.split(',').map((m) => m.trim());

// Every choice is checked before anything starts (exit 2 names the field).
let base: SearchRequest;
try {
  base = validateSearchRequest({
    dataset: values.dataset,
    budget: values.budget,
    mode: 'spikenas',
    profile: values.profile,
    seed: Number(values.seed),
    weightBits: parseWeightBits(values['weight-bits']),
    shards: Number(values.shards),
    artifacts,
  });
  if (!Number.isInteger(workerCount) || workerCount < 1) throw new Error('--workers must be an integer >= 1');
  for (const mode of requestedModes)
    if (!MODES.includes(mode as SearchMode))
      throw new Error(`--modes: '${mode}' is not a mode; allowed: ${MODES.join(', ')} (comma-separated)`);
} catch (error) {
  log((error as Error).message);
  process.exit(2);
}
const budgetBytes = parseSize(values.budget);

/** The settings a record is made of: a file holding other ones is never added to (exit 2 names the field). */
const emptyRecord: PaperResult = {
  profile: base.profile,
  dataset: base.dataset,
  budget: values.budget,
  budgetBytes,
  weightBits: base.weightBits,
  seed: base.seed,
  shards: base.shards,
  workers: { processes: workerCount, env: WORKER_ENV },
  searchStageSpeedup: null,
  endToEndSpeedup: null,
  speedupsWithheld: null,
  modes: {},
};
let record = emptyRecord;
if (existsSync(outFile)) {
  record = JSON.parse(readFileSync(outFile, 'utf8')) as PaperResult;
  for (const field of [
    'profile',
    'dataset',
    'budgetBytes',
    'weightBits',
    'seed',
    'shards',
    'workers',
  ] as const) {
    const [was, now] = [JSON.stringify(record[field]), JSON.stringify(emptyRecord[field])];
    if (was !== now) {
      log(`${field}: ${outFile} records ${field} ${was}, not ${now}; use those settings or another --out`);
      process.exit(2);
    }
  }
}
const modesToRun = MODES.filter((mode) => requestedModes.includes(mode) && !record.modes[mode]);
for (const mode of MODES.filter((m) => requestedModes.includes(m) && record.modes[m]))
  log(`${mode}: already recorded in ${outFile} (${record.modes[mode]?.session.date}); not run again`);

// Task queues of this benchmark (derived from the run prefix, so a resumed run finds its workflows' tasks),
// unless set: workers of other searches on this server never take its tasks, nor its workers theirs.
process.env.SPIKENAS_CPU_TASK_QUEUE ??= `${runPrefix}-cpu`;
process.env.SPIKENAS_GPU_TASK_QUEUE ??= `${runPrefix}-gpu`;

/** Starts the pinned dev server at TEMPORAL_ADDRESS unless something answers there (as cli/embedded.ts). */
async function ensureTemporal(): Promise<{ address: string; startedDevServer: boolean }> {
  const address = temporalConnectConfig().connectionOptions.address as string;
  const [host = '127.0.0.1', portText = '7233'] = address.split(':');
  if (await tcpAnswers(host, Number(portText))) return { address, startedDevServer: false };
  if (host !== '127.0.0.1' && host !== 'localhost')
    throw new Error(`no Temporal server answers at ${address} (TEMPORAL_ADDRESS)`);
  log(`starting the Temporal dev server on ${address} (it keeps running; bash scripts/temporal.sh stop)`);
  const started = spawnSync('bash', [TEMPORAL_SCRIPT, 'start', portText], { stdio: ['ignore', 2, 2] });
  if (started.status !== 0) throw new Error(`scripts/temporal.sh start ${portText} failed`);
  return { address, startedDevServer: true };
}

interface WorkerChild {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/**
 * A `spikenas worker` process under a shell guard in a process group of its own: the guard stops the
 * worker when told to, and also when this process is gone (even killed outright), so no worker outlives
 * the benchmark.
 */
function spawnWorker(index: number, address: string): WorkerChild {
  const guard =
    `trap 'kill -TERM "$w" 2>/dev/null' TERM INT; "$@" & w=$!; ` +
    `while kill -0 "$w" 2>/dev/null && kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ` +
    'kill -TERM "$w" 2>/dev/null; wait "$w"';
  const child = spawn(
    'bash',
    ['-c', guard, 'guard', process.execPath, CLI, 'worker', '--queues', 'cpu,gpu'],
    {
      env: { ...process.env, TEMPORAL_ADDRESS: address, ...WORKER_ENV },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    },
  );
  let output = '';
  const forward = (chunk: Buffer) => {
    output += chunk;
    if (output.length > 200_000) output = output.slice(-100_000);
    for (const line of chunk.toString().split('\n')) if (line.trim()) log(`worker ${index}: ${line}`);
  };
  child.stdout?.on('data', forward);
  child.stderr?.on('data', forward);
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return { child, output: () => output, exited };
}

async function stopWorkers(workers: WorkerChild[]): Promise<void> {
  await Promise.all(
    workers.map(async ({ child, exited }) => {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      const pid = child.pid;
      const signal = (target: number, name: NodeJS.Signals) => {
        try {
          process.kill(target, name);
        } catch {
          // Gone already.
        }
      };
      // The guard passes SIGTERM on to the worker once (a second one would cut its shutdown short)...
      signal(pid, 'SIGTERM');
      // ...which gives running activities 10 s to finish (shutdownGraceTime) and exits; past that, the
      // whole process group goes.
      const force = setTimeout(() => signal(-pid, 'SIGKILL'), 15_000);
      await exited;
      clearTimeout(force);
    }),
  );
}

async function workersReady(workers: WorkerChild[]): Promise<void> {
  const deadline = Date.now() + 180_000;
  for (const [i, worker] of workers.entries()) {
    while (!worker.output().includes('spikenas worker:')) {
      if (worker.child.exitCode !== null)
        throw new Error(`worker ${i + 1} exited with ${worker.child.exitCode}`);
      if (Date.now() > deadline) throw new Error(`worker ${i + 1} did not start within 180 s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** A mode's search reports reaching its held training; its training starts when `released` resolves. */
interface TrainingGate {
  reached: () => void;
  released: Promise<void>;
}

/** Starts (or finds) one mode's workflow and waits for its summary, with progress on stderr. */
async function runMode(
  client: Client,
  mode: SearchMode,
  workersDown: Promise<never>,
  running: Set<string>,
  gate?: TrainingGate,
): Promise<{ summary: SearchSummary; started: boolean; startedAt: Date; elapsedMs: number }> {
  const workflowId = `${runPrefix}-${mode}`;
  const begun = Date.now();
  const request: SearchRequest = { ...base, mode, ...(gate ? { holdTraining: true } : {}) };
  const { started } = await startSearch(client, request, { workflowId });
  log(`${mode}: ${started ? 'started' : 'following the already started'} ${workflowId}`);
  running.add(workflowId);
  const handle = client.workflow.getHandle(workflowId);
  const view = new ProgressView({
    tty: process.stderr.isTTY === true,
    write: (line) => log(`${mode}: ${line.replace(/^spikenas: /, '')}`),
  });
  // A workflow past its search (or one started without the hold) ignores the signal or no longer takes it.
  void gate?.released.then(() => handle.signal(RELEASE_TRAINING_SIGNAL).catch(() => undefined));
  // Polled, not awaited with result(): see outcomeIfClosed.
  let following = true;
  const outcome = (async (): Promise<SettledSearch> => {
    for (;;) {
      const closed = await outcomeIfClosed(handle);
      if (closed) return closed;
      if (!following) return { error: new Error('no longer followed') };
      const progress = await handle.query<SearchProgress>('progress').catch(() => null);
      if (progress) view.update(progress);
      if (progress?.finishedStages.includes('memory-aware-search')) gate?.reached();
      await new Promise((r) => setTimeout(r, 2000));
    }
  })();
  try {
    const closed = await Promise.race([outcome, workersDown]);
    if ('error' in closed) throw closed.error;
    running.delete(workflowId);
    // Only a search that ended well opens the gate: a failed or stopped one lets no further mode start.
    gate?.reached();
    // A followed workflow (a resumed bench) started before this process did.
    const { startTime } = await handle.describe();
    return { summary: closed.summary, started, startedAt: startTime, elapsedMs: Date.now() - begun };
  } catch (error) {
    const described = await handle.describe().catch(() => null);
    if (described && described.status.name !== 'RUNNING') running.delete(workflowId);
    throw new Error(`${mode} search ${workflowId} failed: ${innermostMessage(error)}`, { cause: error });
  } finally {
    following = false;
    // No call of the loop is left retrying behind the connection, which closes after the last mode.
    await outcome;
    view.stop();
  }
}

async function readStage<T>(run: RunArtifacts, name: string): Promise<T | null> {
  const file = stageFile(name);
  return (await run.exists(file)) ? run.getJson<T>(file) : null;
}

/** Executions of a workflow ID: a search stopped (terminated) and resumed has two. */
async function executionsOf(client: Client, workflowId: string): Promise<number> {
  let executions = 0;
  for await (const _execution of client.workflow.list({ query: `WorkflowId = '${workflowId}'` }))
    executions += 1;
  return executions;
}

/** The summary's figures plus what the run folder says about the first pass, enhancement and impact. */
async function figuresOf(
  mode: SearchMode,
  summary: SearchSummary,
  started: boolean,
  executions: number,
  elapsedMs: number,
  session: Omit<ModeSession, 'trainingHeld'>,
): Promise<ModeResult> {
  const run = new RunArtifacts(await openStore(artifacts), summary.runId);
  // From the run's plan: a followed workflow may have been started by another bench run.
  const plan = await run.getJson<RunPlan>(RUN_FILES.config);
  const search = await readStage<SearchResult>(run, 'memory-aware-search');
  const stageWallMs = Object.fromEntries(
    Object.entries(summary.stageWallMs).filter((entry): entry is [string, number] => entry[1] !== undefined),
  );
  const result: ModeResult = {
    mode,
    session: { ...session, trainingHeld: plan.request.holdTraining === true },
    runId: summary.runId,
    startedByThisRun: started,
    executions,
    candidatesScored: summary.counters.scored ?? 0,
    counters: summary.counters,
    stageWallMs,
    totalWallMs: totalStageMs(summary.stageWallMs),
    elapsedMs,
    winner: summary.winner,
    params: summary.params,
    weightBits: summary.weightBits,
    weightBytes: summary.weightBytes,
    fitsBudget: summary.budgetBytes === null ? null : summary.weightBytes <= summary.budgetBytes,
    testAccuracy: summary.accuracyBeforeQuantization,
    testAccuracyQuantized: summary.accuracy,
    firstPass: search?.firstPass ?? null,
    prefiltered: summary.counters.prefiltered ?? 0,
    prefilterAgreement: search?.prefilterAgreement ?? null,
    report: summary.artifacts.report,
  };
  if (mode === 'spikenas') {
    const enhanced = await readStage<{ ops: number[]; cellType: string; decisions: unknown[] }>(
      run,
      'cell-enhancement',
    );
    if (enhanced)
      result.enhancement = { ops: enhanced.ops, cellType: enhanced.cellType, decisions: enhanced.decisions };
    const impact = await readStage<{
      reused?: boolean;
      result?: { impacts?: (OpImpactFigure & { samples?: unknown })[] };
    }>(run, 'operation-impact');
    if (impact?.result?.impacts)
      result.impact = {
        reused: impact.reused ?? null,
        // Every per-operation figure (mean, n, standard deviation, any interval), without the samples.
        impacts: impact.result.impacts.map(({ samples: _samples, ...figure }) => figure),
      };
  }
  return result;
}

async function main(): Promise<number> {
  if (modesToRun.length === 0) {
    process.stdout.write(readFileSync(outFile, 'utf8'));
    return 0;
  }
  const temporal = await ensureTemporal();
  process.env.TEMPORAL_ADDRESS = temporal.address;
  const queues = taskQueues();
  log(
    `${values.profile} profile, ${values.dataset}, ${values.budget} at ${base.weightBits} bits, seed ` +
      `${base.seed}, ${base.shards} shards; ${workerCount} worker processes on ${queues.cpu} / ${queues.gpu}; ` +
      `artifacts ${artifacts}; run prefix ${runPrefix}`,
  );
  const workers = Array.from({ length: workerCount }, (_, i) => spawnWorker(i + 1, temporal.address));
  const running = new Set<string>();
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: stopping`);
    void cleanup().finally(() => process.exit(130));
  };
  const cleanup = async () => {
    // A search left running would wait for workers forever: terminated, it can still be resumed.
    if (running.size > 0) {
      await withClient(async (client) => {
        for (const id of running)
          await client.workflow
            .getHandle(id)
            .terminate('bench:search stopped')
            .catch(() => undefined);
      }).catch(() => undefined);
      log(`to resume: the same command with --run-prefix ${runPrefix} --artifacts ${artifacts}`);
    }
    await stopWorkers(workers);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const workersDown = Promise.race(
      workers.map((w, i) =>
        w.exited.then((code) => {
          throw new Error(
            `worker ${i + 1} exited (${code}) during the benchmark:\n${w.output().slice(-4000)}`,
          );
        }),
      ),
    );
    workersDown.catch(() => undefined);
    await Promise.race([workersReady(workers), workersDown]);
    await withClient(async (client) => {
      const recordMode = async (mode: SearchMode, gate?: TrainingGate) => {
        const modeStart = { load: loadavg(), matmulGflops: measureMatmul() };
        const { summary, started, startedAt, elapsedMs } = await runMode(
          client,
          mode,
          workersDown,
          running,
          gate,
        );
        const session = {
          date: startedAt.toISOString(),
          command: ['npm run bench:search --', ...process.argv.slice(2)].join(' '),
          machine: describeMachine(modeStart),
          backend: summary.backend,
          temporal,
          artifacts,
          runPrefix,
        };
        const executions = await executionsOf(client, summary.runId);
        const figures = await figuresOf(mode, summary, started, executions, elapsedMs, session);
        log(
          `${mode}: ${summary.winner}, ${summary.weightBytes} B at ${summary.weightBits} bits, ` +
            `${(summary.accuracy * 100).toFixed(2)} % test accuracy, ${figures.totalWallMs} ms in its stages`,
        );
        // Written as each mode finishes: a half is kept even if the other mode fails.
        record = withSpeedups({ ...record, modes: { ...record.modes, [mode]: figures } });
        writeResultJson(outFile, record, log);
        log(`wrote ${outFile}`);
      };
      // Each search in turn has every worker; then the winners train side by side, one per worker.
      const together = modesToRun.length > 1;
      let release = () => {};
      const released = new Promise<void>((r) => {
        release = r;
      });
      const runs: Promise<void>[] = [];
      for (const mode of modesToRun) {
        let reached = () => {};
        const atGate = new Promise<void>((r) => {
          reached = r;
        });
        const run = recordMode(mode, together ? { reached, released } : undefined);
        runs.push(run);
        await (together ? Promise.race([atGate, run]) : run);
      }
      release();
      await Promise.all(runs);
    });
    process.stdout.write(readFileSync(outFile, 'utf8'));
    log(`${outFile} holds ${Object.keys(record.modes).join(' and ')}`);
    return 0;
  } catch (error) {
    if (interrupted) return 130;
    log(`failed: ${(error as Error).message}`);
    return 1;
  } finally {
    if (!interrupted) await cleanup();
  }
}

function describeMachine(start: { load: number[]; matmulGflops: number | null }): Machine {
  return {
    ...machineIdentity(),
    matmulGflops: start.matmulGflops,
    loadAverage: { start: start.load.map(round2), end: loadavg().map(round2) },
  };
}

/** The backend's float32 matMul speed now (bench/measure.ts gemm in a process of its own), or null. */
function measureMatmul(): number | null {
  const run = spawnSync(process.execPath, [MEASURE, 'gemm'], { encoding: 'utf8', env: process.env });
  const line = run.stdout?.trim().split('\n').at(-1);
  try {
    const gflops = (JSON.parse(line ?? '') as { gemmGflops?: unknown }).gemmGflops;
    return typeof gflops === 'number' ? round2(gflops) : null;
  } catch {
    return null;
  }
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

process.exitCode = await main().catch((error: Error) => {
  log(`failed: ${error.message}`);
  return 1;
});
