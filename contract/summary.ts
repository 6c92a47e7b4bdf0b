/** How a completed search ended: the winner, its memory and accuracy, and where its artifacts are. */
import type { SearchMode } from './request.js';
import type { StageName } from './stages.js';

export interface SearchSummary {
  workflowId: string;
  runId: string;
  mode: SearchMode;
  fleet: string | null;
  seed: number;
  backend: string;
  winner: string;
  params: number;
  weightBits: number;
  weightBytes: number;
  stateBytes: number;
  budgetBytes: number | null;
  sahdScore: number;
  accuracy: number;
  accuracyBeforeQuantization: number;
  /**
   * How the stored weights were made and what post-training quantization to the same width scored (the
   * comparison for quantization-aware training); null when the weights are stored at 32 bits.
   */
  quantization: { method: 'post-training' | 'quantization-aware'; postTrainingAccuracy: number } | null;
  counters: Record<string, number>;
  stageWallMs: Partial<Record<StageName, number>>;
  /**
   * Work taken from an earlier run with the same data, network and seeds instead of redone: that run's ID,
   * or null where this run did the work (and for operation impact in snasnet mode, which has none).
   */
  reusedFrom: { operationImpact: string | null; winnerTraining: string | null };
  artifacts: { root: string; report: string; winner: string; weights: string };
}
