/**
 * spikenas against the snasnet baseline on the same data, budget, weight bits and seed, each run as a
 * search through Temporal with its shards scored in parallel: the figure the method doc says users compare.
 *
 *   npm run bench:search -- --profile paper --dataset fashion-mnist --budget 64KiB --seed 1
 *
 * Uses the Temporal server at TEMPORAL_ADDRESS, or starts the pinned dev server there (scripts/temporal.sh,
 * as `npm start` does; it keeps running afterwards). Runs its own worker processes (`spikenas worker`, both
 * queues, SPIKENAS_THREAD_POLICY=1x1 each: one heavy step at a time on one TensorFlow thread, as two
 * one-thread processes train the small networks faster than one two-thread process) on task queues of its own, and stops them when it ends.
 * Workflow IDs are `<run prefix>-<mode>`; re-running with the same --run-prefix (and artifact store) follows
 * or resumes those workflows from their checkpoints instead of starting over. Writes one JSON object to
 * bench/results/<profile>-<dataset>-<budget>-seed<n>.json (or --out) and prints it; progress goes to stderr.
 *
 * Run together, the modes' searches run one after the other, each with every worker, and hold their
 * winners' training (holdTraining); once both searches are done the two winners train side by side, one per
 * worker process. Stage wall times are each stage's own, so the speed-ups compare like with like.
 *
 * The file fills mode by mode (--modes, both by default), written as each mode finishes: a later run with
 * the same settings and --modes snasnet adds a missing half to the file, keeps the half it holds, and
 * computes the speed-ups once both are in.
 *
 * The parts, one job each, are under search-speed/: the options, the worker processes, one mode's search,
 * the figures a mode's record holds, the record file, and the session that runs them.
 */
import { log } from './search-speed/log.js';
import { parseSpeedRunOptions } from './search-speed/options.js';
import { runSpeedBench } from './search-speed/session.js';

process.exitCode = await runSpeedBench(parseSpeedRunOptions(process.argv)).catch((error: Error) => {
  log(`failed: ${error.message}`);
  return 1;
});
