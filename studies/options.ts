import { type Command, InvalidArgumentError } from 'commander';
import { deriveSeed } from '../common/rng.js';
import type { StudyData } from './jobs.js';

/** A commander argument parser for an integer of at least `min`, naming the option when it refuses. */
export const integerOption = (name: string, min: number) => (text: string) => {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) {
    throw new InvalidArgumentError(`--${name} must be an integer >= ${min} (got '${text}')`);
  }
  return value;
};

/** The options every study takes. */
export interface StudyOptions {
  dataset: string;
  preset: string;
  seed: number;
  trainLimit?: number;
  workers: number;
  out?: string;
}

/** Adds the options every study takes to a study's command. */
export function addStudyOptions(command: Command): Command {
  return command
    .option('--dataset <name>', 'dataset (datasets/load.ts names or a folder)', 'fashion-mnist')
    .option('--preset <name>', 'network preset', 'fmnist-small')
    .option('--seed <n>', 'study seed', integerOption('seed', 0), 1)
    .option(
      '--train-limit <n>',
      'load only this many training images (tiny runs only)',
      integerOption('train-limit', 1),
    )
    .option('--workers <n>', 'job processes (one TensorFlow thread each)', integerOption('workers', 1), 2)
    .option('--out <file>', 'study JSON (appended as results finish; resumed when it exists)');
}

/** The data every job of a study loads: one load seed and one train/validation split. */
export function studyData(options: StudyOptions, testLimit?: number): StudyData {
  return {
    dataset: options.dataset,
    seed: options.seed,
    splitSeed: deriveSeed(options.seed, 'split'),
    valFraction: 0.1,
    ...(options.trainLimit ? { trainLimit: options.trainLimit } : {}),
    ...(testLimit ? { testLimit } : {}),
  };
}

/** The study's JSON file unless --out names one: bench/results/<study>-<dataset>-<preset>-seed<n>.json. */
export function studyOut(study: string, options: StudyOptions): string {
  return (
    options.out ?? `bench/results/${study}-${options.dataset}-${options.preset}-seed${options.seed}.json`
  );
}

/** The backend as the study's jobs run it: one TensorFlow thread in each of the job processes. */
export function studyBackend(backend: string, options: StudyOptions): string {
  return backend.replace(/\d+ threads?\)$/, `1 thread) x ${options.workers} processes`);
}
