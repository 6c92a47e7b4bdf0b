/**
 * `npm run bench:search` and the README's paper-results table: the README between its markers is what
 * bench/results-table.ts makes of the committed bench/results/paper-*.json, so the table cannot go stale;
 * and the compiled driver runs both modes end to end through the test Temporal server (quick profile,
 * synthetic data), one mode per run as a long paper run is recorded, and writes the JSON the table reads.
 */
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type CompletePaperResult,
  loadPaperResults,
  type ModeResult,
  type PaperResult,
  withSpeedups,
} from '../bench/paper-results.js';
import {
  NO_RUNS,
  README_END,
  README_START,
  renderPaperTable,
  replaceBetweenMarkers,
} from '../bench/paper-table.js';
import { connectClient } from '../client/temporal.js';
import type { SearchMode } from '../contract/request.js';
import { type FirstPass, type FirstPassEvidence, PROFILES } from '../search/strategy/profiles.js';
import { runScript } from './support/cli.js';
import { ensureTemporal, ROOT, useQueues } from './support/temporal.js';

const DRIVER = `${ROOT}dist/bench/search-speed.js`;
const TABLE = `${ROOT}dist/bench/results-table.js`;
const RESULTS = `${ROOT}bench/results`;

describe('README paper-results table', () => {
  it('equals what results-table makes of the committed bench/results/paper-*.json', async () => {
    const readme = readFileSync(`${ROOT}README.md`, 'utf8');
    expect(readme).toContain(README_START);
    expect(readme).toContain(README_END);
    const table = renderPaperTable(loadPaperResults(RESULTS));
    expect(replaceBetweenMarkers(readme, table)).toBe(readme);
    // The compiled script prints the same, and --write on a copy of the README changes nothing.
    const copy = join(mkdtempSync(join(tmpdir(), 'spikenas-readme-')), 'README.md');
    copyFileSync(`${ROOT}README.md`, copy);
    const printed = await runScript(TABLE, ['--write', '--readme', copy]);
    expect(printed.code).toBe(0);
    expect(printed.stdout).toBe(`${table}\n`);
    expect(readFileSync(copy, 'utf8')).toBe(readme);
  });

  it('says so when there are no runs, and --write puts a table between the markers', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'spikenas-results-'));
    expect(renderPaperTable(loadPaperResults(empty))).toContain(NO_RUNS);
    const readme = join(empty, 'README.md');
    writeFileSync(readme, `# x\n\n${README_START}\nold\n${README_END}\n\nafter\n`);
    const written = await runScript(TABLE, ['--write', '--results', empty, '--readme', readme]);
    expect(written.code).toBe(0);
    expect(readFileSync(readme, 'utf8')).toBe(
      `# x\n\n${README_START}\n_${NO_RUNS}._\n${README_END}\n\nafter\n`,
    );
  });
});

describe('bench:search end to end', () => {
  let result: CompletePaperResult;
  let half: PaperResult;
  let filled: PaperResult;
  let outFile: string;
  let drive: (
    out: string,
    args: string[],
    onStart?: (child: ChildProcess) => void,
  ) => ReturnType<typeof runScript>;
  let client: Client;

  beforeAll(async () => {
    const address = await ensureTemporal();
    client = await connectClient();
    const queues = useQueues('bench-search');
    const folder = mkdtempSync(join(tmpdir(), 'spikenas-bench-search-'));
    outFile = join(folder, 'result.json');
    const request = [
      ...['--profile', 'quick', '--dataset', 'synthetic', '--budget', '32KiB', '--seed', '3'],
      ...['--artifacts', join(folder, 'artifacts')],
    ];
    drive = (out, args, onStart) =>
      runScript(DRIVER, [...request, '--out', out, ...args], {
        ...(onStart ? { onStart } : {}),
        env: {
          ...process.env,
          TEMPORAL_ADDRESS: address,
          SPIKENAS_CPU_TASK_QUEUE: queues.cpu,
          SPIKENAS_GPU_TASK_QUEUE: queues.gpu,
          SPIKENAS_PROGRESS_SECONDS: '30',
        },
      });
    const started = Date.now();
    const driven = await drive(outFile, []);
    if (driven.code !== 0) throw new Error(`bench:search exited ${driven.code}:\n${driven.stderr}`);
    console.error(`bench:search (quick, synthetic) took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    // stdout is the JSON object, exactly as written (biome-formatted).
    expect(driven.stdout).toBe(readFileSync(outFile, 'utf8'));
    result = JSON.parse(driven.stdout) as CompletePaperResult;
    // The same two workflows recorded one mode per run into another file, as a paper run spread over
    // sessions is: each run follows its finished workflow.
    const prefix = ['--run-prefix', result.modes.spikenas.session.runPrefix];
    const halves = join(folder, 'halves.json');
    for (const mode of ['spikenas', 'snasnet']) {
      const run = await drive(halves, [...prefix, '--modes', mode]);
      if (run.code !== 0) throw new Error(`bench:search --modes ${mode} exited ${run.code}:\n${run.stderr}`);
      if (mode === 'spikenas') half = JSON.parse(run.stdout) as PaperResult;
      else filled = JSON.parse(run.stdout) as PaperResult;
    }
    // About 2.5 min on 2 cores with other work running (two quick searches); room for a busier machine.
  }, 1_200_000);

  afterAll(async () => {
    await client?.connection.close();
  });

  it('records both modes with the same request, through Temporal with 2 shards', () => {
    expect(result.profile).toBe('quick');
    expect(result.dataset).toBe('synthetic');
    expect(result.budget).toBe('32KiB');
    expect(result.budgetBytes).toBe(32 * 1024);
    expect(result.weightBits).toEqual([8, 6, 4]);
    expect(result.seed).toBe(3);
    expect(result.shards).toBe(2);
    expect(result.workers).toEqual({
      processes: 2,
      env: { SPIKENAS_THREAD_POLICY: '1x1' },
    });
    expect(Object.keys(result.modes).sort()).toEqual(['snasnet', 'spikenas']);
    for (const mode of ['spikenas', 'snasnet'] as const) {
      const m = result.modes[mode];
      expect(m.mode).toBe(mode);
      expect(m.session.temporal.startedDevServer).toBe(false);
      expect(m.session.backend).toMatch(/^tensorflow/);
      expect(m.session.command).toContain('npm run bench:search -- --profile quick');
      expect(Number.isNaN(Date.parse(m.session.date))).toBe(false);
      expect(m.session.machine.cores).toBeGreaterThan(0);
      expect(m.session.machine.loadAverage.start).toHaveLength(3);
      expect(m.session.machine.loadAverage.end).toHaveLength(3);
      expect(Array.isArray(m.session.machine.vectorExtensions)).toBe(true);
      expect(m.session.machine.matmulGflops).toBeGreaterThan(0);
      expect(m.runId).toBe(`${m.session.runPrefix}-${mode}`);
      expect(m.executions).toBe(1);
      expect(m.candidatesScored).toBeGreaterThan(0);
      expect(m.weightBytes).toBeLessThanOrEqual(result.budgetBytes);
      expect(m.fitsBudget).toBe(true);
      for (const accuracy of [m.testAccuracy, m.testAccuracyQuantized]) {
        expect(accuracy).toBeGreaterThanOrEqual(0);
        expect(accuracy).toBeLessThanOrEqual(1);
      }
      expect(m.stageWallMs['memory-aware-search']).toBeGreaterThan(0);
      expect(m.endToEndMs).toBe(Object.values(m.stageWallMs).reduce((a, b) => a + b, 0));
      const { 'train-winner': _train, 'quantize-evaluate': _quantize, ...searching } = m.stageWallMs;
      expect(m.searchTimeMs).toBe(Object.values(searching).reduce((a, b) => a + b, 0));
      expect(m.reusedFrom).toEqual({ operationImpact: null, winnerTraining: null });
      expect(m.report).toMatch(/report\.md$/);
    }
    const search = (m: ModeResult) => m.stageWallMs['memory-aware-search'] as number;
    expect(result.searchStageSpeedup).toBe(search(result.modes.snasnet) / search(result.modes.spikenas));
    expect(result.endToEndSpeedup).toBe(result.modes.snasnet.endToEndMs / result.modes.spikenas.endToEndMs);
    expect(result.searchTimeSpeedup).toBe(
      result.modes.snasnet.searchTimeMs / result.modes.spikenas.searchTimeMs,
    );
    expect(result.speedupsWithheld).toBeNull();
  });

  it('runs each mode a second night in the same store: impact and the unchanged winner are reused', () => {
    const { spikenas, snasnet } = result.modes;
    for (const m of [spikenas, snasnet]) {
      const night = m.laterNight as NonNullable<ModeResult['laterNight']>;
      expect(night.runId).toBe(`${m.session.runPrefix}-night2-${m.mode}`);
      expect(night.winner).toBe(m.winner);
      expect(night.weightBits).toBe(m.weightBits);
      expect(night.testAccuracyQuantized).toBe(m.testAccuracyQuantized);
      expect(night.endToEndMs).toBe(Object.values(night.stageWallMs).reduce((a, b) => a + b, 0));
      // Reused training is a lookup: far below the first night's.
      expect(night.stageWallMs['train-winner'] as number).toBeLessThan(
        (m.stageWallMs['train-winner'] as number) / 5,
      );
    }
    expect(spikenas.laterNight?.reusedFrom).toEqual({
      operationImpact: spikenas.runId,
      winnerTraining: spikenas.runId,
    });
    expect(snasnet.laterNight?.reusedFrom).toEqual({ operationImpact: null, winnerTraining: snasnet.runId });
    expect(result.laterNightSearchTimeSpeedup).toBe(
      (snasnet.laterNight?.searchTimeMs as number) / (spikenas.laterNight?.searchTimeMs as number),
    );
    expect(result.laterNightEndToEndSpeedup).toBe(
      (snasnet.laterNight?.endToEndMs as number) / (spikenas.laterNight?.endToEndMs as number),
    );
  });

  it('searches one mode after the other, then trains both winners side by side', async () => {
    for (const mode of ['spikenas', 'snasnet'] as const)
      expect(result.modes[mode].session.trainingHeld).toBe(true);
    const scheduled = async (mode: SearchMode, activity: string) => {
      const history = await client.workflow.getHandle(result.modes[mode].runId).fetchHistory();
      const event = history.events?.find(
        (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activity,
      );
      return Number(event?.eventTime?.seconds) * 1000 + (event?.eventTime?.nanos ?? 0) / 1e6;
    };
    // spikenas' search was done before snasnet's began; its training waited for snasnet's search.
    expect(await scheduled('snasnet', 'generateCandidates')).toBeGreaterThan(
      await scheduled('spikenas', 'selectWinner'),
    );
    expect(await scheduled('spikenas', 'trainWinner')).toBeGreaterThan(
      await scheduled('snasnet', 'selectWinner'),
    );
  });

  it('fills a file one mode per run: no speed-ups until both are in, then the same figures', () => {
    expect(Object.keys(half.modes)).toEqual(['spikenas']);
    expect(half.searchStageSpeedup).toBeNull();
    expect(half.endToEndSpeedup).toBeNull();
    expect(filled.modes.spikenas).toEqual(half.modes.spikenas);
    for (const mode of ['spikenas', 'snasnet'] as const) {
      const { session, startedByThisRun, elapsedMs: _elapsed, ...figures } = filled.modes[mode] as ModeResult;
      const { session: first, startedByThisRun: _s, elapsedMs: _e, ...same } = result.modes[mode];
      expect(startedByThisRun).toBe(false);
      expect(session.command).toContain(`--modes ${mode}`);
      expect(figures).toEqual(same);
      expect(session.date).toBe(first.date);
    }
    expect(filled.searchStageSpeedup).toBe(result.searchStageSpeedup);
    expect(filled.endToEndSpeedup).toBe(result.endToEndSpeedup);
  });

  it('runs nothing for a mode already recorded, and refuses a file of other settings, naming the field', async () => {
    const before = readFileSync(outFile, 'utf8');
    const again = await drive(outFile, ['--modes', 'snasnet']);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/snasnet: already recorded in .*; not run again/);
    expect(again.stdout).toBe(before);
    const other = await drive(outFile, ['--seed', '4']);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/seed: .* records seed 3, not 4/);
    const badMode = await drive(outFile, ['--modes', 'spikenas,random']);
    expect(badMode.code).toBe(2);
    expect(badMode.stderr).toContain("--modes: 'random' is not a mode; allowed: spikenas, snasnet");
    expect(readFileSync(outFile, 'utf8')).toBe(before);
  });

  it("stops on SIGTERM: terminates the running search, starts no other, says how to resume, and withholds a resumed run's speed-ups", async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'spikenas-bench-stop-')), 'stopped.json');
    // Another seed: the first runs' operation impact is cached, and this stop needs a stage in flight.
    const stopped = await drive(out, ['--seed', '5'], (child) => {
      let seen = '';
      child.stderr?.on('data', (chunk) => {
        seen += chunk;
        // Mid-activity, so that the workers take seconds to stop; once: a second SIGTERM is an immediate exit.
        if (seen.includes('% operation-impact') && !child.killed) child.kill('SIGTERM');
      });
    });
    expect(stopped.code).toBe(130);
    const prefix = /run prefix (\S+)/.exec(stopped.stderr)?.[1];
    expect(stopped.stderr).toContain(`to resume: the same command with --run-prefix ${prefix}`);
    expect(stopped.stderr).not.toContain('snasnet: started');
    expect((await client.workflow.getHandle(`${prefix}-spikenas`).describe()).status.name).toBe('TERMINATED');
    await expect(client.workflow.getHandle(`${prefix}-snasnet`).describe()).rejects.toBeInstanceOf(
      WorkflowNotFoundError,
    );

    // Resumed as it says, the run completes, but a stopped stage's wall time is no measurement.
    const resumed = await drive(out, ['--seed', '5', '--run-prefix', prefix as string]);
    if (resumed.code !== 0)
      throw new Error(`resumed bench:search exited ${resumed.code}:\n${resumed.stderr}`);
    const record = JSON.parse(resumed.stdout) as PaperResult;
    expect(record.modes.spikenas?.executions).toBe(2);
    expect(record.modes.snasnet?.executions).toBe(1);
    expect(record.searchStageSpeedup).toBeNull();
    expect(record.endToEndSpeedup).toBeNull();
    expect(record.speedupsWithheld).toMatch(/^spikenas search was resumed after a stop/);
    expect(renderPaperTable([record])).toMatch(
      /- 32KiB, seed 5 \(synthetic\): .*; no speed-ups: the spikenas search was resumed after a stop, .*; it is to be run again without a stop\./,
    );
  });

  it('copies the first pass, its agreement, the enhancement decisions and the impact evidence', () => {
    const s = result.modes.spikenas;
    // The pass that ran, as the profile states it (evidence included).
    expect(s.firstPass).toEqual(PROFILES.quick.firstPass);
    expect(s.prefiltered).toBeGreaterThan(0);
    expect(s.prefilterAgreement === null || Math.abs(s.prefilterAgreement) <= 1).toBe(true);
    expect(s.enhancement?.decisions.length).toBeGreaterThan(0);
    expect(s.impact?.impacts.length).toBeGreaterThan(0);
    for (const impact of s.impact?.impacts ?? []) {
      expect(typeof impact.meanDelta).toBe('number');
      expect(impact.n).toBeGreaterThan(0);
      expect(impact).not.toHaveProperty('samples');
    }
    // The snasnet baseline scores every sample with full SAHD: no first pass, no enhancement.
    expect(result.modes.snasnet.firstPass).toBeNull();
    expect(result.modes.snasnet.enhancement).toBeUndefined();
  });

  it('makes table rows from complete runs, and lists a half run and one timed on two machines as not comparable (copies recorded as paper runs)', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'spikenas-results-'));
    // Seed 4's copy as if it ran the paper profile's first pass, which carries its study's evidence.
    const withPass = (firstPass: FirstPass | null) => ({
      ...result.modes,
      spikenas: {
        ...result.modes.spikenas,
        firstPass,
        // Seed 4's winner as if trained quantization-aware: the table shows what PTQ scored beside it.
        ...(firstPass === PROFILES.paper.firstPass
          ? { quantization: { method: 'quantization-aware', postTrainingAccuracy: 0.5 } }
          : {}),
      },
    });
    for (const [seed, pass] of [
      [3, result.modes.spikenas.firstPass],
      [4, PROFILES.paper.firstPass],
    ] as const) {
      const copy = { ...result, profile: 'paper', seed, modes: withPass(pass) };
      writeFileSync(join(folder, `paper-synthetic-32KiB-seed${seed}.json`), JSON.stringify(copy));
    }
    writeFileSync(
      join(folder, 'paper-synthetic-32KiB-seed5.json'),
      JSON.stringify({ ...half, profile: 'paper', seed: 5 }),
    );
    // The same run, its snasnet half as if timed on a CPU with other vector units.
    const { snasnet } = result.modes;
    const elsewhere = withSpeedups({
      ...result,
      profile: 'paper',
      seed: 6,
      modes: {
        ...result.modes,
        snasnet: {
          ...snasnet,
          session: {
            ...snasnet.session,
            machine: {
              ...snasnet.session.machine,
              vectorExtensions: [...snasnet.session.machine.vectorExtensions, 'avx512x'],
            },
          },
        },
      },
    });
    expect(elsewhere.searchStageSpeedup).toBeNull();
    expect(elsewhere.endToEndSpeedup).toBeNull();
    expect(elsewhere.speedupsWithheld).toMatch(/^modes ran on .* against .*avx512x/);
    writeFileSync(join(folder, 'paper-synthetic-32KiB-seed6.json'), JSON.stringify(elsewhere));
    expect(readdirSync(folder)).toHaveLength(4);
    const printed = await runScript(TABLE, ['--results', folder]);
    expect(printed.code).toBe(0);
    const table = printed.stdout;
    expect(table).toContain(`\`${result.modes.spikenas.winner}\``);
    expect(table).toContain(`\`${result.modes.snasnet.winner}\``);
    expect(table).toContain('mean ± sd (2 seeds)');
    expect(table.split(' % QAT (PTQ 50.00 %)')).toHaveLength(2);
    expect(table).toContain(result.modes.spikenas.session.backend);
    // One header, one separator, two seed rows and the mean row: the half run is not a row.
    expect(table.split('\n').filter((line) => line.startsWith('| '))).toHaveLength(5);
    // Each complete record's stage wall times, every stage of both modes; none for the others.
    const stages = table.split('\n').filter((line) => /^- 32KiB, seed \d: spikenas [a-z]/.test(line));
    expect(stages.map((line) => line.slice(0, 15))).toEqual(['- 32KiB, seed 3', '- 32KiB, seed 4']);
    for (const mode of ['spikenas', 'snasnet'] as const) {
      for (const stage of Object.keys(result.modes[mode].stageWallMs))
        expect(stages[0]).toMatch(
          new RegExp(
            `${mode} [^;]*${stage.replaceAll('-', ' ')} (\\d+ ms|\\d+\\.\\d s|\\d+ min \\d+ s|\\d+ h \\d+ min)`,
          ),
        );
    }
    // spikenas' cell counts its first-pass scores and its full ones; snasnet's, its full ones.
    const { spikenas } = result.modes;
    expect(table).toContain(
      `| ${spikenas.prefiltered} + ${spikenas.candidatesScored} / ${snasnet.candidatesScored} |`,
    );
    // Each first pass that ran, once, with the agreement its study measured or the lack of one.
    const quickPass = spikenas.firstPass as FirstPass;
    const paperPass = PROFILES.paper.firstPass as FirstPass;
    const evidence = paperPass.evidence as FirstPassEvidence;
    const passes = table.split('\n').filter((line) => line.startsWith('- spikenas: T = '));
    expect(passes).toEqual([
      `- spikenas: T = ${quickPass.timesteps} on ${quickPass.batchSize} images x 1, ${quickPass.survivors} survivors; no measured agreement recorded.`,
      expect.stringContaining(
        `T = ${paperPass.timesteps} on ${paperPass.batchSize} images x 1, ${paperPass.survivors} survivors; ` +
          `on ${evidence.candidates} unfiltered random candidates its best ${paperPass.survivors} held ` +
          `${evidence.top20Kept} of the full-SAHD top 20, Spearman ${evidence.spearmanRho.toFixed(3)}`,
      ),
    ]);
    expect(table).not.toContain('- snasnet: T = ');
    expect(table).toMatch(/- 32KiB, seed 5 \(synthetic\): spikenas `[0-9 ]+`.*; waiting for snasnet\./);
    expect(table).toMatch(
      /- 32KiB, seed 6 \(synthetic\): spikenas .*; snasnet .*; no speed-ups: the modes ran on .*avx512x.*; one mode is to be run again on the other's machine\./,
    );
    // Which machine ran which record, and which mode where a record's modes ran on two.
    const machines = table.split('\n').find((line) => line.startsWith('Machine')) as string;
    expect(machines).toMatch(
      /^Machines: [^;]*; backend [^;]* \(32KiB seed 3, 32KiB seed 4, 32KiB seed 5, 32KiB seed 6 spikenas\); /,
    );
    expect(machines).toMatch(/avx512x\), [^;]*; backend [^;]* \(32KiB seed 6 snasnet\)\.$/);
  });
});
