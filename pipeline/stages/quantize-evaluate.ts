/**
 * quantize-evaluate: stores the winner's final weights at the width it fits the budget at, and measures
 * what each width cost (search/strategy/quantize-to-fit.ts). spikenas mode stores its winner at the searched
 * width, trained quantization-aware (reported beside the post-training quantization). snasnet's search
 * ignores the budget, but its winner has to fit the same robot, so it is quantized to fit (32 bits, then
 * the request's widths) and compared with spikenas' winner
 * at the same memory; a winner that fits at no width is stored at the narrowest, and the report and summary
 * say it is over the budget. A training reused from an earlier run comes with that run's quantization at
 * the same budget.
 */
import { ArtifactCache, cacheKey } from '../../artifacts/cache.js';
import { stageFile } from '../../artifacts/run.js';
import { InputError } from '../../common/errors.js';
import type { WeightBits } from '../../search/space/memory.js';
import {
  type QuantizeResult,
  quantizeForBudget,
  quantizeTrainedAware,
} from '../../search/strategy/quantize-to-fit.js';
import { initBackend, type SerializedWeights } from '../../snn/index.js';
import { toModelArtifacts } from '../model-artifacts.js';
import {
  openPlannedRun,
  type RunInput,
  signalOption,
  splitFor,
  type Timed,
  warnOption,
} from '../run-context.js';
import type { StepContext } from '../types.js';
import { winnerOf } from './select-winner.js';
import { QAT_WEIGHTS, TRAINED_WEIGHTS, type TrainStage, winnerCacheKey } from './train-winner.js';

/** stages/quantize-evaluate.json: every width tried, and the one stored. */
export interface QuantizeStage extends QuantizeResult, Timed {
  weightBits: number;
  weightBytes: number;
  /** The run whose quantization this is: this run's ID, or the earlier run's whose training was reused. */
  quantizedBy: string;
}

/** What the cache keeps of a quantization: its stage record and the stored weights. */
interface CachedQuantization {
  stage: QuantizeStage;
  weights: SerializedWeights;
}

export async function quantizeEvaluate(input: RunInput, ctx: StepContext = {}) {
  const { run, plan } = await openPlannedRun(input.run, ctx);
  const file = stageFile('quantize-evaluate');
  if (!(await run.exists(file))) {
    const started = Date.now();
    const winner = await winnerOf(run, plan);
    const { arch, text, config } = winner;
    const trained = await run.getJson<TrainStage>(stageFile('train-winner'));
    // Without a budget (allowed in snasnet mode only) the 32-bit weights fit, and are measured as they are.
    const budgetBytes = plan.budgetBytes ?? Number.MAX_SAFE_INTEGER;
    const cache = new ArtifactCache(run.store, 'quantized-winner', warnOption(ctx));
    const key = cacheKey({
      training: winnerCacheKey(plan, winner),
      budgetBytes,
      widths: plan.request.weightBits,
    });
    const reused = trained.trainedBy === run.runId ? undefined : await cache.get<CachedQuantization>(key);
    if (reused !== undefined) {
      await run.writeWeights(toModelArtifacts(reused.weights, { arch: text, config }));
      await run.putJson(file, { ...reused.stage, wallMs: Date.now() - started } satisfies QuantizeStage);
    } else {
      const weights = await run.getJson<SerializedWeights>(TRAINED_WEIGHTS);
      await initBackend();
      const split = await splitFor(plan);
      const base = {
        arch,
        config,
        weights,
        budgetBytes,
        test: split.test,
        batchSize: 100,
        accuracy32: trained.testAccuracy,
      };
      const aware = trained.quantizationAware;
      // snasnet's search ignored the budget: 32 bits if they fit, else the request's widths in turn, and
      // the narrowest, over the budget, when none fits. spikenas' search admitted the winner at its width.
      const budgetBlind = plan.request.mode === 'snasnet';
      const quantizing = {
        ...base,
        widths: budgetBlind
          ? [...new Set<WeightBits>([32, ...plan.request.weightBits])]
          : [winner.weightBits],
        whenNoneFits: budgetBlind ? ('keep-narrowest' as const) : ('refuse' as const),
      };
      const result =
        aware === null
          ? await quantizeForBudget(quantizing, signalOption(ctx))
          : await quantizeTrainedAware(
              {
                ...base,
                bits: aware.bits,
                quantizeAwareWeights: await run.getJson<SerializedWeights>(QAT_WEIGHTS),
              },
              signalOption(ctx),
            );
      if (result.chosenBits === null || result.weights === null) {
        const smallest = result.tried.at(-1);
        throw new InputError(
          'budget',
          `the winner does not fit ${plan.request.budget} even at ${smallest?.bits} bits (${smallest?.bytes} bytes)`,
          'a larger budget',
        );
      }
      const chosen = result.tried.find(
        (t) => t.bits === result.chosenBits && t.method === result.chosenMethod,
      );
      await run.writeWeights(toModelArtifacts(result.weights, { arch: text, config }));
      const stage: QuantizeStage = {
        ...result,
        weights: null,
        weightBits: result.chosenBits,
        weightBytes: chosen?.bytes ?? 0,
        quantizedBy: run.runId,
        wallMs: Date.now() - started,
      };
      await run.putJson(file, stage);
      await cache.put(key, { stage, weights: result.weights } satisfies CachedQuantization);
    }
  }
  const stage = await run.getJson<QuantizeStage>(file);
  return { weightBits: stage.weightBits, weightBytes: stage.weightBytes };
}
