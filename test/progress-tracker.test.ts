/**
 * The pure parts behind what a person sees while a search runs: the progress tracker the workflow and the
 * in-process runner share, the stage time estimate, and the throttle on progress signals. The real path
 * (dev server, worker, CLI child process) is covered by operator-progress.test.ts.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ProgressSignaller, signalIntervalMs } from '../activities/progress.js';
import { ETA_MIN_OBSERVED_MS, formatTimeLeft, StageEta } from '../cli/eta.js';
import { ProgressTracker, type StageWork } from '../contract/progress.js';
import { stagesOf } from '../contract/stages.js';

const steps = (done: number, total = 100): StageWork => ({
  stage: 'operation-impact',
  part: 'all',
  unit: 'training steps',
  done,
  total,
});

describe('ProgressTracker', () => {
  it('moves inside a stage, never backwards, and reaches 100 only when the search is done', () => {
    const tracker = new ProgressTracker('spikenas');
    const seen: number[] = [];
    for (const stage of stagesOf('spikenas')) {
      tracker.begin(stage);
      if (stage === 'operation-impact') {
        for (const done of [10, 50, 30, 100]) {
          tracker.report(steps(done));
          seen.push(tracker.progress.percent);
        }
        expect(tracker.progress.current).toEqual({ unit: 'training steps', done: 100, total: 100 });
      }
      tracker.finish(stage);
      seen.push(tracker.progress.percent);
    }
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(new Set(seen.slice(0, 4)).size).toBe(3); // 10 and 50 moved it; the retry's 30 did not go back
    expect(Math.max(...seen)).toBe(99);
    tracker.end('done');
    expect(tracker.progress.percent).toBe(100);
    expect(tracker.progress.finishedStages).toEqual(stagesOf('spikenas'));
  });

  it('sums the shards of a scoring pass against the pass total, and mirrors it in the counter', () => {
    const tracker = new ProgressTracker('snasnet');
    tracker.begin('prepare-dataset');
    tracker.finish('prepare-dataset');
    tracker.begin('memory-aware-search');
    tracker.beginPass('full', 200, false);
    const shard = (part: string, done: number): StageWork => ({
      stage: 'memory-aware-search',
      part,
      unit: 'full SAHD candidates',
      done,
      total: 100,
    });
    tracker.report(shard('full-0', 30));
    tracker.report(shard('full-1', 20));
    expect(tracker.progress.current).toEqual({ unit: 'full SAHD candidates', done: 50, total: 200 });
    expect(tracker.progress.counters.scored).toBe(50);
    // A quarter of the search stage, on top of prepare-dataset: weights over snasnet's five stages.
    expect(tracker.progress.percent).toBe(Math.floor(((2 + 37 / 4) * 100) / 69));
  });

  it('sums the impact shards: training steps against the steps reported, and their counters', () => {
    const tracker = new ProgressTracker('spikenas');
    tracker.begin('operation-impact');
    const shard = (part: string, trained: number, trainings: number): StageWork => ({
      stage: 'operation-impact',
      part,
      unit: 'training steps',
      done: trained * 10,
      total: trainings * 10,
      counters: { trained, trainings },
    });
    tracker.report(shard('impact-0', 1, 3));
    tracker.report(shard('impact-1', 2, 2));
    tracker.report(shard('impact-0', 2, 3)); // a shard's newer report replaces its older one
    expect(tracker.progress.current).toEqual({ unit: 'training steps', done: 40, total: 50 });
    expect(tracker.progress.counters).toMatchObject({ trained: 4, trainings: 5 });
  });

  it('ignores a late report of a stage that has ended, and a first-pass report once full SAHD began', () => {
    const tracker = new ProgressTracker('spikenas');
    tracker.begin('operation-impact');
    tracker.finish('operation-impact');
    tracker.begin('cell-enhancement');
    tracker.report(steps(5));
    expect(tracker.progress.current).toBeNull();
    tracker.finish('cell-enhancement');
    tracker.begin('memory-aware-search');
    tracker.beginPass('first', 150, true);
    tracker.beginPass('full', 8, true);
    tracker.report({
      stage: 'memory-aware-search',
      part: 'first-0',
      unit: 'first-pass candidates',
      done: 150,
      total: 150,
    });
    expect(tracker.progress.current).toEqual({ unit: 'full SAHD candidates', done: 0, total: 8 });
  });
});

describe('StageEta', () => {
  it('gives no estimate before the count has moved for a while, then a sane one', () => {
    const eta = new StageEta();
    expect(eta.observe('train|steps', 0.1, 0)).toBeNull();
    expect(eta.observe('train|steps', 0.2, ETA_MIN_OBSERVED_MS - 1)).toBeNull();
    // 0.1 -> 0.3 in 10 s: 0.7 left takes 35 s.
    expect(eta.observe('train|steps', 0.3, 10_000)).toBeCloseTo(35_000);
  });

  it('gives none while the count stands still, and starts over for another stage', () => {
    const eta = new StageEta();
    eta.observe('impact|steps', 0, 0);
    expect(eta.observe('impact|steps', 0, 60_000)).toBeNull();
    expect(eta.observe('search|candidates', 0.5, 60_000)).toBeNull();
    expect(eta.observe('search|candidates', null, 70_000)).toBeNull();
  });

  it('formats durations for a person', () => {
    expect([45_000, 185_000, 7_620_000].map(formatTimeLeft)).toEqual(['45s', '3m 05s', '2h 07m']);
  });
});

describe('ProgressSignaller', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends the first report at once, then the newest one per interval, and nothing after close', async () => {
    vi.useFakeTimers();
    const sent: number[] = [];
    const signaller = new ProgressSignaller(
      async (work) => {
        sent.push(work.done);
      },
      () => 2_000,
    );
    signaller.push(steps(1));
    for (const done of [2, 3, 4]) signaller.push(steps(done));
    await vi.advanceTimersByTimeAsync(0);
    expect(sent).toEqual([1]);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(sent).toEqual([1, 4]);
    signaller.push(steps(5));
    signaller.close();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(sent).toEqual([1, 4]);
  });

  it('keeps going when a signal fails (a cancelled workflow, a restarting server)', async () => {
    vi.useFakeTimers();
    const tried: number[] = [];
    const signaller = new ProgressSignaller(
      async (work) => {
        tried.push(work.done);
        throw new Error('workflow execution already completed');
      },
      () => 1_000,
    );
    signaller.push(steps(1));
    await vi.advanceTimersByTimeAsync(0);
    signaller.push(steps(2));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(tried).toEqual([1, 2]);
    signaller.close();
  });

  it('spaces its signals out as the activity ages, so that a long training keeps a short history', async () => {
    expect([0, 400_000, 3_600_000, 86_400_000].map(signalIntervalMs)).toEqual([
      2_000, 2_000, 18_000, 432_000,
    ]);
    vi.useFakeTimers();
    const sentAt: number[] = [];
    const signaller = new ProgressSignaller(async () => {
      sentAt.push(Date.now());
    });
    // A step every half second, far more often than it may signal.
    let done = 0;
    const stepping = setInterval(() => signaller.push(steps(++done, 1e9)), 500);
    await vi.advanceTimersByTimeAsync(3_600_000);
    clearInterval(stepping);
    signaller.close();
    // 200 in the first 400 s at 2 s, then 200 x ln(3600 / 400) = 439 at 0.5 % of the age.
    expect(sentAt.length).toBeGreaterThan(600);
    expect(sentAt.length).toBeLessThan(680);
    const gaps = sentAt.slice(1).map((t, i) => t - (sentAt[i] as number));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(2_000);
    expect(gaps.at(-1)).toBeGreaterThan(17_000);
  });
});
