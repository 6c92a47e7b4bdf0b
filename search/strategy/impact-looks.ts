/**
 * Operation impact as a sequential design: pairs are trained in looks, and a subject (an operation, or
 * feedback) stops getting pairs as soon as more could not change what cell enhancement does with it. Pure.
 *
 * Why: with a fixed 5 pairs per subject, no interval excluded 0 in six paper runs, so the 17-26 minutes of
 * training changed no decision. Some subjects are close (skip, avgpool3x3 at 300 steps), others nowhere near
 * (conv1x1's mean gain +0.29 points, sd 4 points). Looks spend pairs on the close ones.
 *
 * The design, for looks at n_1 < n_2 < ... < n_K pairs per subject:
 * - All looks use one interval level, 1 - 0.05 / K: Bonferroni over the looks, so a subject with no effect
 *   is acted on at any look with probability at most 5 %, as with one 95 % interval.
 * - After look k a subject stops when its interval excludes 0 ('clear of 0'); or when, were its mean and
 *   spread to stay as they are, even n_K pairs would leave 0 inside ('cannot clear 0'); or at look K.
 * - Every open subject moves one look per round, so a round's trainings are trained together (sharded)
 *   and the next round is decided from all of them.
 */

import { meanAndSampleStd, tHalfWidth, tInterval } from '../stats/t-interval.js';
import { type ImpactPair, type ImpactStop, impactKey } from './impact-plan.js';

/** The level every look's interval has (see the module comment). */
export function lookLevel(samplesPerLook: readonly number[]): number {
  return 1 - 0.05 / samplesPerLook.length;
}

/** Where a subject stands: the pairs it uses, and its stop (null while it waits for trainings). */
export interface SubjectLooks {
  subject: ImpactPair['subject'];
  pairs: ImpactPair[];
  stop: ImpactStop | null;
}

/**
 * Follows the design over the trained accuracies: each subject's looks until it stops or its next look
 * needs a pair not yet trained. Returns every subject's state and the pairs the next round needs (none when
 * every subject has stopped).
 */
export function followLooks(
  pairs: readonly ImpactPair[],
  samplesPerLook: readonly number[],
  accuracies: Readonly<Record<string, number>>,
): { subjects: SubjectLooks[]; pending: ImpactPair[] } {
  const level = lookLevel(samplesPerLook);
  const trained = (p: ImpactPair) =>
    accuracies[impactKey(p.cellType, p.withArch)] !== undefined &&
    accuracies[impactKey(p.cellType, p.withoutArch)] !== undefined;
  const subjects: SubjectLooks[] = [];
  const pending: ImpactPair[] = [];
  for (const subject of [...new Set(pairs.map((p) => p.subject))]) {
    const drawn = pairs.filter((p) => p.subject === subject);
    // A subject may have drawn fewer pairs than the looks ask for: its last look is then all it has.
    const looks = [...new Set(samplesPerLook.map((n) => Math.min(n, drawn.length)))];
    const most = looks[looks.length - 1] as number;
    let state: SubjectLooks = { subject, pairs: [], stop: null };
    for (const [k, n] of looks.entries()) {
      const used = drawn.slice(0, n);
      const missing = used.filter((p) => !trained(p));
      if (missing.length > 0) {
        pending.push(...missing);
        break;
      }
      state = {
        subject,
        pairs: used,
        stop: stopAfterLook(gains(used, accuracies), level, most, k === looks.length - 1),
      };
      if (state.stop !== null) break;
    }
    subjects.push(state);
  }
  return { subjects, pending };
}

function gains(pairs: readonly ImpactPair[], accuracies: Readonly<Record<string, number>>): number[] {
  return pairs.map(
    (p) =>
      (accuracies[impactKey(p.cellType, p.withArch)] as number) -
      (accuracies[impactKey(p.cellType, p.withoutArch)] as number),
  );
}

/** The stop after a look with these gains, or null to go on to the next look. */
function stopAfterLook(
  deltas: readonly number[],
  level: number,
  most: number,
  last: boolean,
): ImpactStop | null {
  const { mean, std } = meanAndSampleStd(deltas);
  const ci = tInterval(mean, std, deltas.length, level);
  if (ci !== null && (ci.low > 0 || ci.high < 0)) return 'clear of 0';
  if (last) return 'last look';
  // With one pair there is no spread to project from: go on.
  if (ci !== null && Math.abs(mean) <= tHalfWidth(level, std, most)) return 'cannot clear 0';
  return null;
}
