/**
 * What do 8, 6 and 4 bits cost, against 32, after post-training quantization and after
 * quantization-aware training, and what does a doubling of parameters buy? A seeded sample of distinct
 * forward cells (the cells spikenas mode searches) is trained with one schedule; each cell's plain training
 * is quantized (PTQ) and, at each width, trained again with its last epoch quantization-aware (QAT, resumed
 * before that epoch); the first few cells are also trained quantization-aware from the first step at the
 * narrowest width, which says whether QAT pays from the start or as a final phase. The summary is the
 * evidence the search's rule for trading parameters against bits comes from. Every finished cell is
 * appended to the study's JSON, so an interrupted study resumes where it stopped.
 *
 *   npm run study:precision -- [--cells 10] [--epochs 3] [--max-steps 300] [--from-start 4] [--out file.json]
 */
import { Command } from 'commander';
import { formatDuration } from '../common/duration.js';
import { deriveSeed } from '../common/rng.js';
import { formatArch } from '../search/space/arch.js';
import { sampleCandidates } from '../search/space/sample.js';
import { describeBackend, initBackend, QUANT_BITS, type QuantBits, resolvePreset } from '../snn/index.js';
import type { ByBits, PrecisionJob, PrecisionOutcome, StudyData, TrainSchedule } from './jobs.js';
import {
  addStudyOptions,
  integerOption,
  type StudyOptions,
  studyBackend,
  studyData,
  studyOut,
} from './options.js';
import { runStudy } from './run-study.js';
import { StudyFile } from './study-file.js';

interface Settings {
  dataset: string;
  preset: string;
  seed: number;
  cells: number;
  bits: QuantBits[];
  /** Cells (the first of the sample) also trained quantization-aware from the start, at the narrowest bits. */
  fromStartCells: number;
  schedule: TrainSchedule;
  data: StudyData;
}

type Result = { index: number; arch: string } & PrecisionOutcome;

/** Mean and sample standard deviation of accuracy points lost against 32 bits, over n cells. */
interface Cost {
  n: number;
  meanPoints: number;
  sdPoints: number;
}

interface Summary {
  cells: number;
  accuracy32: { min: number; median: number; max: number } | null;
  /** Points lost against 32 bits, by method and width. */
  costVs32: Record<'ptq' | 'qatLastEpoch' | 'qatFromStart', Record<string, Cost>>;
  /** On the cells trained both ways at the narrowest width: QAT from the start minus QAT in the last epoch. */
  fromStartMinusLastEpoch: Cost | null;
  /** Least-squares slope of 32-bit accuracy (points) per doubling of parameters, over the sample. */
  pointsPerParamDoubling: number | null;
}

const options = addStudyOptions(
  new Command('study:precision').description(
    'accuracy at 8, 6 and 4 bits after PTQ and QAT against 32 bits, on a sample of forward cells',
  ),
)
  .option('--cells <n>', 'forward cells sampled and trained', integerOption('cells', 2), 10)
  .option('--epochs <n>', 'training epochs', integerOption('epochs', 1), 3)
  .option('--batch-size <n>', 'training batch', integerOption('batch-size', 1), 64)
  .option('--max-steps <n>', 'cap steps per epoch', integerOption('max-steps', 1), 300)
  .option(
    '--from-start <n>',
    'cells also trained quantization-aware from the start',
    integerOption('from-start', 0),
    4,
  )
  .option(
    '--test-limit <n>',
    'load only this many test images (tiny runs only)',
    integerOption('test-limit', 1),
  )
  .parse()
  .opts<
    StudyOptions & {
      cells: number;
      epochs: number;
      batchSize: number;
      maxSteps: number;
      fromStart: number;
      testLimit?: number;
    }
  >();

const bits = [...QUANT_BITS].sort((a, b) => b - a);
const settings: Settings = {
  dataset: options.dataset,
  preset: options.preset,
  seed: options.seed,
  cells: options.cells,
  bits,
  fromStartCells: Math.min(options.fromStart, options.cells),
  schedule: { epochs: options.epochs, batchSize: options.batchSize, maxStepsPerEpoch: options.maxSteps },
  data: studyData(options, options.testLimit),
};
const config = { ...resolvePreset(settings.preset), cellType: 'forward' as const };
const cells = sampleCandidates(deriveSeed(settings.seed, 'precision/cells'), settings.cells, {
  distinct: true,
  cellType: 'forward',
}).map(formatArch);

const backend = describeBackend(await initBackend());
const study = new StudyFile<Settings, Result, Summary>(
  studyOut('qat-precision', options),
  {
    study: 'qat-precision',
    command: `npm run study:precision -- ${process.argv.slice(2).join(' ')}`.trim(),
    backend: studyBackend(backend, options),
    settings,
  },
  summarise,
);

await runStudy(study, options.workers, async (pool) => {
  await Promise.all(
    cells.map(async (arch, index) => {
      if (study.results.some((r) => r.index === index)) return;
      const job: PrecisionJob = {
        kind: 'precision',
        data: settings.data,
        arch,
        config,
        schedule: settings.schedule,
        seed: deriveSeed(settings.seed, 'precision/train'),
        bits: settings.bits,
        fromStart: index < settings.fromStartCells ? [bits.at(-1) as QuantBits] : [],
      };
      const outcome = await pool.run(job);
      study.append({ index, arch, ...outcome });
      const narrow = String(bits.at(-1));
      console.error(
        `[${study.results.length}/${cells.length}] ${arch} (${outcome.params} params): 32-bit ` +
          `${percent(outcome.accuracy32)}, ${narrow}-bit PTQ ${percent(outcome.ptq[narrow])}, ` +
          `QAT ${percent(outcome.qatLastEpoch[narrow])} in ${formatDuration(outcome.wallMs)}`,
      );
    }),
  );
});
console.log(JSON.stringify(study.summary, null, 2));

function percent(fraction: number | undefined): string {
  return fraction === undefined ? '-' : `${(fraction * 100).toFixed(2)} %`;
}

function cost(losses: number[]): Cost {
  const n = losses.length;
  const mean = n === 0 ? 0 : losses.reduce((a, b) => a + b, 0) / n;
  const variance = n < 2 ? 0 : losses.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
  return { n, meanPoints: round(mean), sdPoints: round(Math.sqrt(variance)) };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

function costs(results: readonly Result[], of: (r: Result) => ByBits): Record<string, Cost> {
  const out: Record<string, Cost> = {};
  for (const b of settings.bits) {
    const losses = results.flatMap((r) => {
      const accuracy = of(r)[b];
      return accuracy === undefined ? [] : [(r.accuracy32 - accuracy) * 100];
    });
    if (losses.length > 0) out[b] = cost(losses);
  }
  return out;
}

function summarise(results: readonly Result[]): Summary {
  const sorted = results.map((r) => r.accuracy32).sort((a, b) => a - b);
  const narrow = String(settings.bits.at(-1));
  const both = results.filter(
    (r) => r.qatFromStart[narrow] !== undefined && r.qatLastEpoch[narrow] !== undefined,
  );
  return {
    cells: results.length,
    accuracy32:
      sorted.length === 0
        ? null
        : {
            min: sorted[0] as number,
            median: sorted[Math.floor(sorted.length / 2)] as number,
            max: sorted.at(-1) as number,
          },
    costVs32: {
      ptq: costs(results, (r) => r.ptq),
      qatLastEpoch: costs(results, (r) => r.qatLastEpoch),
      qatFromStart: costs(results, (r) => r.qatFromStart),
    },
    fromStartMinusLastEpoch:
      both.length === 0
        ? null
        : cost(
            both.map((r) => ((r.qatFromStart[narrow] as number) - (r.qatLastEpoch[narrow] as number)) * 100),
          ),
    pointsPerParamDoubling: slope(
      results.map((r) => Math.log2(r.params)),
      results.map((r) => r.accuracy32 * 100),
    ),
  };
}

/** Least-squares slope of y on x; null with fewer than 3 points or no spread in x. */
function slope(x: number[], y: number[]): number | null {
  if (x.length < 3) return null;
  const mx = x.reduce((a, b) => a + b, 0) / x.length;
  const my = y.reduce((a, b) => a + b, 0) / y.length;
  let sxy = 0;
  let sxx = 0;
  x.forEach((xi, i) => {
    sxy += (xi - mx) * ((y[i] as number) - my);
    sxx += (xi - mx) ** 2;
  });
  return sxx === 0 ? null : round(sxy / sxx);
}
