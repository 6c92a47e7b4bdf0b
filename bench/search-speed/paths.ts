/** Files of the checkout the benchmark runs (paths from dist/bench/search-speed/, where this compiles to). */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The compiled CLI, whose `worker` command the worker processes run. */
export const CLI = join(ROOT, 'dist', 'cli', 'main.js');
/** The compiled measuring child of `npm run bench` (its `gemm` figure). */
export const MEASURE = join(ROOT, 'dist', 'bench', 'measure.js');
export const TEMPORAL_SCRIPT = join(ROOT, 'scripts', 'temporal.sh');
export const RESULTS = join(ROOT, 'bench', 'results');
