/** The memory-aware search's first step: the candidate list every shard indexes into. */
import { stageFile } from '../../artifacts/run.js';
import { ramBudgetBytes } from '../../config/request.js';
import type { SearchRequest } from '../../contract/request.js';
import { canonicalizeArch, parseArch } from '../../search/space/arch.js';
import {
  type CandidateSet,
  generateCandidates as generateCandidateSet,
  measureCandidate,
} from '../../search/space/candidates.js';
import type { EnhancedSpace } from '../../search/strategy/enhance.js';
import type { NetConfig } from '../../snn/config.js';
import { openPlannedRun, type RunInput } from '../run-context.js';
import { type Clocked, StepClock } from '../stage-clock.js';
import type { StepContext } from '../types.js';

/** candidates.json: the generated list every shard indexes into; its span begins the stage's wall time. */
export interface CandidateStage extends CandidateSet, Clocked {
  cellType: NetConfig['cellType'];
  firstPass: boolean;
  /** Included matrices (request.include) that were added to the list. */
  included: string[];
}

export async function generateCandidates(input: RunInput, ctx: StepContext = {}) {
  const { run, plan } = await openPlannedRun(input.run, ctx);
  const file = stageFile('candidates');
  if (!(await run.exists(file))) {
    const clock = new StepClock(input.run.execution);
    const { request, profile, config } = plan;
    const space =
      request.mode === 'spikenas'
        ? await run.getJson<EnhancedSpace>(stageFile('cell-enhancement'))
        : { ops: [0, 1, 2, 3, 4] as EnhancedSpace['ops'], cellType: 'backward' as const };
    const spaceConfig: NetConfig = { ...config, cellType: space.cellType };
    const set = generateCandidateSet(
      {
        mode: request.mode,
        ops: space.ops,
        cellType: space.cellType,
        config: spaceConfig,
        budgetBytes: request.mode === 'spikenas' ? plan.budgetBytes : null,
        ramBudgetBytes: request.mode === 'spikenas' ? ramBudgetBytes(request) : null,
        weightBits: request.weightBits,
        limit: request.mode === 'spikenas' ? profile.searchCandidates : profile.snasnetCandidates,
      },
      plan.seeds.candidates,
    );
    const included = includeCandidates(
      set,
      request.include ?? [],
      spaceConfig,
      plan.budgetBytes,
      request.weightBits,
    );
    const firstPass =
      request.mode === 'spikenas' &&
      profile.firstPass !== null &&
      set.candidates.length > profile.firstPass.survivors;
    const stage: CandidateStage = {
      ...set,
      cellType: space.cellType,
      firstPass,
      included,
      spans: clock.spans(),
    };
    await run.putJson(file, stage);
  }
  const stage = await run.getJson<CandidateStage>(file);
  return { candidates: stage.candidates.length, firstPass: stage.firstPass, counters: { ...stage.counters } };
}

/** Adds the requested matrices that the space did not already hold, when they fit the budget. */
function includeCandidates(
  set: CandidateSet,
  include: string[],
  config: NetConfig,
  budgetBytes: number | null,
  weightBits: SearchRequest['weightBits'],
): string[] {
  const added: string[] = [];
  const present = new Set(set.candidates.map((c) => c.arch));
  for (const text of include) {
    const arch = canonicalizeArch(parseArch(text, config.cellType));
    if (present.has(arch)) continue;
    const candidate = measureCandidate(arch, config, config.cellType, weightBits, budgetBytes);
    if (budgetBytes !== null && candidate.storedBytes > budgetBytes) continue;
    set.candidates.push(candidate);
    present.add(arch);
    added.push(arch);
  }
  return added;
}
