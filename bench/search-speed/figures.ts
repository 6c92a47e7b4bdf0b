/**
 * What a mode's record holds: the summary's figures, what its run folder says about the first pass,
 * enhancement and impact, how many executions its workflow took, and the machine it ran on.
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import type { Client } from '@temporalio/client';
import { openStore } from '../../artifacts/index.js';
import { RUN_FILES, RunArtifacts, stageFile } from '../../artifacts/run.js';
import { machineIdentity } from '../../common/machine.js';
import type { SearchMode } from '../../contract/request.js';
import type { RunPlan } from '../../contract/run-records.js';
import { STAGE_NAMES, type StageName, totalStageMs } from '../../contract/stages.js';
import type { SearchSummary } from '../../contract/summary.js';
import type { SearchResult } from '../../search/strategy/search-result.js';
import type { LaterNight, Machine, ModeResult, ModeSession, OpImpactFigure } from '../paper-results.js';
import { MEASURE } from './paths.js';

async function readStage<T>(run: RunArtifacts, name: string): Promise<T | null> {
  const file = stageFile(name);
  return (await run.exists(file)) ? run.getJson<T>(file) : null;
}

/** Executions of a workflow ID: a search stopped (terminated) and resumed has two. */
export async function executionsOf(client: Client, workflowId: string): Promise<number> {
  let executions = 0;
  for await (const _execution of client.workflow.list({ query: `WorkflowId = '${workflowId}'` }))
    executions += 1;
  return executions;
}

/** The summary's figures plus what the run folder (in `artifacts`) says about the first pass, enhancement and impact. */
export async function figuresOf(
  artifacts: string,
  mode: SearchMode,
  summary: SearchSummary,
  started: boolean,
  executions: number,
  elapsedMs: number,
  session: Omit<ModeSession, 'trainingHeld'>,
): Promise<ModeResult> {
  const run = new RunArtifacts(await openStore(artifacts), summary.runId);
  // From the run's plan: a followed workflow may have been started by another bench run.
  const plan = await run.getJson<RunPlan>(RUN_FILES.config);
  const search = await readStage<SearchResult>(run, 'memory-aware-search');
  const stageWallMs = definedTimes(summary.stageWallMs);
  const result: ModeResult = {
    mode,
    session: { ...session, trainingHeld: plan.request.holdTraining === true },
    runId: summary.runId,
    startedByThisRun: started,
    executions,
    candidatesScored: summary.counters.scored ?? 0,
    counters: summary.counters,
    stageWallMs,
    searchTimeMs: searchTimeMs(summary.stageWallMs),
    endToEndMs: totalStageMs(summary.stageWallMs),
    reusedFrom: summary.reusedFrom,
    elapsedMs,
    winner: summary.winner,
    params: summary.params,
    weightBits: summary.weightBits,
    weightBytes: summary.weightBytes,
    fitsBudget: summary.budgetBytes === null ? null : summary.weightBytes <= summary.budgetBytes,
    testAccuracy: summary.accuracyBeforeQuantization,
    testAccuracyQuantized: summary.accuracy,
    ...(summary.quantization ? { quantization: summary.quantization } : {}),
    firstPass: search?.firstPass ?? null,
    prefiltered: summary.counters.prefiltered ?? 0,
    prefilterAgreement: search?.prefilterAgreement ?? null,
    report: summary.artifacts.report,
  };
  if (mode === 'spikenas') {
    const enhanced = await readStage<{ ops: number[]; cellType: string; decisions: unknown[] }>(
      run,
      'cell-enhancement',
    );
    if (enhanced)
      result.enhancement = { ops: enhanced.ops, cellType: enhanced.cellType, decisions: enhanced.decisions };
    const impact = await readStage<{
      reused?: boolean;
      result?: { impacts?: (OpImpactFigure & { samples?: unknown })[] };
    }>(run, 'operation-impact');
    if (impact?.result?.impacts)
      result.impact = {
        reused: impact.reused ?? null,
        // Every per-operation figure (mean, n, standard deviation, any interval), without the samples.
        impacts: impact.result.impacts.map(({ samples: _samples, ...figure }) => figure),
      };
  }
  return result;
}

/** A later night of a mode: its times and what it reused (the rest of its figures are the first night's). */
export function laterNightOf(summary: SearchSummary): LaterNight {
  return {
    runId: summary.runId,
    stageWallMs: definedTimes(summary.stageWallMs),
    searchTimeMs: searchTimeMs(summary.stageWallMs),
    endToEndMs: totalStageMs(summary.stageWallMs),
    reusedFrom: summary.reusedFrom,
    winner: summary.winner,
    weightBits: summary.weightBits,
    testAccuracyQuantized: summary.accuracy,
  };
}

/** What the paper calls searching time: the stages before the winner's training. */
function searchTimeMs(stageWallMs: SearchSummary['stageWallMs']): number {
  const training = STAGE_NAMES.indexOf('train-winner');
  return Object.entries(stageWallMs)
    .filter(([stage]) => STAGE_NAMES.indexOf(stage as StageName) < training)
    .reduce((sum, [, ms]) => sum + (ms ?? 0), 0);
}

function definedTimes(stageWallMs: SearchSummary['stageWallMs']): Record<string, number> {
  return Object.fromEntries(
    Object.entries(stageWallMs).filter((entry): entry is [string, number] => entry[1] !== undefined),
  );
}

/** The machine as a mode begins: its load and the backend's matMul speed then. */
export interface MachineAtStart {
  load: number[];
  matmulGflops: number | null;
}

export function machineAtStart(): MachineAtStart {
  return { load: loadavg(), matmulGflops: measureMatmul() };
}

/** The machine a mode ran on, with its load at the start and now, at its end. */
export function describeMachine(start: MachineAtStart): Machine {
  return {
    ...machineIdentity(),
    matmulGflops: start.matmulGflops,
    loadAverage: { start: start.load.map(round2), end: loadavg().map(round2) },
  };
}

/** The backend's float32 matMul speed now (bench/measure.ts gemm in a process of its own), or null. */
function measureMatmul(): number | null {
  const run = spawnSync(process.execPath, [MEASURE, 'gemm'], { encoding: 'utf8', env: process.env });
  const line = run.stdout?.trim().split('\n').at(-1);
  try {
    const gflops = (JSON.parse(line ?? '') as { gemmGflops?: unknown }).gemmGflops;
    return typeof gflops === 'number' ? round2(gflops) : null;
  } catch {
    return null;
  }
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
