/**
 * Is SAHD a good predictor here? A seeded random sample of valid canonical candidates of the full 5-op
 * backward space is scored with SAHD and trained with one fixed schedule; the study reports Kendall's tau
 * and Spearman's rho (with bootstrap 95% intervals) between each predictor (SAHD, parameter count, a
 * random ranking) and validation accuracy, and, from candidates trained with a second seed, how much of
 * the accuracy ranking is the architecture rather than the seed. Every finished score and training is
 * appended to the study's JSON, so an interrupted study resumes where it stopped.
 *
 *   npm run study:predictor -- [--candidates 40] [--retrain 10] [--epochs 2] [--out file.json]
 */
import { Command } from 'commander';
import { formatDuration } from '../common/duration.js';
import { deriveSeed, Rng } from '../common/rng.js';
import { formatArch, parseArch } from '../search/space/arch.js';
import { countParams } from '../search/space/memory.js';
import { sampleCandidates } from '../search/space/sample.js';
import { bootstrapEstimate, type Estimate, kendallTau, spearman } from '../search/stats/rank-stats.js';
import { describeBackend, initBackend, resolvePreset } from '../snn/index.js';
import type { ScoringPass, StudyData, TrainJob, TrainSchedule } from './jobs.js';
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
  candidates: number;
  retrain: number;
  sahd: ScoringPass;
  schedule: TrainSchedule;
  data: StudyData;
  bootstrapResamples: number;
}

type Result =
  /** sahd is null when the kernel is singular (log |det K| = -infinity): it ranks such a candidate last. */
  | { kind: 'sahd'; index: number; arch: string; params: number; sahd: number | null; wallMs: number }
  | {
      kind: 'train';
      index: number;
      arch: string;
      trainSeed: 1 | 2;
      valAccuracy: number;
      testAccuracy: number;
      lossCurve: number[];
      wallMs: number;
    };

interface PredictorEstimate {
  kendallTau: Estimate;
  spearmanRho: Estimate;
}

interface Summary {
  /** Candidates with a SAHD score and a first-seed accuracy. */
  trained: number;
  valAccuracy: { min: number; median: number; max: number } | null;
  predictors: Record<'sahd' | 'params' | 'random', PredictorEstimate> | null;
  /** Between the first and the second training seed, on the candidates trained with both. */
  seedAgreement: ({ candidates: number; meanAbsDifference: number } & PredictorEstimate) | null;
}

const options = addStudyOptions(
  new Command('study:predictor').description(
    'SAHD against trained accuracy on a seeded random sample of the search space',
  ),
)
  .option('--candidates <n>', 'candidates sampled, scored and trained', integerOption('candidates', 2), 40)
  .option('--retrain <n>', 'candidates also trained with a second seed', integerOption('retrain', 0), 10)
  .option(
    '--epochs <n>',
    'training epochs (the one schedule every candidate gets)',
    integerOption('epochs', 1),
    2,
  )
  .option('--batch-size <n>', 'training batch', integerOption('batch-size', 1), 64)
  .option('--max-steps <n>', 'cap steps per epoch (tiny runs only)', integerOption('max-steps', 1))
  .option(
    '--test-limit <n>',
    'load only this many test images (tiny runs only)',
    integerOption('test-limit', 1),
  )
  .option('--sahd-batch <n>', 'SAHD batch size', integerOption('sahd-batch', 2), 256)
  .parse()
  .opts<
    StudyOptions & {
      candidates: number;
      retrain: number;
      epochs: number;
      batchSize: number;
      maxSteps?: number;
      testLimit?: number;
      sahdBatch: number;
    }
  >();

const settings: Settings = {
  dataset: options.dataset,
  preset: options.preset,
  seed: options.seed,
  candidates: options.candidates,
  retrain: Math.min(options.retrain, options.candidates),
  sahd: { batchSize: options.sahdBatch, repeats: 2, timesteps: resolvePreset(options.preset).timesteps },
  schedule: {
    epochs: options.epochs,
    batchSize: options.batchSize,
    ...(options.maxSteps ? { maxStepsPerEpoch: options.maxSteps } : {}),
  },
  data: studyData(options, options.testLimit),
  bootstrapResamples: 2000,
};
const out = studyOut('sahd-predictor', options);
const config = resolvePreset(settings.preset);
const candidates = sampleCandidates(deriveSeed(settings.seed, 'predictor/candidates'), settings.candidates, {
  distinct: true,
}).map(formatArch);

const backend = describeBackend(await initBackend());
const study = new StudyFile<Settings, Result, Summary>(
  out,
  {
    study: 'sahd-predictor',
    command: `npm run study:predictor -- ${process.argv.slice(2).join(' ')}`.trim(),
    backend: studyBackend(backend, options),
    settings,
  },
  summarise,
);

const has = (kind: Result['kind'], index: number, seed?: 1 | 2) =>
  study.results.some(
    (r) => r.kind === kind && r.index === index && (r.kind !== 'train' || r.trainSeed === seed),
  );
await runStudy(study, options.workers, async (pool) => {
  // SAHD first (seconds), then the second-seed check early (it says whether the schedule is long enough),
  // then the rest of the sample.
  const order: { index: number; trainSeed: 1 | 2 }[] = [
    ...candidates.slice(0, settings.retrain).map((_, index) => ({ index, trainSeed: 1 as const })),
    ...candidates.slice(0, settings.retrain).map((_, index) => ({ index, trainSeed: 2 as const })),
    ...candidates
      .slice(settings.retrain)
      .map((_, k) => ({ index: settings.retrain + k, trainSeed: 1 as const })),
  ];
  await Promise.all(
    candidates.map(async (arch, index) => {
      if (has('sahd', index)) return;
      const outcome = await pool.run({
        kind: 'score',
        data: settings.data,
        arch,
        config,
        pass: settings.sahd,
        seed: deriveSeed(settings.seed, 'sahd'),
        batchSeed: deriveSeed(settings.seed, 'sahd-batches'),
      });
      study.append({
        kind: 'sahd',
        index,
        arch,
        params: countParams(parseArch(arch), config),
        sahd: Number.isFinite(outcome.score) ? outcome.score : null,
        wallMs: outcome.wallMs,
      });
    }),
  );
  const total = order.length;
  await Promise.all(
    order.map(async ({ index, trainSeed }) => {
      if (has('train', index, trainSeed)) return;
      const arch = candidates[index] as string;
      const job: TrainJob = {
        kind: 'train',
        data: settings.data,
        arch,
        config,
        schedule: settings.schedule,
        seed: deriveSeed(settings.seed, `train/${trainSeed}`),
      };
      const outcome = await pool.run(job);
      study.append({ kind: 'train', index, arch, trainSeed, ...outcome });
      const done = study.results.filter((r) => r.kind === 'train').length;
      console.error(
        `[${done}/${total}] ${arch} seed ${trainSeed}: val ${(outcome.valAccuracy * 100).toFixed(2)}% in ${formatDuration(outcome.wallMs)}`,
      );
    }),
  );
});
console.log(JSON.stringify(study.summary, null, 2));

function summarise(results: readonly Result[]): Summary {
  const scores = new Map<number, Result & { kind: 'sahd' }>();
  const firstSeed = new Map<number, number>();
  const secondSeed = new Map<number, number>();
  for (const r of results) {
    if (r.kind === 'sahd') scores.set(r.index, r);
    else (r.trainSeed === 1 ? firstSeed : secondSeed).set(r.index, r.valAccuracy);
  }
  const trained = [...firstSeed.keys()].filter((i) => scores.has(i)).sort((a, b) => a - b);
  const accuracy = trained.map((i) => firstSeed.get(i) as number);
  const resample = (seedLabel: string) => ({
    resamples: settings.bootstrapResamples,
    seed: deriveSeed(settings.seed, `bootstrap/${seedLabel}`),
  });
  const estimate = (predictor: number[], target: number[], label: string): PredictorEstimate => ({
    kendallTau: bootstrapEstimate(kendallTau, predictor, target, resample(`${label}/tau`)),
    spearmanRho: bootstrapEstimate(spearman, predictor, target, resample(`${label}/rho`)),
  });
  const randomRng = new Rng(deriveSeed(settings.seed, 'predictor/random'));
  const randomScores = Array.from({ length: settings.candidates }, () => randomRng.next());
  const both = [...secondSeed.keys()].filter((i) => firstSeed.has(i)).sort((a, b) => a - b);
  const sorted = [...accuracy].sort((a, b) => a - b);
  return {
    trained: trained.length,
    valAccuracy:
      sorted.length === 0
        ? null
        : {
            min: sorted[0] as number,
            median: sorted[Math.floor(sorted.length / 2)] as number,
            max: sorted.at(-1) as number,
          },
    predictors:
      trained.length < 3
        ? null
        : {
            sahd: estimate(
              trained.map((i) => scores.get(i)?.sahd ?? Number.NEGATIVE_INFINITY),
              accuracy,
              'sahd',
            ),
            params: estimate(
              trained.map((i) => scores.get(i)?.params as number),
              accuracy,
              'params',
            ),
            random: estimate(
              trained.map((i) => randomScores[i] as number),
              accuracy,
              'random',
            ),
          },
    seedAgreement:
      both.length < 3
        ? null
        : {
            candidates: both.length,
            meanAbsDifference:
              both.reduce(
                (sum, i) => sum + Math.abs((firstSeed.get(i) as number) - (secondSeed.get(i) as number)),
                0,
              ) / both.length,
            ...estimate(
              both.map((i) => firstSeed.get(i) as number),
              both.map((i) => secondSeed.get(i) as number),
              'seeds',
            ),
          },
  };
}
