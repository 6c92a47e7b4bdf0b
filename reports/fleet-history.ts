/**
 * A fleet's past searches, read back from what the runs wrote to the artifact store: `spikenas history`
 * prints them and the Slack result message compares a night with the one before.
 */

import { ArtifactIntegrityError } from '../artifacts/digest.js';
import { RUN_FILES, RunArtifacts, type RunManifest, stageFile } from '../artifacts/run.js';
import { ArtifactNotFoundError, type ArtifactStore } from '../artifacts/store.types.js';
import type { RunPlan, WinnerRecord } from '../contract/run-records.js';
import { totalStageMs } from '../contract/stages.js';
import type { QuantizationTry } from '../search/strategy/quantize-to-fit.js';

/** `unfinished`: no outcome recorded yet, so the search is running or ended without a record (terminated). */
export type SearchOutcome = 'completed' | 'failed' | 'cancelled' | 'unfinished';

export interface FleetSearch {
  workflowId: string;
  /** ISO time the run first started (a resumed run keeps it). */
  startedAt: string;
  outcome: SearchOutcome;
  /** Winner, memory and accuracy are null unless the search completed. */
  winner: string | null;
  params: number | null;
  weightBits: number | null;
  weightBytes: number | null;
  budgetBytes: number | null;
  /** At weightBits; accuracyBeforeQuantization is the trained network's, at 32 bits. */
  accuracy: number | null;
  accuracyBeforeQuantization: number | null;
  /**
   * From the first start to the recorded end; null while unfinished. It counts what the night took: a resumed
   * search's pause and any wait for a free worker are in it.
   */
  wallMs: number | null;
  /**
   * The stages' own wall times summed (README, "What a search writes"): the work, pauses left out. Null unless
   * the search completed, and for runs published before winner.json carried stage times.
   */
  stageMs: number | null;
  /** Why a failed or cancelled search ended. */
  message?: string;
}

/** The fields of stages/quantize-evaluate.json the summary of a search takes its stored weights from. */
interface QuantizeRecord {
  weightBits: number;
  weightBytes: number;
  tried: QuantizationTry[];
  /** Which try at weightBits is stored; absent in runs before quantization-aware training (one try a width). */
  chosenMethod?: QuantizationTry['method'];
}

/** winner.json as any version wrote it: stage times came later. */
type PublishedWinner = Omit<WinnerRecord, 'stageWallMs'> & Partial<Pick<WinnerRecord, 'stageWallMs'>>;

/** stages/outcome.json, written by the recordOutcome step. */
interface OutcomeRecord {
  outcome: 'failed' | 'cancelled';
  message: string;
  at: string;
}

const OUTCOME_FILE = stageFile('outcome');
const QUANTIZE_FILE = stageFile('quantize-evaluate');
// The three objects that say whose run it is and how it ended; everything else under runs/ is skipped.
const RUN_OBJECT = /^runs\/([^/]+)\/(config\.json|manifest\.json|stages\/outcome\.json)$/;

/** The fleet's searches, newest first. A run whose objects do not verify is left out with a warning. */
export async function readFleetHistory(
  store: ArtifactStore,
  fleet: string,
  warn: (message: string) => void = (message) => console.warn(message),
): Promise<FleetSearch[]> {
  const objectsOf = new Map<string, Set<string>>();
  for (const key of await store.list('runs/')) {
    const match = RUN_OBJECT.exec(key);
    if (!match) continue;
    const [, runId, name] = match as unknown as [string, string, string];
    objectsOf.set(runId, (objectsOf.get(runId) ?? new Set()).add(name));
  }
  const searches = await Promise.all(
    [...objectsOf].map(async ([runId, objects]) => {
      if (!objects.has(RUN_FILES.config)) return null;
      const run = new RunArtifacts(store, runId, { warn });
      try {
        const plan = await run.getJson<RunPlan>(RUN_FILES.config);
        return plan.request.fleet === fleet ? await describeRun(run, plan, objects) : null;
      } catch (error) {
        if (!(error instanceof ArtifactIntegrityError || error instanceof ArtifactNotFoundError)) throw error;
        warn(`history: run ${runId} left out: ${error.message}`);
        return null;
      }
    }),
  );
  return searches
    .filter((search): search is FleetSearch => search !== null)
    .sort((a, b) => b.startedAt.localeCompare(a.startedAt) || b.workflowId.localeCompare(a.workflowId));
}

/** The newest completed search of the history that started before `workflowId` did (or any, if it is absent). */
export function previousSuccess(history: FleetSearch[], workflowId: string): FleetSearch | undefined {
  const current = history.find((search) => search.workflowId === workflowId);
  return history.find(
    (search) =>
      search.outcome === 'completed' &&
      search.workflowId !== workflowId &&
      (current === undefined || search.startedAt < current.startedAt),
  );
}

async function describeRun(run: RunArtifacts, plan: RunPlan, objects: Set<string>): Promise<FleetSearch> {
  const base: FleetSearch = {
    workflowId: run.runId,
    startedAt: plan.startedAt,
    outcome: 'unfinished',
    winner: null,
    params: null,
    weightBits: null,
    weightBytes: null,
    budgetBytes: plan.budgetBytes,
    accuracy: null,
    accuracyBeforeQuantization: null,
    wallMs: null,
    stageMs: null,
  };
  const since = (end: string) => Date.parse(end) - Date.parse(plan.startedAt);
  // The manifest is written last, by a completed search only; a failure recorded before a resume stays behind.
  if (objects.has(RUN_FILES.manifest)) {
    const manifest = await run.getJson<RunManifest>(RUN_FILES.manifest);
    const winner = await run.getJson<PublishedWinner>(RUN_FILES.winner);
    // As the search's summary has them: the width the weights are stored at, and the accuracy at it.
    const stored = await run.getJson<QuantizeRecord>(QUANTIZE_FILE);
    const final = stored.tried.find(
      (tried) =>
        tried.bits === stored.weightBits &&
        (stored.chosenMethod === undefined || tried.method === stored.chosenMethod),
    );
    return {
      ...base,
      outcome: 'completed',
      winner: winner.arch,
      params: winner.params,
      weightBits: stored.weightBits,
      weightBytes: stored.weightBytes,
      accuracy: final?.accuracy ?? winner.accuracyBeforeQuantization,
      accuracyBeforeQuantization: winner.accuracyBeforeQuantization,
      wallMs: since(manifest.publishedAt),
      stageMs: winner.stageWallMs === undefined ? null : totalStageMs(winner.stageWallMs),
    };
  }
  if (objects.has(OUTCOME_FILE)) {
    const record = await run.getJson<OutcomeRecord>(OUTCOME_FILE);
    return { ...base, outcome: record.outcome, wallMs: since(record.at), message: record.message };
  }
  return base;
}
