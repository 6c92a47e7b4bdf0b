/**
 * The method studies at tiny size, as CI runs them: the compiled commands on real Fashion-MNIST files,
 * with their job processes. The full-size runs are benchmark runs (bench/results/); these check that the
 * code path works, that a study resumes from its JSON without redoing work, and that it refuses to mix
 * settings in one file.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planImpactPairs } from '../search/strategy/impact-plan.js';
import { OP_NAMES, type OpCode } from '../snn/cell-matrix.js';
import { ROOT } from './support/temporal.js';

const dir = mkdtempSync(join(tmpdir(), 'spikenas-studies-'));

function study(script: string, args: string[]) {
  const run = spawnSync(process.execPath, [join(ROOT, 'dist', 'studies', script), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return { status: run.status, stderr: run.stderr };
}

interface StudyJson {
  study: string;
  backend: string;
  machines: string[];
  settings: Record<string, unknown>;
  results: { kind?: string; pass?: string; index: number; trainSeed?: number; wallMs: number }[];
  summary: Record<string, unknown>;
}
const read = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as StudyJson;

describe('sahd-predictor study', () => {
  const out = join(dir, 'predictor.json');
  const tiny = [
    ...['--preset', 'fmnist-tiny', '--candidates', '4', '--retrain', '3', '--epochs', '1'],
    ...['--max-steps', '4', '--train-limit', '1200', '--test-limit', '200', '--sahd-batch', '32'],
    ...['--out', out],
  ];

  it('scores and trains every candidate, the first three with a second seed, and summarises', () => {
    const run = study('sahd-predictor.js', tiny);
    expect(run.status, run.stderr).toBe(0);
    const json = read(out);
    expect(json.study).toBe('sahd-predictor');
    expect(json.backend).toMatch(/1 thread\) x 2 processes/);
    expect(
      json.results
        .filter((r) => r.kind === 'sahd')
        .map((r) => r.index)
        .sort(),
    ).toEqual([0, 1, 2, 3]);
    const trainings = json.results.filter((r) => r.kind === 'train');
    expect(trainings.filter((r) => r.trainSeed === 1)).toHaveLength(4);
    expect(
      trainings
        .filter((r) => r.trainSeed === 2)
        .map((r) => r.index)
        .sort(),
    ).toEqual([0, 1, 2]);
    const summary = json.summary as {
      trained: number;
      predictors: Record<
        string,
        { kendallTau: { value: number | null }; spearmanRho: { value: number | null } }
      >;
      seedAgreement: { candidates: number; meanAbsDifference: number };
    };
    expect(summary.trained).toBe(4);
    for (const predictor of ['sahd', 'params', 'random']) {
      const tau = summary.predictors[predictor]?.kendallTau.value;
      if (tau !== null) expect(Math.abs(tau as number)).toBeLessThanOrEqual(1);
    }
    expect(summary.seedAgreement.candidates).toBe(3);
    expect(summary.seedAgreement.meanAbsDifference).toBeGreaterThanOrEqual(0);
  });

  it('resumes from its file without redoing any result or listing its machine twice', () => {
    // As if the first session had started at another load: the same machine all the same.
    const first = read(out);
    const [machine] = first.machines;
    const earlier = machine?.replace(/load average [\d.]+/, 'load average 9.9');
    writeFileSync(out, JSON.stringify({ ...first, machines: [earlier] }));
    const before = read(out);
    const run = study('sahd-predictor.js', tiny);
    expect(run.status, run.stderr).toBe(0);
    expect(read(out).results).toEqual(before.results);
    expect(read(out).machines).toEqual([earlier]);
  });

  it('refuses other settings for the same file, naming the field', () => {
    const run = study(
      'sahd-predictor.js',
      tiny.map((a) => (a === '4' ? '5' : a)),
    );
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/candidates: .* was started with candidates 4, not 5/);
    expect(read(out).settings.candidates).toBe(4);
  });
});

interface PrecisionJson {
  study: string;
  results: {
    index: number;
    arch: string;
    params: number;
    accuracy32: number;
    ptq: Record<string, number>;
    qatLastEpoch: Record<string, number>;
    qatFromStart: Record<string, number>;
  }[];
  summary: {
    cells: number;
    costVs32: Record<string, Record<string, { n: number; meanPoints: number }>>;
    fromStartMinusLastEpoch: { n: number } | null;
  };
}

describe('qat-precision study', () => {
  const out = join(dir, 'precision.json');
  const tiny = [
    ...['--preset', 'fmnist-tiny', '--cells', '3', '--epochs', '2', '--max-steps', '3', '--from-start', '1'],
    ...['--train-limit', '1200', '--test-limit', '200', '--out', out],
  ];

  it('trains every cell plain, quantized after training and quantization-aware, and summarises the costs', () => {
    const run = study('qat-precision.js', tiny);
    expect(run.status, run.stderr).toBe(0);
    const json = JSON.parse(readFileSync(out, 'utf8')) as PrecisionJson;
    expect(json.study).toBe('qat-precision');
    expect(json.results.map((r) => r.index).sort()).toEqual([0, 1, 2]);
    for (const r of json.results) {
      expect(r.arch).toMatch(/^[0-4]{4}( [0-4]{4}){3}$/);
      expect(r.params).toBeGreaterThan(0);
      expect(Object.keys(r.ptq).sort()).toEqual(['4', '6', '8']);
      expect(Object.keys(r.qatLastEpoch).sort()).toEqual(['4', '6', '8']);
      expect(Object.keys(r.qatFromStart)).toEqual(r.index === 0 ? ['4'] : []);
      for (const accuracy of [r.accuracy32, ...Object.values(r.ptq), ...Object.values(r.qatLastEpoch)]) {
        expect(accuracy).toBeGreaterThanOrEqual(0);
        expect(accuracy).toBeLessThanOrEqual(1);
      }
    }
    const summary = json.summary;
    expect(summary.cells).toBe(3);
    expect(summary.costVs32.ptq?.['4']?.n).toBe(3);
    const first = json.results.find((r) => r.index === 0);
    const expected =
      json.results.reduce((sum, r) => sum + (r.accuracy32 - (r.ptq['4'] as number)) * 100, 0) / 3;
    expect(summary.costVs32.ptq?.['4']?.meanPoints).toBeCloseTo(expected, 2);
    expect(summary.fromStartMinusLastEpoch?.n).toBe(1);
    expect(first?.qatFromStart['4']).toBeDefined();
  });

  it('resumes from its file without training again', () => {
    const before = read(out);
    const run = study('qat-precision.js', tiny);
    expect(run.status, run.stderr).toBe(0);
    expect(read(out).results).toEqual(before.results);
  });
});

describe('a study stopped part-way', () => {
  /** Starts a small sahd-predictor study and resolves once its first training is in the file. */
  async function startAndWaitForATraining(out: string) {
    const child = spawn(
      process.execPath,
      [
        join(ROOT, 'dist', 'studies', 'sahd-predictor.js'),
        ...['--preset', 'fmnist-tiny', '--candidates', '6', '--retrain', '0', '--epochs', '1'],
        ...['--max-steps', '4', '--train-limit', '1200', '--test-limit', '200', '--sahd-batch', '32'],
        ...['--out', out],
      ],
      { cwd: ROOT, stdio: 'ignore' },
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    while (!existsSync(out) || !read(out).results.some((r) => r.kind === 'train')) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return { child, exited };
  }

  const formatted = (file: string) =>
    spawnSync(join(ROOT, 'node_modules', '.bin', 'biome'), ['format', file], { cwd: ROOT });

  it('exits with 143 on SIGTERM after summarising every finished result into a formatted file', async () => {
    const out = join(dir, 'stopped.json');
    const { child, exited } = await startAndWaitForATraining(out);
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
    const json = read(out);
    const trained = json.results.filter((r) => r.kind === 'train').length;
    expect(trained).toBeLessThan(6);
    expect((json.summary as { trained: number }).trained).toBe(trained);
    const lint = formatted(out);
    expect(lint.status, String(lint.stdout)).toBe(0);
  });

  it('leaves a formatted file with every finished result when SIGKILLed', async () => {
    const out = join(dir, 'killed.json');
    const { child, exited } = await startAndWaitForATraining(out);
    child.kill('SIGKILL');
    await exited;
    expect(read(out).results.some((r) => r.kind === 'train')).toBe(true);
    const lint = formatted(out);
    expect(lint.status, String(lint.stdout)).toBe(0);
  });
});

describe('first-pass agreement study', () => {
  const out = join(dir, 'first-pass.json');
  const tiny = [
    '--preset',
    'fmnist-tiny',
    '--candidates',
    '20',
    '--full-batch',
    '32',
    '--train-limit',
    '600',
  ];

  it('scores every candidate with full SAHD and every pass, and judges each pass on the top 20', () => {
    const run = study('first-pass-agreement.js', [...tiny, '--out', out]);
    expect(run.status, run.stderr).toBe(0);
    const json = read(out);
    const passes = Object.keys(json.settings.passes as object);
    expect(json.results).toHaveLength(20 * (passes.length + 1));
    const summary = json.summary as {
      complete: number;
      passes: Record<
        string,
        { costRatio: number; top20Kept: Record<string, number>; survivorsNeeded: number | null }
      >;
    };
    expect(summary.complete).toBe(20);
    for (const pass of passes) {
      const judged = summary.passes[pass];
      expect(judged?.costRatio).toBeGreaterThan(0);
      // With 20 candidates, keeping all 20 keeps the whole top 20.
      expect(judged?.top20Kept['20']).toBe(20);
      expect(judged?.survivorsNeeded).toBe(20);
    }
  });
});

interface ImpactScheduleJson {
  settings: { impactSeed: number; ops: OpCode[]; feedback: boolean; samplesPerOp: number; steps: number[] };
  results: { steps: number; key: string; valAccuracy: number }[];
  summary: {
    trainingsPerSchedule: number;
    schedules: Record<
      string,
      {
        trainings: number;
        impacts: { subject: string; n: number; meanPoints: number }[];
        decisions: { ops: number[]; cellType: string };
        againstReference: { pairGainsRho: number | null; sameDecisions: boolean } | null;
      }
    >;
  };
}

describe('impact-schedule study', () => {
  const out = join(dir, 'impact-schedule.json');
  const tiny = ['--preset', 'fmnist-tiny', '--steps', '2,4', '--train-limit', '1200', '--out', out];

  it("trains the paper profile's impact pairs at each schedule and compares each with the longest", () => {
    const run = study('impact-schedule.js', tiny);
    expect(run.status, run.stderr).toBe(0);
    const json = JSON.parse(readFileSync(out, 'utf8')) as ImpactScheduleJson;
    expect(json.settings.steps).toEqual([4, 2]);
    const { settings } = json;
    const pairs = planImpactPairs(
      { ...settings, samplesPerLook: [settings.samplesPerOp] },
      settings.impactSeed,
    );
    const trainings = new Set(
      pairs.flatMap((p) => [`${p.cellType}|${p.withArch}`, `${p.cellType}|${p.withoutArch}`]),
    );
    expect(json.summary.trainingsPerSchedule).toBe(trainings.size);
    expect(json.results).toHaveLength(2 * trainings.size);
    const reference = json.summary.schedules['4'];
    const shorter = json.summary.schedules['2'];
    expect(reference?.againstReference).toBeNull();
    expect(typeof shorter?.againstReference?.sameDecisions).toBe('boolean');
    // The reference's impacts, recomputed from its trainings: the mean gain of each subject's pairs.
    const accuracy = (key: string) =>
      json.results.find((r) => r.steps === 4 && r.key === key)?.valAccuracy as number;
    for (const impact of reference?.impacts ?? []) {
      const mine = pairs.filter(
        (p) => (p.subject === 'feedback' ? 'feedback' : OP_NAMES[p.subject]) === impact.subject,
      );
      expect(impact.n).toBe(mine.length);
      const gains = mine.map(
        (p) => accuracy(`${p.cellType}|${p.withArch}`) - accuracy(`${p.cellType}|${p.withoutArch}`),
      );
      expect(impact.meanPoints).toBeCloseTo((gains.reduce((a, b) => a + b, 0) / gains.length) * 100, 2);
    }
    expect(reference?.impacts.map((i) => i.subject)).toEqual([
      'skip',
      'conv1x1',
      'conv3x3',
      'avgpool3x3',
      'feedback',
    ]);
  });

  it('resumes from its file without training again', () => {
    const before = read(out);
    const run = study('impact-schedule.js', tiny);
    expect(run.status, run.stderr).toBe(0);
    expect(read(out).results).toEqual(before.results);
  });
});
