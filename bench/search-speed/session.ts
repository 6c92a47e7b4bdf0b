/**
 * One benchmark session: the worker processes up, each missing mode's search run in turn with every
 * worker (holding its winner's training), then the winners trained side by side, one per worker; then each
 * mode's later night (the same request again, in the same store); the record written as each part finishes. A stop (SIGINT, SIGTERM) terminates the running search, which can
 * be resumed with the same run prefix, and stops the workers.
 */
import { readFileSync } from 'node:fs';
import { taskQueues, withClient } from '../../client/temporal.js';
import type { SearchMode } from '../../contract/request.js';
import { describeMachine, executionsOf, figuresOf, laterNightOf, machineAtStart } from './figures.js';
import { log } from './log.js';
import type { SpeedRunOptions } from './options.js';
import { addLaterNight, addMode, openRecord } from './record-file.js';
import { runMode, type TrainingGate } from './run-mode.js';
import { anyWorkerDown, ensureTemporal, spawnWorker, stopWorkers, workersReady } from './workers.js';

/** Runs the modes `options.outFile` is missing; the exit code (130 when stopped). */
export async function runSpeedBench(options: SpeedRunOptions): Promise<number> {
  const { base, runPrefix, artifacts, outFile } = options;
  let { record, modesToRun, laterNightsToRun } = openRecord(options);
  // Task queues of this benchmark (derived from the run prefix, so a resumed run finds its workflows'
  // tasks), unless set: workers of other searches on this server never take its tasks, nor its workers theirs.
  process.env.SPIKENAS_CPU_TASK_QUEUE ??= `${runPrefix}-cpu`;
  process.env.SPIKENAS_GPU_TASK_QUEUE ??= `${runPrefix}-gpu`;
  if (modesToRun.length === 0 && laterNightsToRun.length === 0) {
    process.stdout.write(readFileSync(outFile, 'utf8'));
    return 0;
  }
  const temporal = await ensureTemporal();
  process.env.TEMPORAL_ADDRESS = temporal.address;
  const queues = taskQueues();
  log(
    `${base.profile} profile, ${base.dataset}, ${options.budget} at ${base.weightBits.join('/')} bits, seed ` +
      `${base.seed}, ${base.shards} shards; ${options.workerCount} worker processes on ${queues.cpu} / ` +
      `${queues.gpu}; artifacts ${artifacts}; run prefix ${runPrefix}`,
  );
  const workers = Array.from({ length: options.workerCount }, (_, i) => spawnWorker(i + 1, temporal.address));
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
    const workersDown = anyWorkerDown(workers);
    await Promise.race([workersReady(workers), workersDown]);
    await withClient(async (client) => {
      const recordMode = async (mode: SearchMode, gate?: TrainingGate) => {
        const modeStart = machineAtStart();
        const { summary, started, startedAt, elapsedMs } = await runMode(
          client,
          options,
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
        const figures = await figuresOf(artifacts, mode, summary, started, executions, elapsedMs, session);
        log(
          `${mode}: ${summary.winner}, ${summary.weightBytes} B at ${summary.weightBits} bits, ` +
            `${(summary.accuracy * 100).toFixed(2)} % test accuracy, ${figures.endToEndMs} ms in its stages`,
        );
        record = addMode(record, figures, outFile);
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
      // The next night on unchanged data, in the same store: each mode in turn, with every worker.
      for (const mode of laterNightsToRun) {
        const { summary } = await runMode(
          client,
          { base: options.base, runPrefix: `${runPrefix}-night2` },
          mode,
          workersDown,
          running,
        );
        const laterNight = laterNightOf(summary);
        log(
          `${mode} later night: ${laterNight.searchTimeMs} ms of search, ${laterNight.endToEndMs} ms in all; ` +
            `reused ${JSON.stringify(laterNight.reusedFrom)}`,
        );
        record = addLaterNight(record, mode, laterNight, outFile);
      }
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
