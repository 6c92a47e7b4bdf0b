import { describe, expect, it } from 'vitest';
import { InputError } from '../common/errors.js';
import { Rng } from '../common/rng.js';
import {
  canonicalizeArch,
  enumerateArchs,
  formatArch,
  parseArch,
  pruneArch,
  sampleArch,
  spaceSize,
  validateArch,
} from '../search/space/arch.js';
import { estimateMemory } from '../search/space/memory.js';
import type { Arch } from '../snn/cell-matrix.js';
import { resolvePreset } from '../snn/presets.js';

const canon = (text: string) => canonicalizeArch(parseArch(text));
const swap12 = (arch: Arch): Arch => {
  const perm = [0, 2, 1, 3];
  return arch.map((_, i) =>
    arch.map((__, j) => arch[perm[i] as number]?.[perm[j] as number] as number),
  ) as Arch;
};

describe('parseArch / formatArch', () => {
  it('reads the SNASNet string row by row and writes it back', () => {
    const arch = parseArch('0302 0030 3003 0000');
    expect(arch).toEqual([
      [0, 3, 0, 2],
      [0, 0, 3, 0],
      [3, 0, 0, 3],
      [0, 0, 0, 0],
    ]);
    expect(formatArch(arch)).toBe('0302 0030 3003 0000');
    expect(formatArch(parseArch('  0001\t0000  0000 0000 '))).toBe('0001 0000 0000 0000');
  });

  it.each([
    '0302 0030 3003',
    '0302 0030 3003 0000 0000',
    '0302 0030 3003 000a',
    '0502 0030 3003 0000',
    '03020030 3003 0000',
    '',
  ])('rejects %j naming the field and the format', (text) => {
    const error = (() => {
      try {
        parseArch(text);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).field).toBe('arch');
    expect((error as InputError).allowed).toBe('four groups of four digits 0-4, e.g. "0302 0030 3003 0000"');
  });

  it('rejects a non-zero diagonal, feedback in forward cells and pairs joined both ways', () => {
    expect(() => parseArch('1001 0000 0000 0000')).toThrow(/itself/);
    expect(() => parseArch('0302 0030 3003 0000', 'forward')).toThrow(/feedback edge 2->0 in a forward cell/);
    expect(() => parseArch('0101 1000 0000 0000')).toThrow(/both directions/);
    expect(() => validateArch([[0, 0, 0]] as unknown as Arch)).toThrow(InputError);
  });
});

describe('pruneArch', () => {
  it('keeps a cell whose nodes all lie on a 0 ~> 3 path (feedback edges included)', () => {
    // 0->1->2->3 forward, 2->0 feedback, 0->3: every node is reached from 0 and reaches 3.
    expect(formatArch(pruneArch(parseArch('0302 0030 3003 0000')) as Arch)).toBe('0302 0030 3003 0000');
  });

  it('removes a node that does not reach the output, with its edges', () => {
    expect(formatArch(pruneArch(parseArch('0101 0000 0000 0000')) as Arch)).toBe('0001 0000 0000 0000');
  });

  it('removes nodes not reached from the input', () => {
    // 1 -> 2 and 1 -> 3 exist but nothing enters node 1: both 1 and 2 are dead.
    expect(formatArch(pruneArch(parseArch('0001 0011 0000 0000')) as Arch)).toBe('0001 0000 0000 0000');
  });

  it('treats a feedback edge as a path: 3 at t-1 feeds node 1, which feeds 3 through 2', () => {
    expect(formatArch(pruneArch(parseArch('0001 0010 0001 0100')) as Arch)).toBe('0001 0010 0001 0100');
    // Without the feedback nothing reaches node 1, so 1 and 2 are dead.
    expect(formatArch(pruneArch(parseArch('0001 0010 0001 0000')) as Arch)).toBe('0001 0000 0000 0000');
  });

  it('returns null without the direct 0 -> 3 edge', () => {
    expect(pruneArch(parseArch('0100 0001 0000 0000'))).toBeNull();
    expect(pruneArch(parseArch('0000 0000 0000 0000'))).toBeNull();
    // A feedback 3 -> 0 occupies the pair, so 0 -> 3 cannot exist.
    expect(pruneArch(parseArch('0100 0001 0000 1000'))).toBeNull();
    expect(() => canonicalizeArch(parseArch('0100 0001 0000 0000'))).toThrow(InputError);
  });
});

describe('canonicalizeArch by hand', () => {
  it('maps the 1 <-> 2 swap of unjoined nodes and skip moves to one string', () => {
    // x3 = conv1x1(x0) + conv3x3(x0) + avgpool(x0), however the three ops are routed through skip nodes.
    // Smallest string: 0->3 must stay non-zero and cannot be skip (no x0 term), so row 0 is at best
    // '0102' (0->1 skip, conv1x1 on 0->3, node 2 reached through 1); then 1->2 skip, conv3x3 on 1->3,
    // pool on 2->3.
    const expected = '0102 0013 0004 0000';
    expect(canon('0312 0001 0004 0000')).toBe(expected);
    expect(canon('0132 0004 0001 0000')).toBe(expected);
    expect(canon('0412 0001 0003 0000')).toBe(expected);
    expect(canon('0112 0003 0004 0000')).toBe(expected);
    expect(canon(expected)).toBe(expected);
  });

  it('swaps the ops of edges that leave the same value', () => {
    // x2 = x1 (skip), so x3 = x0 + conv1x1(x1) + pool(x1) either way round.
    expect(canon('0301 0012 0004 0000')).toBe(canon('0301 0014 0002 0000'));
    // x1 = x0 (skip), so 0->3 and 1->3 both leave x0: conv1x1 + conv3x3 in either place.
    expect(canon('0102 0003 0000 0000')).toBe(canon('0103 0002 0000 0000'));
  });

  it('contracts a node fed only by a skip into its source', () => {
    // 0 -skip-> 1 -conv3x3-> 2 -pool-> 3 and 0 -conv1x1-> 3 computes conv1x1(x) + pool(conv3x3(x)).
    // The two-node form 0 -conv3x3-> 2 -pool-> 3 is the smallest: no form can start '001' or '000'.
    const expected = '0032 0000 0004 0000';
    expect(canon('0102 0030 0004 0000')).toBe(expected);
    expect(canon('0302 0004 0000 0000')).toBe(expected);
    expect(canon('0302 0010 0004 0000')).toBe(expected);
    expect(canon('0302 0040 0001 0000')).toBe(expected);
  });

  it('keeps different computations apart', () => {
    expect(canon('0302 0003 0000 0000')).not.toBe(canon('0302 0002 0000 0000'));
    // x2 = conv3x3(x1) differs from x1: the ops on 1->3 and 2->3 are not interchangeable.
    expect(canon('0301 0032 0004 0000')).not.toBe(canon('0301 0034 0002 0000'));
    // Pruning is part of it: a dead branch does not make a new candidate.
    expect(canon('0101 0000 0000 0000')).toBe('0001 0000 0000 0000');
  });

  it('does not move a skip across a node that receives feedback', () => {
    // Node 1 gets feedback from node 2: x1(t) = x0(t) + x2(t-1) is not x0(t), and conv3x3 on 0->1 then
    // skip on 1->3 is not skip then conv3x3. Nodes 1 and 2 are joined (2->1), so no swap either:
    // both matrices are their own canonical form.
    expect(canon('0112 0003 0104 0000')).toBe('0112 0003 0104 0000');
    expect(canon('0312 0001 0104 0000')).toBe('0312 0001 0104 0000');
  });

  it('gives a backward matrix without feedback the forward string', () => {
    const text = '0312 0001 0004 0000';
    expect(canonicalizeArch(parseArch(text, 'backward'))).toBe(canonicalizeArch(parseArch(text, 'forward')));
  });
});

describe('enumerateArchs', () => {
  it.each([
    [[1, 2, 3, 4], 'forward', 5 ** 6, 4 * 5 ** 5],
    [[1, 3], 'forward', 3 ** 6, 2 * 3 ** 5],
    [[1, 3], 'backward', 5 ** 6, 2 * 5 ** 5],
    [[2], 'backward', 3 ** 6, 3 ** 5],
  ] as const)(
    'ops %j %s: (1+k)^6 or (1+2k)^6 matrices, k x choices^5 valid',
    (ops, cellType, total, valid) => {
      // Valid iff the forward 0 -> 3 entry is one of the k ops: pruning never removes nodes 0 and 3 then.
      const seen = new Set<string>();
      let validCount = 0;
      for (const arch of enumerateArchs(ops, cellType)) {
        validateArch(arch, cellType);
        seen.add(formatArch(arch));
        if (pruneArch(arch) !== null) validCount++;
      }
      expect(seen.size).toBe(total);
      expect(spaceSize(ops, cellType)).toBe(total);
      expect(validCount).toBe(valid);
    },
  );
});

describe('canonical form properties', () => {
  const config = resolvePreset('fmnist-tiny');
  const forwardValid = [...enumerateArchs([1, 2, 3, 4], 'forward')].filter((a) => pruneArch(a) !== null);
  const rng = new Rng(7);
  const backwardSample: Arch[] = [];
  while (backwardSample.length < 1500) {
    const arch = sampleArch(rng, [1, 2, 3, 4], 'backward');
    if (pruneArch(arch) !== null) backwardSample.push(arch);
  }

  it.each([
    ['forward, every valid matrix', forwardValid],
    ['backward, a seeded sample', backwardSample],
  ])('%s: idempotent, valid, pruned, swap-invariant, same memory', (_, archs) => {
    for (const arch of archs) {
      const c = canonicalizeArch(arch);
      const parsed = parseArch(c);
      expect(formatArch(pruneArch(parsed) as Arch)).toBe(c);
      expect(canonicalizeArch(parsed)).toBe(c);
      const pruned = pruneArch(arch) as Arch;
      if (pruned[1]?.[2] === 0 && pruned[2]?.[1] === 0) expect(canonicalizeArch(swap12(pruned))).toBe(c);
      // Equivalent matrices build the same parameters and neurons.
      const before = estimateMemory(pruned, config, { weightBits: 32 });
      expect(estimateMemory(parsed, config, { weightBits: 32 })).toEqual(before);
    }
  });

  it('merges the forward space into fewer classes than valid matrices', () => {
    const classes = new Set(forwardValid.map(canonicalizeArch));
    expect(classes.size).toBeLessThan(forwardValid.length);
    expect(classes.size).toBeGreaterThan(forwardValid.length / 4);
  });
});

describe('sampleArch', () => {
  it('is seeded and respects the cell type', () => {
    const draw = (seed: number, cellType: 'forward' | 'backward') => {
      const rng = new Rng(seed);
      return Array.from({ length: 50 }, () => formatArch(sampleArch(rng, [1, 2, 3, 4], cellType)));
    };
    expect(draw(3, 'backward')).toEqual(draw(3, 'backward'));
    expect(draw(3, 'backward')).not.toEqual(draw(4, 'backward'));
    for (const text of draw(5, 'forward')) expect(() => parseArch(text, 'forward')).not.toThrow();
    for (const text of draw(5, 'backward')) expect(() => parseArch(text, 'backward')).not.toThrow();
    expect(draw(5, 'backward').some((t) => /[1-4]/.test(t.split(' ')[3] as string))).toBe(true);
  });

  it('draws only the given ops', () => {
    const rng = new Rng(1);
    for (let i = 0; i < 100; i++) expect(formatArch(sampleArch(rng, [3], 'forward'))).toMatch(/^[03 ]+$/);
    expect(() => sampleArch(rng, [5], 'forward')).toThrow(InputError);
    expect(() => sampleArch(rng, [], 'forward')).toThrow(InputError);
  });
});
