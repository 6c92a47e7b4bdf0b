/**
 * The pipeline steps of one search, over its run folder in an artifact store. Each step reads what earlier
 * steps wrote, writes its own stage result, and returns a small summary. A step whose result already exists
 * returns it without redoing the work, and long steps continue from their newest good checkpoint, so a
 * retried or resumed step repeats at most one chunk of work. The workflow (workflows/index.ts) and the
 * in-process runner (pipeline/local.ts) call these same steps in the same order; each step lives with its
 * stage files in pipeline/stages/, and what all steps share in pipeline/run-context.ts.
 */

export type { RunInput } from './run-context.js';
export { generateCandidates } from './stages/candidates.js';
export { enhanceCell } from './stages/cell-enhancement.js';
export {
  type ImpactRoundInput,
  type ImpactShardInput,
  planImpact,
  summariseImpact,
  trainImpactShard,
} from './stages/operation-impact.js';
export { type OutcomeInput, recordOutcome } from './stages/outcome.js';
export { type PrepareInput, prepareRun } from './stages/prepare-dataset.js';
export { publish } from './stages/publish.js';
export { quantizeEvaluate } from './stages/quantize-evaluate.js';
export { type ScoreShardInput, type ShardsInput, scoreShard, selectSurvivors } from './stages/score.js';
export { selectWinner } from './stages/select-winner.js';
export { trainWinner } from './stages/train-winner.js';
export type { StepContext } from './types.js';
