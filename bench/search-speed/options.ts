/**
 * The benchmark's command line: the search request both modes run, the worker processes, the run prefix
 * (workflow IDs and task queues) and where the record goes. Every choice is checked before anything starts
 * (exit 2 names the field).
 */

import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { parseSize } from '../../common/size.js';
import { MODES, validateSearchRequest } from '../../config/request.js';
import type { SearchMode, SearchRequest } from '../../contract/request.js';
import { parseWeightBitsSet } from '../../search/space/memory.js';
import { log } from './log.js';
import { RESULTS } from './paths.js';

export interface SpeedRunOptions {
  /** The request both modes run, with mode spikenas. */
  base: SearchRequest;
  /** The budget as given (the record keeps its text, e.g. 64KiB). */
  budget: string;
  budgetBytes: number;
  workerCount: number;
  requestedModes: SearchMode[];
  /** Also run each mode a second night on unchanged data (workflow `<runPrefix>-<mode>-night2`). */
  laterNight: boolean;
  /** Workflow IDs are `<runPrefix>-<mode>`. */
  runPrefix: string;
  /** Artifact store URI, or an absolute folder (the workers open it too). */
  artifacts: string;
  outFile: string;
}

/** A name part for IDs and file names: letters, digits, '.', '_' and '-' only. */
function slug(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[^A-Za-z0-9]+/, '');
}

/** The options from `argv` (as process.argv); on a bad one, says which and exits with 2. */
export function parseSpeedRunOptions(argv: string[]): SpeedRunOptions {
  const values = new Command('bench:search')
    .description('spikenas against the snasnet baseline on the same request, each a search through Temporal')
    .option('--profile <name>', 'search profile', 'quick')
    .option('--dataset <name>', 'dataset', 'fashion-mnist')
    .option('--budget <size>', 'weight-memory budget', '64KiB')
    .option('--weight-bits <list>', 'widths the winner may be stored at, widest first', '8,6,4')
    .option('--seed <n>', 'search seed', '1')
    .option('--shards <n>', 'scoring shards', '2')
    .option('--workers <n>', 'worker processes, one thread each', '2')
    .option('--artifacts <uri>', 'artifact store (default: a folder under the temporary directory)')
    .option('--run-prefix <prefix>', 'workflow ID prefix; an earlier one follows or resumes its workflows')
    .option('--out <file>', 'the record (default: bench/results/<profile>-<dataset>-<budget>-seed<n>.json)')
    .option('--modes <list>', 'modes to record, comma-separated', MODES.join(','))
    .option('--no-later-night', 'skip the second night on unchanged data')
    .parse(argv)
    .opts<{
      profile: string;
      dataset: string;
      budget: string;
      weightBits: string;
      seed: string;
      shards: string;
      workers: string;
      artifacts?: string;
      runPrefix?: string;
      out?: string;
      modes: string;
      laterNight: boolean;
    }>();

  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  const tag = `${slug(values.profile)}-${slug(values.dataset)}-${slug(values.budget)}-seed${slug(values.seed)}`;
  const runPrefix = values.runPrefix ?? `bench-${tag}-${stamp}`;
  if (!/^[A-Za-z0-9][A-Za-z0-9._:-]*$/.test(runPrefix)) {
    log(`--run-prefix '${runPrefix}' must hold letters, digits, '.', '_', ':' and '-' only`);
    process.exit(2);
  }
  const given = values.artifacts;
  // A URI (s3://bucket/prefix, file://…) as given; a folder made absolute, as the workers open it too.
  const artifacts =
    given !== undefined && /^[a-z][a-z0-9+.-]*:\/\//i.test(given)
      ? given
      : resolve(given ?? join(tmpdir(), `spikenas-bench-${runPrefix}`));
  const workerCount = Number(values.workers);
  const requestedModes = values.modes.split(',').map((m) => m.trim());
  try {
    const base = validateSearchRequest({
      dataset: values.dataset,
      budget: values.budget,
      mode: 'spikenas',
      profile: values.profile,
      seed: Number(values.seed),
      weightBits: parseWeightBitsSet(values.weightBits),
      shards: Number(values.shards),
      artifacts,
    });
    if (!Number.isInteger(workerCount) || workerCount < 1)
      throw new Error('--workers must be an integer >= 1');
    for (const mode of requestedModes)
      if (!MODES.includes(mode as SearchMode))
        throw new Error(`--modes: '${mode}' is not a mode; allowed: ${MODES.join(', ')} (comma-separated)`);
    return {
      base,
      budget: values.budget,
      budgetBytes: parseSize(values.budget),
      workerCount,
      requestedModes: requestedModes as SearchMode[],
      laterNight: values.laterNight,
      runPrefix,
      artifacts,
      outFile: resolve(values.out ?? join(RESULTS, `${tag}.json`)),
    };
  } catch (error) {
    log((error as Error).message);
    process.exit(2);
  }
}
