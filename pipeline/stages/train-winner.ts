/** train-winner: trains the search's winner with BPTT and measures it on the test set. */
import { stageFile } from '../../artifacts/run.js';
import { trainOnTrainAndVal } from '../../datasets/index.js';
import type { WinnerTraining } from '../../search/strategy/profiles.js';
import {
  describeBackend,
  initBackend,
  type TrainResult,
  type TrainResume,
  trainNetwork,
} from '../../snn/index.js';
import {
  openPlannedRun,
  type RunInput,
  signalOption,
  splitFor,
  type Timed,
  TRAINING_STEPS,
} from '../run-context.js';
import { type Clocked, StepClock, wallMsOf } from '../stage-clock.js';
import type { StepContext } from '../types.js';
import { winnerOf } from './select-winner.js';

/**
 * stages/train-winner.json: the training's summary; the weights are in TRAINED_WEIGHTS. Its wallMs is the
 * stage's, from its spans: a resumed training's earlier part counts, the pause before it does not.
 */
export interface TrainStage extends Omit<TrainResult, 'weights'>, Clocked {
  epochs: number;
  /** What it trained on; with 'train+val', valAccuracy is measured on trained images. */
  trainOn: WinnerTraining['trainOn'];
  trainImages: number;
  /** The tfjs backend that trained the winner, e.g. 'tensorflow (@tensorflow/tfjs-node 4.22.0, TensorFlow 2.16.2, 2 threads)'. */
  backend: string;
}

/** The trained 32-bit weights, kept beside the final (maybe quantized) ones. */
export const TRAINED_WEIGHTS = 'trained-weights.json';

export async function trainWinner(
  input: RunInput,
  ctx: StepContext = {},
): Promise<{ testAccuracy: number } & Timed> {
  const { run, plan } = await openPlannedRun(input.run, ctx);
  const file = stageFile('train-winner');
  if (!(await run.exists(file))) {
    const resume = await run.readCheckpoint<TrainResume & Clocked>('train-winner');
    const clock = new StepClock(input.run.execution, resume?.data.spans);
    const { arch, config } = await winnerOf(run, plan);
    const backend = await initBackend();
    const { trainOn, ...training } = plan.profile.winner;
    const split = await splitFor(plan);
    const data = trainOn === 'train+val' ? trainOnTrainAndVal(split) : split;
    const options = {
      ...training,
      onStep: (done: number, total: number) => ctx.onProgress?.({ unit: TRAINING_STEPS, done, total }),
    };
    const result = await trainNetwork(arch, config, data, options, {
      seed: plan.seeds.train,
      ...(resume ? { resume: resume.data } : {}),
      ...signalOption(ctx),
      onProgress: async (progress) => {
        await run.writeCheckpoint('train-winner', { ...progress.resume, spans: clock.spans() });
      },
    });
    const { weights, ...summary } = result;
    await run.putJson(TRAINED_WEIGHTS, weights);
    const spans = clock.spans();
    await run.putJson(file, {
      ...summary,
      wallMs: wallMsOf(spans),
      spans,
      epochs: training.epochs,
      trainOn,
      trainImages: data.train.count,
      backend: describeBackend(backend),
    } satisfies TrainStage);
  }
  const stage = await run.getJson<TrainStage>(file);
  return { testAccuracy: stage.testAccuracy, wallMs: stage.wallMs };
}
