/**
 * Pareto front of (lower weight memory, higher score). A candidate is on the front unless another one is
 * at least as good on both and strictly better on one. Equal points are all kept. The front is returned
 * in a fixed order: weightBytes ascending, then score descending, then arch string ascending, so the same
 * candidates give the same front whatever order they came in.
 */
export interface ParetoPoint {
  arch: string;
  weightBytes: number;
  score: number;
}

export function paretoFront<T extends ParetoPoint>(points: readonly T[]): T[] {
  const sorted = [...points].sort(compareParetoOrder);
  const front: T[] = [];
  let bestScore = Number.NEGATIVE_INFINITY;
  let bestBytes = Number.NaN;
  for (const point of sorted) {
    const score = comparableScore(point.score);
    // Sorted by bytes ascending: only earlier points can dominate. An earlier point with fewer bytes
    // dominates when its score is >=; one with equal bytes only when its score is strictly higher.
    const dominated = score < bestScore || (score === bestScore && point.weightBytes > bestBytes);
    if (front.length > 0 && dominated) continue;
    front.push(point);
    if (score > bestScore || front.length === 1) {
      bestScore = score;
      bestBytes = point.weightBytes;
    }
  }
  return front;
}

/** weightBytes ascending, score descending, arch ascending. */
function compareParetoOrder(a: ParetoPoint, b: ParetoPoint): number {
  if (a.weightBytes !== b.weightBytes) return a.weightBytes - b.weightBytes;
  const sa = comparableScore(a.score);
  const sb = comparableScore(b.score);
  if (sa !== sb) return sb > sa ? 1 : -1;
  return a.arch < b.arch ? -1 : a.arch > b.arch ? 1 : 0;
}

/** NaN (an unusable score) ranks below every number. */
function comparableScore(score: number): number {
  return Number.isNaN(score) ? Number.NEGATIVE_INFINITY : score;
}
