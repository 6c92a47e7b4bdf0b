/** The stages of a search: their names, which run for a mode, and what their counts count. */
import type { SearchMode } from './request.js';

/** The stages of a search, in the order they run (snasnet mode skips the impact and enhancement stages). */
export const STAGE_NAMES = [
  'prepare-dataset',
  'operation-impact',
  'cell-enhancement',
  'memory-aware-search',
  'train-winner',
  'quantize-evaluate',
  'publish',
] as const;

export type StageName = (typeof STAGE_NAMES)[number];

/** The stages' own wall times summed: the time a search worked, its pauses left out. */
export function totalStageMs(stageWallMs: Partial<Record<StageName, number>>): number {
  return Object.values(stageWallMs).reduce((sum: number, ms) => sum + (ms ?? 0), 0);
}

/** The stages a search of this mode runs, in order. */
export function stagesOf(mode: SearchMode): StageName[] {
  return STAGE_NAMES.filter(
    (s) => mode === 'spikenas' || (s !== 'operation-impact' && s !== 'cell-enhancement'),
  );
}

/** What each scoring pass counts. */
export const PASS_UNIT = { first: 'first-pass candidates', full: 'full SAHD candidates' } as const;
