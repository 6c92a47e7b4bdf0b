/**
 * A seeded sample of the full backward (or forward) space (none plus all four ops) that no budget or
 * enhancement filters: the candidates the studies rank and the benchmark's fixed workload. Drawn as the search draws
 * them: sampleArch, and an invalid draw (pruned to nothing) is drawn again.
 */
import { Rng } from '../../common/rng.js';
import type { Arch } from '../../snn/cell-matrix.js';
import type { CellType } from '../../snn/config.js';
import { canonicalizeArch, parseArch, pruneArch, sampleArch } from './arch.js';

/**
 * The first `count` valid candidates drawn with `seed`, in draw order. `distinct`: each computation once,
 * in its canonical form (the studies rank distinct candidates); otherwise every valid draw as drawn and
 * pruned, repeats included (as SNASNet's loop draws; the benchmark's workload).
 */
export function sampleCandidates(
  seed: number,
  count: number,
  { distinct, cellType = 'backward' }: { distinct: boolean; cellType?: CellType },
): Arch[] {
  const rng = new Rng(seed);
  const drawn: Arch[] = [];
  const seen = new Set<string>();
  while (drawn.length < count) {
    const pruned = pruneArch(sampleArch(rng, [1, 2, 3, 4], cellType));
    if (pruned === null) continue;
    if (!distinct) {
      drawn.push(pruned);
      continue;
    }
    const canonical = canonicalizeArch(pruned);
    if (seen.has(canonical)) continue;
    seen.add(canonical);
    drawn.push(parseArch(canonical, cellType));
  }
  return drawn;
}
