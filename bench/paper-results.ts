/**
 * What `npm run bench:search` records (one JSON object per dataset, budget and seed under bench/results/):
 * each mode's figures and where they ran, and the speed-ups once both modes are in and comparable. A record
 * fills mode by mode (each mode's run may come from another session). The README table made from the
 * paper-profile records is paper-table.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MachineIdentity } from '../common/machine.js';
import type { SearchMode } from '../contract/request.js';
import type { SearchSummary } from '../contract/summary.js';
import type { FirstPass } from '../search/strategy/profiles.js';

export interface OpImpactFigure {
  op: number | string;
  name: string;
  meanDelta: number;
  n: number;
  std?: number;
  /** Interval fields, when the impact stage records them (e.g. a confidence interval). */
  [field: string]: unknown;
}

export interface Machine extends MachineIdentity {
  /** A 2048 x 2048 float32 matMul on the backend as the mode began, GFLOP/s (bench/measure.ts gemm). */
  matmulGflops: number | null;
  /** When this bench began waiting for the mode, and when it ended. */
  loadAverage: { start: number[]; end: number[] };
}

/**
 * Why two halves' times do not compare, or null when they do: a ratio of times measured on different
 * CPUs measures the CPUs (in this workplace an AVX2 machine ran these networks 2.5x slower than an AVX-512
 * one of the same model name). The matMul figure is not compared: it moves with load.
 */
export function machineDifference(a: Machine, b: Machine): string | null {
  const identity = (m: Machine) =>
    `${m.cores} cores, ${m.arch}, ${m.cpuModel} (${m.vectorExtensions.join(' ')})`;
  return identity(a) === identity(b) ? null : `${identity(a)} against ${identity(b)}`;
}

/** Where and when one mode ran. */
export interface ModeSession {
  /** When its workflow started. */
  date: string;
  command: string;
  machine: Machine;
  backend: string;
  temporal: { address: string; startedDevServer: boolean };
  artifacts: string;
  runPrefix: string;
  /**
   * Whether its winner's training waited until both modes' searches were done and then ran beside the other
   * mode's (one per worker process, a core each); false when it trained alone.
   */
  trainingHeld: boolean;
}

export interface ModeResult {
  mode: SearchMode;
  session: ModeSession;
  runId: string;
  /** False when the bench found the workflow already started (a resumed run); its figures are its own. */
  startedByThisRun: boolean;
  /**
   * Executions of its workflow ID. More than one when the search was stopped and resumed: a resumed stage's
   * wall time then counts from its first start (the stop included) or only from its restart, so the
   * mode's times are no measurement. Absent in records made before it was recorded (2026-12-04).
   */
  executions?: number;
  candidatesScored: number;
  counters: Record<string, number>;
  stageWallMs: Record<string, number>;
  /** What the paper calls searching time: every stage before the winner's training, impact included. */
  searchTimeMs: number;
  /** The stages' wall times summed. */
  endToEndMs: number;
  /** Work this night took from earlier runs (SearchSummary.reusedFrom); absent in records before 2026-12-07. */
  reusedFrom?: ReusedFrom;
  /** Clock time this bench waited for the workflow (includes Temporal and worker overhead). */
  elapsedMs: number;
  winner: string;
  params: number;
  /** The width the winner is stored at. */
  weightBits: number;
  weightBytes: number;
  fitsBudget: boolean | null;
  /** Test accuracy (fraction) of the trained 32-bit weights. */
  testAccuracy: number;
  /** Test accuracy (fraction) of the weights as stored (quantized to weightBits). */
  testAccuracyQuantized: number;
  /**
   * How the stored weights were made, and the test accuracy of the 32-bit training quantized after training
   * to the same width; absent when stored at 32 bits and in records before 2026-12-07's precision search.
   */
  quantization?: { method: string; postTrainingAccuracy: number };
  /** The first pass that ran, with its measured agreement (search/strategy/profiles.ts), or null. */
  firstPass: FirstPass | null;
  prefiltered: number;
  prefilterAgreement: number | null;
  report: string;
  /** spikenas only: cell enhancement's decisions and the operation-impact evidence behind them. */
  enhancement?: { ops: number[]; cellType: string; decisions: unknown[] };
  impact?: { reused: boolean | null; impacts: OpImpactFigure[] };
  /** The same search run again the next night on unchanged data, in the same artifact store. */
  laterNight?: LaterNight;
}

export type ReusedFrom = SearchSummary['reusedFrom'];

/** A second night of a mode: what it took from the first, and its times. */
export interface LaterNight {
  runId: string;
  stageWallMs: Record<string, number>;
  searchTimeMs: number;
  endToEndMs: number;
  reusedFrom: ReusedFrom;
  winner: string;
  weightBits: number;
  testAccuracyQuantized: number;
}

export interface PaperResult {
  profile: string;
  dataset: string;
  budget: string;
  budgetBytes: number;
  /** The widths searched, widest first (SearchRequest.weightBits). */
  weightBits: number[];
  seed: number;
  shards: number;
  workers: { processes: number; env: Record<string, string> };
  /** snasnet's memory-aware-search stage wall time over spikenas'; null until both modes are recorded. */
  searchStageSpeedup: number | null;
  /** snasnet's summed stage wall times over spikenas'; null until both modes are recorded. */
  endToEndSpeedup: number | null;
  /** snasnet's search time (every stage before winner training) over spikenas'; null until both are in. */
  searchTimeSpeedup: number | null;
  /** The same ratios for the modes' later nights on unchanged data; null until both later nights are in. */
  laterNightSearchTimeSpeedup: number | null;
  laterNightEndToEndSpeedup: number | null;
  /**
   * Why the speed-ups are null although both modes are recorded (they ran on different machines, or a mode
   * was resumed after a stop), and what would make them count.
   */
  speedupsWithheld: string | null;
  modes: Partial<Record<SearchMode, ModeResult>>;
}

export interface CompletePaperResult extends PaperResult {
  searchStageSpeedup: number;
  endToEndSpeedup: number;
  searchTimeSpeedup: number;
  modes: Record<SearchMode, ModeResult>;
}

/** Both modes recorded, on one machine. */
export function isComplete(result: PaperResult): result is CompletePaperResult {
  return (
    result.searchStageSpeedup !== null && result.endToEndSpeedup !== null && result.searchTimeSpeedup !== null
  );
}

/** Why two recorded modes' times do not compare, and what would make them; null when they do. */
function withheldBecause(spikenas: ModeResult, snasnet: ModeResult): string | null {
  const difference = machineDifference(spikenas.session.machine, snasnet.session.machine);
  if (difference) return `modes ran on ${difference}; one mode is to be run again on the other's machine`;
  const resumed = [spikenas, snasnet].filter((m) => (m.executions ?? 1) > 1).map((m) => m.mode);
  if (resumed.length === 0) return null;
  return (
    `${resumed.join(' and ')} search was resumed after a stop, and the record names only the machine it ` +
    'finished on: its first part may have run on another; it is to be run again without a stop'
  );
}

/** The record with its speed-ups computed from the modes it holds (null until it holds both). */
export function withSpeedups(result: PaperResult): PaperResult {
  const { spikenas, snasnet } = result.modes;
  const none = {
    searchStageSpeedup: null,
    endToEndSpeedup: null,
    searchTimeSpeedup: null,
    laterNightSearchTimeSpeedup: null,
    laterNightEndToEndSpeedup: null,
  };
  if (!spikenas || !snasnet) return { ...result, ...none, speedupsWithheld: null };
  const speedupsWithheld = withheldBecause(spikenas, snasnet);
  if (speedupsWithheld) return { ...result, ...none, speedupsWithheld };
  const search = (mode: ModeResult) => mode.stageWallMs['memory-aware-search'] ?? Number.NaN;
  return {
    ...result,
    searchStageSpeedup: search(snasnet) / search(spikenas),
    endToEndSpeedup: snasnet.endToEndMs / spikenas.endToEndMs,
    searchTimeSpeedup: snasnet.searchTimeMs / spikenas.searchTimeMs,
    laterNightSearchTimeSpeedup:
      spikenas.laterNight && snasnet.laterNight
        ? snasnet.laterNight.searchTimeMs / spikenas.laterNight.searchTimeMs
        : null,
    laterNightEndToEndSpeedup:
      spikenas.laterNight && snasnet.laterNight
        ? snasnet.laterNight.endToEndMs / spikenas.laterNight.endToEndMs
        : null,
    speedupsWithheld: null,
  };
}

/** The recorded paper-profile runs in a folder (bench/results), oldest file name first. */
export function loadPaperResults(folder: string): PaperResult[] {
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return [];
  }
  return names
    .filter((name) => /^paper-.*\.json$/.test(name))
    .sort()
    .map((name) => JSON.parse(readFileSync(join(folder, name), 'utf8')) as PaperResult)
    .filter((result) => result.profile === 'paper');
}
