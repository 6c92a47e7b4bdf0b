/** operation-impact (spikenas mode): how much each operation helps, from short trainings of sampled cells. */
import { ArtifactCache, cacheKey } from '../../artifacts/cache.js';
import { stageFile } from '../../artifacts/run.js';
import { analyzeOperationImpact, type ImpactResume, impactCacheKey } from '../../search/stages/impact.js';
import type { ImpactResult } from '../../search/stages/types.js';
import { initBackend } from '../../snn/index.js';
import {
  openPlannedRun,
  type RunInput,
  signalOption,
  splitFor,
  type Timed,
  TRAINING_STEPS,
  warnOption,
} from '../run-context.js';
import type { StepContext } from '../types.js';

/** stages/operation-impact.json. */
export interface ImpactStage extends Timed {
  result: ImpactResult;
  reused: boolean;
  cacheUri: string;
}

export async function analyzeImpact(
  input: RunInput,
  ctx: StepContext = {},
): Promise<{ reused: boolean } & Timed> {
  const { run, plan } = await openPlannedRun(input.run, ctx);
  const file = stageFile('operation-impact');
  if (await run.exists(file)) return summaryOf(await run.getJson<ImpactStage>(file));
  const started = Date.now();
  const { profile, config } = plan;
  const analysis = {
    config,
    ops: profile.impact.ops,
    feedback: profile.impact.feedback,
    samplesPerOp: profile.impact.samplesPerOp,
    train: profile.impact.train,
  };
  // Impact evidence depends only on data, config, settings and seed: a nightly run reuses last night's.
  const cache = new ArtifactCache(run.store, 'operation-impact', warnOption(ctx));
  const key = cacheKey(
    impactCacheKey({ ...analysis, datasetFingerprint: plan.dataset.fingerprint }, plan.seeds.impact),
  );
  const cached = await cache.get<ImpactResult>(key);
  if (cached) {
    const stage: ImpactStage = {
      result: cached,
      reused: true,
      cacheUri: cache.uriOf(key),
      wallMs: Date.now() - started,
    };
    await run.putJson(file, stage);
    return summaryOf(stage);
  }
  await initBackend();
  const resume = await run.readCheckpoint<ImpactResume>('operation-impact');
  const result = await analyzeOperationImpact(
    { ...analysis, data: await splitFor(plan) },
    {
      seed: plan.seeds.impact,
      ...(resume ? { resume: resume.data } : {}),
      ...signalOption(ctx),
      onProgress: async (progress) => {
        await run.writeCheckpoint('operation-impact', progress.resume);
      },
      onStep: (progress) => ctx.onProgress?.({ unit: TRAINING_STEPS, ...progress }),
    },
  );
  await cache.put(key, result);
  const stage: ImpactStage = {
    result,
    reused: false,
    cacheUri: cache.uriOf(key),
    wallMs: Date.now() - started,
  };
  await run.putJson(file, stage);
  return summaryOf(stage);
}

function summaryOf(stage: ImpactStage) {
  return { reused: stage.reused, wallMs: stage.wallMs };
}
