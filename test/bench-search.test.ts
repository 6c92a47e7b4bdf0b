/**
 * `npm run bench:search` and the README's paper-results table: the README between its markers is what
 * bench/results-table.ts makes of the committed bench/results/paper-*.json, so the table cannot go stale;
 * and the compiled driver runs both modes end to end through the test Temporal server (quick profile,
 * synthetic data) and writes the JSON the table reads.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  loadPaperResults,
  NO_RUNS,
  type PaperResult,
  README_END,
  README_START,
  renderPaperTable,
  replaceBetweenMarkers,
} from '../bench/paper-results.js';
import { PROFILES } from '../search/profiles.js';
import { ensureTemporal, ROOT, useQueues } from './support/temporal.js';

const DRIVER = `${ROOT}dist/bench/search-speed.js`;
const TABLE = `${ROOT}dist/bench/results-table.js`;
const RESULTS = `${ROOT}bench/results`;

function run(args: string[], env: NodeJS.ProcessEnv = process.env) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => {
      stdout += c;
    });
    child.stderr.on('data', (c) => {
      stderr += c;
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

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
    const printed = await run([TABLE, '--write', '--readme', copy]);
    expect(printed.code).toBe(0);
    expect(printed.stdout).toBe(`${table}\n`);
    expect(readFileSync(copy, 'utf8')).toBe(readme);
  });

  it('says so when there are no runs, and --write puts a table between the markers', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'spikenas-results-'));
    expect(renderPaperTable(loadPaperResults(empty))).toContain(NO_RUNS);
    const readme = join(empty, 'README.md');
    writeFileSync(readme, `# x\n\n${README_START}\nold\n${README_END}\n\nafter\n`);
    const written = await run([TABLE, '--write', '--results', empty, '--readme', readme]);
    expect(written.code).toBe(0);
    expect(readFileSync(readme, 'utf8')).toBe(
      `# x\n\n${README_START}\n_${NO_RUNS}._\n${README_END}\n\nafter\n`,
    );
  });
});

describe('bench:search end to end', () => {
  let result: PaperResult;
  let outFile: string;

  beforeAll(async () => {
    const address = await ensureTemporal();
    const queues = useQueues('bench-search');
    const folder = mkdtempSync(join(tmpdir(), 'spikenas-bench-search-'));
    outFile = join(folder, 'result.json');
    const started = Date.now();
    const driven = await run(
      [
        DRIVER,
        ...['--profile', 'quick', '--dataset', 'synthetic', '--budget', '32KiB', '--seed', '3'],
        ...['--artifacts', join(folder, 'artifacts'), '--out', outFile],
      ],
      {
        ...process.env,
        TEMPORAL_ADDRESS: address,
        SPIKENAS_CPU_TASK_QUEUE: queues.cpu,
        SPIKENAS_GPU_TASK_QUEUE: queues.gpu,
        SPIKENAS_PROGRESS_SECONDS: '30',
      },
    );
    if (driven.code !== 0) throw new Error(`bench:search exited ${driven.code}:\n${driven.stderr}`);
    console.error(`bench:search (quick, synthetic) took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    // stdout is the JSON object, exactly as written (biome-formatted).
    expect(driven.stdout).toBe(readFileSync(outFile, 'utf8'));
    result = JSON.parse(driven.stdout) as PaperResult;
    // About 2.5 min on 2 cores with other work running (two quick searches); room for a busier machine.
  }, 600_000);

  it('records both modes with the same request, through Temporal with 2 shards', () => {
    expect(result.profile).toBe('quick');
    expect(result.dataset).toBe('synthetic');
    expect(result.budget).toBe('32KiB');
    expect(result.budgetBytes).toBe(32 * 1024);
    expect(result.weightBits).toBe(8);
    expect(result.seed).toBe(3);
    expect(result.shards).toBe(2);
    expect(result.workers).toEqual({
      processes: 2,
      env: { TF_NUM_INTRAOP_THREADS: '1', SPIKENAS_THREADS: '1' },
    });
    expect(result.temporal.startedDevServer).toBe(false);
    expect(result.backend).toMatch(/^tensorflow/);
    expect(result.machine.cores).toBeGreaterThan(0);
    expect(result.machine.loadAverage.start).toHaveLength(3);
    expect(result.machine.loadAverage.end).toHaveLength(3);
    expect(Object.keys(result.modes).sort()).toEqual(['snasnet', 'spikenas']);
    for (const mode of ['spikenas', 'snasnet'] as const) {
      const m = result.modes[mode];
      expect(m.mode).toBe(mode);
      expect(m.runId).toBe(`${result.runPrefix}-${mode}`);
      expect(m.candidatesScored).toBeGreaterThan(0);
      expect(m.weightBytes).toBeLessThanOrEqual(result.budgetBytes);
      expect(m.fitsBudget).toBe(true);
      for (const accuracy of [m.testAccuracy, m.testAccuracyQuantized]) {
        expect(accuracy).toBeGreaterThanOrEqual(0);
        expect(accuracy).toBeLessThanOrEqual(1);
      }
      expect(m.stageWallMs['memory-aware-search']).toBeGreaterThan(0);
      expect(m.totalWallMs).toBe(Object.values(m.stageWallMs).reduce((a, b) => a + b, 0));
      expect(m.report).toMatch(/report\.md$/);
    }
    for (const speedup of [result.searchStageSpeedup, result.endToEndSpeedup]) {
      expect(Number.isFinite(speedup)).toBe(true);
      expect(speedup).toBeGreaterThan(0);
    }
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

  it('makes a table row from the run (a copy recorded as a paper run in a temporary folder)', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'spikenas-results-'));
    for (const seed of [3, 4]) {
      const copy = { ...result, profile: 'paper', seed };
      writeFileSync(join(folder, `paper-synthetic-32KiB-seed${seed}.json`), JSON.stringify(copy));
    }
    expect(readdirSync(folder)).toHaveLength(2);
    const printed = await run([TABLE, '--results', folder]);
    expect(printed.code).toBe(0);
    const table = printed.stdout;
    expect(table).toContain(`\`${result.modes.spikenas.winner}\``);
    expect(table).toContain(`\`${result.modes.snasnet.winner}\``);
    expect(table).toContain('mean ± sd (2 seeds)');
    expect(table).toContain(result.backend);
    // One header, one separator, two seed rows and the mean row.
    expect(table.split('\n').filter((line) => line.startsWith('| '))).toHaveLength(5);
  });
});
