/**
 * quantize-evaluate: quantizes the trained winner to fit the budget (32, then 8, then 4 bits) and stores the
 * final weights. Both modes quantize when the request has a budget: snasnet's search ignores the budget, but
 * its winner has to fit the same robot, so the comparison with spikenas' winner is at the same memory.
 */
import { stageFile } from '../../artifacts/run.js';
import { InputError } from '../../common/errors.js';
import { type QuantizeResult, quantizeForBudget } from '../../search/strategy/quantize-to-fit.js';
import { initBackend, type SerializedWeights } from '../../snn/index.js';
import { toModelArtifacts } from '../model-artifacts.js';
import { openPlannedRun, type RunInput, signalOption, splitFor, type Timed } from '../run-context.js';
import type { StepContext } from '../types.js';
import { winnerOf } from './select-winner.js';
import { TRAINED_WEIGHTS, type TrainStage } from './train-winner.js';

/** stages/quantize-evaluate.json: every width tried, and the one stored. */
export interface QuantizeStage extends QuantizeResult, Timed {
  weightBits: number;
  weightBytes: number;
}

export async function quantizeEvaluate(input: RunInput, ctx: StepContext = {}) {
  const { run, plan } = await openPlannedRun(input.run, ctx);
  const file = stageFile('quantize-evaluate');
  if (!(await run.exists(file))) {
    const started = Date.now();
    const { arch, text, config } = await winnerOf(run, plan);
    const trained = await run.getJson<TrainStage>(stageFile('train-winner'));
    const weights = await run.getJson<SerializedWeights>(TRAINED_WEIGHTS);
    await initBackend();
    // Without a budget (allowed in snasnet mode only) the 32-bit weights fit, and are measured as they are.
    const budgetBytes = plan.budgetBytes ?? Number.MAX_SAFE_INTEGER;
    const split = await splitFor(plan);
    const result = await quantizeForBudget(
      {
        arch,
        config,
        weights,
        budgetBytes,
        test: split.test,
        batchSize: 100,
        accuracy32: trained.testAccuracy,
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
    const chosen = result.tried.find((t) => t.bits === result.chosenBits);
    await run.writeWeights(toModelArtifacts(result.weights, { arch: text, config }));
    await run.putJson(file, {
      ...result,
      weights: null,
      weightBits: result.chosenBits,
      weightBytes: chosen?.bytes ?? 0,
      wallMs: Date.now() - started,
    } satisfies QuantizeStage);
  }
  const stage = await run.getJson<QuantizeStage>(file);
  return { weightBits: stage.weightBits, weightBytes: stage.weightBytes };
}
