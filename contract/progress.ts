/**
 * The search's progress: which stage runs, how far inside it (training steps, candidates scored), and one
 * percentage over the whole search. Pure and deterministic, so the workflow (fed by its activities'
 * progress signals) and the in-process runner (fed by the steps directly) compute the same figures.
 */
import type { SearchMode } from './request.js';
import { PASS_UNIT, type StageName, stagesOf } from './stages.js';

export interface SearchProgress {
  stage: StageName | 'done' | 'failed' | 'cancelled';
  /** 0..100 over the whole search. */
  percent: number;
  counters: Record<string, number>;
  finishedStages: StageName[];
  /** The count inside the running stage, e.g. 1200 of 3840 training steps; null when it has none yet. */
  current: { unit: string; done: number; total: number } | null;
}

/** What a step reports from inside a stage (an activity signals it to its workflow). */
export interface StageWork {
  stage: StageName;
  /** Which parallel part this is ('all', or a shard such as 'first-0'); the stage's count sums its parts. */
  part: string;
  /** What is counted: 'training steps', 'first-pass candidates', 'full SAHD candidates'. */
  unit: string;
  done: number;
  total: number;
  counters?: Record<string, number>;
}

/** Share of the whole search each stage stands for, for the progress percentage (normalised per mode). */
export const STAGE_WEIGHT: Record<StageName, number> = {
  'prepare-dataset': 2,
  'operation-impact': 30,
  'cell-enhancement': 1,
  'memory-aware-search': 37,
  'train-winner': 25,
  'quantize-evaluate': 4,
  publish: 1,
};

/** A counted part of a stage: the memory-aware search has a first pass and then full SAHD scoring. */
interface Phase {
  unit: string;
  /** Known in advance (candidates to score), or null when the reports bring it (training steps). */
  total: number | null;
  /** The part of the stage's weight this phase covers, as fractions of the stage. */
  from: number;
  to: number;
  /** Counter that mirrors this phase's done count, e.g. 'prefiltered'. */
  counter?: string;
}

export class ProgressTracker {
  readonly progress: SearchProgress = {
    stage: 'prepare-dataset',
    percent: 0,
    counters: {},
    finishedStages: [],
    current: null,
  };
  /** Each stage's share of the percentage, over the stages this search runs. */
  private readonly weight: Partial<Record<StageName, number>> = {};
  private phase: Phase | null = null;
  /** Latest report of each part of the current phase (one per shard, or 'all'). */
  private parts = new Map<string, { done: number; total: number; counters: Record<string, number> }>();

  constructor(mode: SearchMode) {
    const stages = stagesOf(mode);
    const sum = stages.reduce((total, s) => total + STAGE_WEIGHT[s], 0);
    for (const s of stages) this.weight[s] = (100 * STAGE_WEIGHT[s]) / sum;
  }

  begin(stage: StageName): void {
    this.progress.stage = stage;
    this.progress.current = null;
    this.phase = null;
    this.parts.clear();
  }

  /** Starts a counted phase of the current stage; reports before the next phase count towards this one. */
  private beginPhase(phase: Phase): void {
    this.phase = phase;
    this.parts.clear();
    if (phase.counter) this.progress.counters[phase.counter] = 0;
    this.progress.current = { unit: phase.unit, done: 0, total: phase.total ?? 0 };
  }

  /** A scoring pass of the memory-aware search; with a first pass, it and full SAHD take half the stage each. */
  beginPass(pass: 'first' | 'full', total: number, withFirstPass: boolean): void {
    const [from, to] = !withFirstPass ? [0, 1] : pass === 'first' ? [0, 0.5] : [0.5, 1];
    this.beginPhase({
      unit: PASS_UNIT[pass],
      total,
      from,
      to,
      counter: pass === 'first' ? 'prefiltered' : 'scored',
    });
  }

  /** One part's progress. Reports of another stage (late signals of a finished one) are ignored. */
  report(work: StageWork): void {
    if (work.stage !== this.progress.stage) return;
    if (this.phase === null || this.phase.unit !== work.unit) {
      if (this.phase !== null && this.phase.total !== null) return;
      this.beginPhase({ unit: work.unit, total: null, from: 0, to: 1 });
    }
    this.parts.set(work.part, { done: work.done, total: work.total, counters: work.counters ?? {} });
    const phase = this.phase as Phase;
    let done = 0;
    let reported = 0;
    // Each part counts its own share (e.g. one impact shard's trainings): the stage's counters are the sums.
    const counters: Record<string, number> = {};
    for (const part of this.parts.values()) {
      done += part.done;
      reported += part.total;
      for (const [key, value] of Object.entries(part.counters)) counters[key] = (counters[key] ?? 0) + value;
    }
    Object.assign(this.progress.counters, counters);
    const total = phase.total ?? reported;
    this.progress.current = { unit: phase.unit, done, total };
    if (phase.counter) this.progress.counters[phase.counter] = done;
    if (total > 0) this.advance(phase.from + (phase.to - phase.from) * Math.min(1, done / total));
  }

  finish(stage: StageName): void {
    this.progress.finishedStages.push(stage);
    this.progress.current = null;
    this.phase = null;
    this.parts.clear();
    this.setPercent(this.finishedWeight());
  }

  end(outcome: 'done' | 'failed' | 'cancelled'): void {
    this.progress.stage = outcome;
    if (outcome === 'done') this.progress.percent = 100;
  }

  private finishedWeight(): number {
    return this.progress.finishedStages.reduce((sum, s) => sum + (this.weight[s] ?? 0), 0);
  }

  /** Moves the percentage to `fraction` of the current stage; it never goes back (a retry re-reports). */
  private advance(fraction: number): void {
    const weight = this.weight[this.progress.stage as StageName];
    if (weight === undefined) return;
    this.setPercent(this.finishedWeight() + weight * fraction);
  }

  private setPercent(value: number): void {
    // 100 means finished: a stage's last report does not get there before the search has ended. The
    // rounding keeps float sums of the weights from landing a hair under a whole number.
    const percent = Math.floor(Math.round(value * 1e6) / 1e6);
    this.progress.percent = Math.max(this.progress.percent, Math.min(99, percent));
  }
}
