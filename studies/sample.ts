import { Rng } from '../common/rng.js';
import { canonicalizeArch, pruneArch, sampleArch } from '../search/space/arch.js';

/**
 * Valid canonical candidates of the full backward space (none plus all four ops), distinct, in draw order,
 * drawn as the search draws them (sampleArch, then pruned): no budget or enhancement filters them.
 */
export function sampleCandidates(count: number, seed: number): string[] {
  const rng = new Rng(seed);
  const seen = new Set<string>();
  while (seen.size < count) {
    const arch = sampleArch(rng, [1, 2, 3, 4], 'backward');
    if (pruneArch(arch) !== null) seen.add(canonicalizeArch(arch));
  }
  return [...seen];
}
