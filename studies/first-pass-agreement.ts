/**
 * Does a cheap first pass keep SAHD's ranking? On a seeded, unfiltered random sample of the full backward
 * space, every candidate is scored with full SAHD and with each cheap pass; per pass the study reports
 * Spearman's rho and Kendall's tau against full SAHD (bootstrap 95% intervals), how many of the full-SAHD
 * top 20 are among its best k for several k, and its cost against full SAHD, measured in the same
 * processes. A pass qualifies for a profile with k survivors only if those keep at least 18 of the 20
 * (90%). Scores are appended as they finish, so an interrupted study resumes.
 *
 *   npm run study:first-pass -- [--candidates 200] [--out file.json]
 */
import { Command } from 'commander';
import { deriveSeed } from '../common/rng.js';
import { formatArch } from '../search/space/arch.js';
import { sampleCandidates } from '../search/space/sample.js';
import {
  bootstrapEstimate,
  type Estimate,
  kendallTau,
  spearman,
  topKRetention,
} from '../search/stats/rank-stats.js';
import { describeBackend, initBackend, resolvePreset } from '../snn/index.js';
import type { ScoringPass, StudyData } from './jobs.js';
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

/** The full-SAHD ranking's top this many is what a pass must keep. */
const TOP = 20;
/** ... at least this share of it. */
const KEEP_SHARE = 0.9;
/** Survivor counts each pass is judged at. */
const SURVIVOR_COUNTS = [20, 25, 30, 40, 50, 60, 80, 100];

interface Settings {
  dataset: string;
  preset: string;
  seed: number;
  candidates: number;
  full: ScoringPass;
  passes: Record<string, ScoringPass>;
  data: StudyData;
  bootstrapResamples: number;
}

interface Result {
  index: number;
  arch: string;
  /** 'full' or a pass name; score null when the kernel is singular (it ranks last). */
  pass: string;
  score: number | null;
  wallMs: number;
}

interface PassSummary {
  pass: ScoringPass;
  /** Mean scoring time per candidate over the full pass's. */
  costRatio: number;
  meanMs: number;
  spearmanRho: Estimate;
  kendallTau: Estimate;
  /** Of the full-SAHD top 20, how many are among this pass's best k, by k. */
  top20Kept: Record<string, number>;
  /** The fewest survivors (of those tried) that keep >= 90% of the top 20; null if none does. */
  survivorsNeeded: number | null;
}

interface Summary {
  /** Candidates with every score. */
  complete: number;
  fullMeanMs: number | null;
  passes: Record<string, PassSummary> | null;
}

const options = addStudyOptions(
  new Command('study:first-pass').description(
    'Agreement of cheap first passes with full SAHD on an unfiltered random sample',
  ),
)
  .option('--candidates <n>', 'candidates sampled', integerOption('candidates', 2), 200)
  .option('--full-batch <n>', 'full SAHD batch size (2 repeats)', integerOption('full-batch', 2), 256)
  .parse()
  .opts<StudyOptions & { candidates: number; fullBatch: number }>();

const config = resolvePreset(options.preset);
const T = config.timesteps;
const settings: Settings = {
  dataset: options.dataset,
  preset: options.preset,
  seed: options.seed,
  candidates: options.candidates,
  full: { batchSize: options.fullBatch, repeats: 2, timesteps: T },
  // One repeat each: fewer images at full T, and fewer timesteps at small batches.
  passes: {
    't1-b32': { batchSize: 32, repeats: 1, timesteps: 1 },
    't1-b64': { batchSize: 64, repeats: 1, timesteps: 1 },
    't2-b64': { batchSize: 64, repeats: 1, timesteps: 2 },
    't3-b32': { batchSize: 32, repeats: 1, timesteps: 3 },
    [`t${T}-b16`]: { batchSize: 16, repeats: 1, timesteps: T },
    [`t${T}-b32`]: { batchSize: 32, repeats: 1, timesteps: T },
    [`t${T}-b64`]: { batchSize: 64, repeats: 1, timesteps: T },
    [`t${T}-b128`]: { batchSize: 128, repeats: 1, timesteps: T },
  },
  data: studyData(options),
  bootstrapResamples: 2000,
};
const passes: [string, ScoringPass][] = [['full', settings.full], ...Object.entries(settings.passes)];
const out = studyOut('first-pass', options);
const candidates = sampleCandidates(deriveSeed(settings.seed, 'first-pass/candidates'), settings.candidates, {
  distinct: true,
}).map(formatArch);
const backend = describeBackend(await initBackend());
const study = new StudyFile<Settings, Result, Summary>(
  out,
  {
    study: 'first-pass-agreement',
    command: `npm run study:first-pass -- ${process.argv.slice(2).join(' ')}`.trim(),
    backend: studyBackend(backend, options),
    settings,
  },
  summarise,
);

const done = new Set(study.results.map((r) => `${r.pass}/${r.index}`));
await runStudy(study, options.workers, async (pool) => {
  await Promise.all(
    candidates.flatMap((arch, index) =>
      passes.map(async ([name, pass]) => {
        if (done.has(`${name}/${index}`)) return;
        const outcome = await pool.run({
          kind: 'score',
          data: settings.data,
          arch,
          config,
          pass,
          // The same weights for every pass (as the search's first and full passes); batches per pass.
          seed: deriveSeed(settings.seed, 'sahd'),
          batchSeed: deriveSeed(settings.seed, `sahd-batches/${name}`),
        });
        study.append({
          index,
          arch,
          pass: name,
          score: Number.isFinite(outcome.score) ? outcome.score : null,
          wallMs: outcome.wallMs,
        });
      }),
    ),
  );
});
console.log(JSON.stringify(study.summary, null, 2));

function summarise(results: readonly Result[]): Summary {
  const byPass = new Map<string, Map<number, Result>>();
  for (const r of results) {
    if (!byPass.has(r.pass)) byPass.set(r.pass, new Map());
    byPass.get(r.pass)?.set(r.index, r);
  }
  const complete = candidates
    .map((_, i) => i)
    .filter((i) => passes.every(([name]) => byPass.get(name)?.has(i)));
  const scoresOf = (name: string) =>
    complete.map((i) => byPass.get(name)?.get(i)?.score ?? Number.NEGATIVE_INFINITY);
  const meanMsOf = (name: string) =>
    complete.reduce((sum, i) => sum + (byPass.get(name)?.get(i)?.wallMs as number), 0) / complete.length;
  if (complete.length < TOP) return { complete: complete.length, fullMeanMs: null, passes: null };
  const full = scoresOf('full');
  const fullMeanMs = meanMsOf('full');
  const summaries: Record<string, PassSummary> = {};
  for (const [name, pass] of Object.entries(settings.passes)) {
    const scores = scoresOf(name);
    const resample = (label: string) => ({
      resamples: settings.bootstrapResamples,
      seed: deriveSeed(settings.seed, `bootstrap/${name}/${label}`),
    });
    const top20Kept = Object.fromEntries(
      SURVIVOR_COUNTS.filter((k) => k <= complete.length).map((k) => [
        k,
        topKRetention(full, scores, TOP, k),
      ]),
    );
    const meanMs = meanMsOf(name);
    summaries[name] = {
      pass,
      costRatio: meanMs / fullMeanMs,
      meanMs,
      spearmanRho: bootstrapEstimate(spearman, scores, full, resample('rho')),
      kendallTau: bootstrapEstimate(kendallTau, scores, full, resample('tau')),
      top20Kept,
      survivorsNeeded:
        SURVIVOR_COUNTS.find((k) => (top20Kept[k] ?? 0) >= Math.ceil(KEEP_SHARE * TOP)) ?? null,
    };
  }
  return { complete: complete.length, fullMeanMs, passes: summaries };
}
