/** cell-enhancement (spikenas mode): the operations and cell type the search keeps, from their impact. */
import { stageFile } from '../../artifacts/run.js';
import { type EnhancedSpace, enhanceSpace } from '../../search/strategy/enhance.js';
import { openPlannedRun, type RunInput, type Timed } from '../run-context.js';
import type { StepContext } from '../types.js';
import type { ImpactStage } from './operation-impact.js';

export async function enhanceCell(input: RunInput, ctx: StepContext = {}): Promise<EnhancedSpace> {
  const { run } = await openPlannedRun(input.run, ctx);
  const file = stageFile('cell-enhancement');
  if (await run.exists(file)) return run.getJson<EnhancedSpace & Timed>(file);
  const started = Date.now();
  const impact = await run.getJson<ImpactStage>(stageFile('operation-impact'));
  const space = enhanceSpace(impact.result);
  await run.putJson(file, { ...space, wallMs: Date.now() - started });
  return space;
}
