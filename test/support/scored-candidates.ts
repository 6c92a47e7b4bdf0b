import { Rng } from '../../common/rng.js';
import type { ScoredCandidate } from '../../search/strategy/search-result.js';

/** Seeded candidates; the front is computed here by the definition (no other is lighter and better). */
export function candidates(count: number, seed: number): ScoredCandidate[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, (_, i) => {
    const params = 2000 + rng.int(60000);
    return {
      arch: `c${i}`,
      params,
      weightBits: 32,
      weightBytes: params * 4,
      stateBytes: 5000 + rng.int(5000),
      score: 100 + rng.next() * 50,
    };
  });
}

export function front(all: ScoredCandidate[]): ScoredCandidate[] {
  return all.filter(
    (a) =>
      !all.some(
        (b) =>
          b !== a &&
          b.weightBytes <= a.weightBytes &&
          b.score >= a.score &&
          (b.weightBytes < a.weightBytes || b.score > a.score),
      ),
  );
}
