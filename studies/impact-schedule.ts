/**
 * How short can operation impact's trainings be? The paper profile's analysis (its operations and feedback,
 * a fixed number of pairs per subject in one look, planned with the search's seed derivation) is trained
 * at several steps per training;
 * each schedule's impacts and cell-enhancement decisions are compared with the longest schedule's: the
 * per-pair gains' rank agreement (Spearman), the per-subject mean gains' distance, and whether the
 * decisions are the same. The shortest schedule that agrees is what a cheaper impact analysis may use.
 * Every finished training is appended to the study's JSON, so an interrupted study resumes.
 *
 *   npm run study:impact-schedule -- [--steps 300,150,75,40] [--out file.json]
 */
import { Command, InvalidArgumentError } from 'commander';
import { deriveSeed } from '../common/rng.js';
import { spearman } from '../search/stats/rank-stats.js';
import { enhanceSpace } from '../search/strategy/enhance.js';
import { impactJobs, impactResultOf } from '../search/strategy/impact.js';
import { planImpactPairs } from '../search/strategy/impact-plan.js';
import { PROFILES } from '../search/strategy/profiles.js';
import { describeBackend, initBackend, resolvePreset } from '../snn/index.js';
import type { ImpactTrainingJob, StudyData } from './jobs.js';
import { addStudyOptions, type StudyOptions, studyBackend, studyData, studyOut } from './options.js';
import { runStudy } from './run-study.js';
import { StudyFile } from './study-file.js';

const PAPER = PROFILES.paper.impact;

interface Settings {
  dataset: string;
  preset: string;
  seed: number;
  /** The analysis seed, derived from the study seed as a search derives it from its own. */
  impactSeed: number;
  ops: number[];
  feedback: boolean;
  samplesPerOp: number;
  batchSize: number;
  /** Steps per training, longest (the reference) first. */
  steps: number[];
  data: StudyData;
}

interface Result {
  steps: number;
  key: string;
  valAccuracy: number;
  wallMs: number;
}

interface SubjectImpact {
  subject: string;
  n: number;
  meanPoints: number;
  ci95Points: { low: number; high: number } | null;
}

interface ScheduleSummary {
  trainings: number;
  /** Summed training time of this schedule's trainings (job processes, one thread each). */
  trainingMs: number;
  impacts: SubjectImpact[];
  /** What cell enhancement would decide from these impacts. */
  decisions: { ops: number[]; cellType: string };
  /** Against the longest schedule: null for the longest itself. */
  againstReference: {
    /** Spearman's rho of the per-pair gains. */
    pairGainsRho: number | null;
    /** Largest distance between a subject's mean gains, in points. */
    maxMeanDistancePoints: number;
    sameDecisions: boolean;
  } | null;
}

interface Summary {
  /** Trainings each schedule needs. */
  trainingsPerSchedule: number;
  /** Summaries of the schedules with every training done, by steps. */
  schedules: Record<string, ScheduleSummary>;
}

const options = addStudyOptions(
  new Command('study:impact-schedule').description(
    "operation impact's decisions at shorter trainings against the paper profile's",
  ),
)
  .option('--steps <list>', 'steps per training, comma-separated', stepsOption, [300, 150, 75, 40])
  .option('--samples-per-op <n>', 'pairs per subject, in one look', samplesOption, 5)
  .parse()
  .opts<StudyOptions & { steps: number[]; samplesPerOp: number }>();

function samplesOption(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 2)
    throw new InvalidArgumentError(`--samples-per-op must be an integer >= 2 (got '${text}')`);
  return n;
}

function stepsOption(text: string): number[] {
  const steps = text.split(',').map(Number);
  if (steps.length === 0 || steps.some((s) => !Number.isInteger(s) || s < 1)) {
    throw new InvalidArgumentError(`--steps must be integers >= 1, comma-separated (got '${text}')`);
  }
  return [...new Set(steps)].sort((a, b) => b - a);
}

const settings: Settings = {
  dataset: options.dataset,
  preset: options.preset,
  seed: options.seed,
  impactSeed: deriveSeed(options.seed, 'impact'),
  ops: [...PAPER.ops],
  feedback: PAPER.feedback,
  samplesPerOp: options.samplesPerOp,
  batchSize: PAPER.train.batchSize,
  steps: options.steps,
  data: studyData(options),
};
const config = resolvePreset(settings.preset);
const pairs = planImpactPairs(
  { ops: PAPER.ops, feedback: settings.feedback, samplesPerLook: [settings.samplesPerOp] },
  settings.impactSeed,
);
const jobs = impactJobs(pairs);

const backend = describeBackend(await initBackend());
const study = new StudyFile<Settings, Result, Summary>(
  studyOut('impact-schedule', options),
  {
    study: 'impact-schedule',
    command: `npm run study:impact-schedule -- ${process.argv.slice(2).join(' ')}`.trim(),
    backend: studyBackend(backend, options),
    settings,
  },
  summarise,
);

await runStudy(study, options.workers, async (pool) => {
  await Promise.all(
    settings.steps.flatMap((steps) =>
      jobs.map(async (job) => {
        if (study.results.some((r) => r.steps === steps && r.key === job.key)) return;
        const training: ImpactTrainingJob = {
          kind: 'impact',
          data: settings.data,
          config,
          job,
          train: { epochs: 1, batchSize: settings.batchSize, maxStepsPerEpoch: steps },
          seed: settings.impactSeed,
        };
        const outcome = await pool.run(training);
        study.append({ steps, key: job.key, ...outcome });
        const done = study.results.filter((r) => r.steps === steps).length;
        console.error(`[${steps} steps: ${done}/${jobs.length}] ${job.key}: ${outcome.valAccuracy}`);
      }),
    ),
  );
});
console.log(JSON.stringify(study.summary, null, 2));

function summarise(results: readonly Result[]): Summary {
  const schedules: Record<string, ScheduleSummary> = {};
  let reference: { gains: number[]; impacts: SubjectImpact[]; decisions: string } | null = null;
  for (const steps of settings.steps) {
    const mine = results.filter((r) => r.steps === steps);
    if (mine.length < jobs.length) {
      // The reference must be complete before any schedule is compared with it.
      if (reference === null) break;
      continue;
    }
    const accuracies = Object.fromEntries(mine.map((r) => [r.key, r.valAccuracy]));
    const result = impactResultOf(pairs, [settings.samplesPerOp], accuracies, {
      seed: settings.impactSeed,
      datasetFingerprint: settings.dataset,
      wallMs: 0,
    });
    const impacts = result.impacts.map((i) => ({
      subject: i.name,
      n: i.n,
      meanPoints: points(i.meanDelta),
      ci95Points: i.ci && { low: points(i.ci.low), high: points(i.ci.high) },
    }));
    const enhanced = enhanceSpace(result);
    const decisions = { ops: enhanced.ops, cellType: enhanced.cellType };
    const gains = result.impacts.flatMap((i) => i.samples.map((p) => p.accWith - p.accWithout));
    schedules[steps] = {
      trainings: mine.length,
      trainingMs: Math.round(mine.reduce((sum, r) => sum + r.wallMs, 0)),
      impacts,
      decisions,
      againstReference:
        reference === null
          ? null
          : {
              pairGainsRho: spearman(gains, reference.gains),
              maxMeanDistancePoints: Math.max(
                ...impacts.map((impact, i) =>
                  Math.abs(impact.meanPoints - (reference?.impacts[i]?.meanPoints ?? 0)),
                ),
              ),
              sameDecisions: JSON.stringify(decisions) === reference.decisions,
            },
    };
    reference ??= { gains, impacts, decisions: JSON.stringify(decisions) };
  }
  return { trainingsPerSchedule: jobs.length, schedules };
}

function points(fraction: number): number {
  return Math.round(fraction * 100_000) / 1000;
}
