import { describe, expect, it } from 'vitest';
import { InfeasibleBudgetError, InputError } from '../common/errors.js';
import { canonicalizeArch, parseArch } from '../search/space/arch.js';
import { type CandidateRequest, generateCandidates } from '../search/space/candidates.js';
import { estimateMemory } from '../search/space/memory.js';
import { PROFILE_NAMES, profilePreset, resolveProfile } from '../search/strategy/profiles.js';
import { resolvePreset } from '../snn/presets.js';

const config = { ...resolvePreset('fmnist-tiny'), cellType: 'forward' as const };
const bytesOf = (text: string) => estimateMemory(parseArch(text), config, { weightBits: 32 }).weightBytes;
const request = (overrides: Partial<CandidateRequest>): CandidateRequest => ({
  mode: 'spikenas',
  ops: [1, 3],
  cellType: 'forward',
  config,
  budgetBytes: null,
  weightBits: [32],
  limit: 1000,
  ...overrides,
});

describe('generateCandidates, spikenas mode', () => {
  it('enumerates a small space: every raw matrix counted once, canonical and distinct survivors', () => {
    const { candidates, counters, method } = generateCandidates(request({}), 1);
    expect(method).toBe('enumerated');
    // {none, skip, conv3x3} on 6 slots; valid iff 0->3 is skip or conv3x3: 2 x 3^5.
    expect(counters.generated).toBe(3 ** 6);
    expect(counters.invalid).toBe(3 ** 6 - 2 * 3 ** 5);
    expect(counters.overBudget).toBe(0);
    expect(candidates.length + counters.duplicate).toBe(2 * 3 ** 5);
    const archs = candidates.map((c) => c.arch);
    expect(new Set(archs).size).toBe(archs.length);
    expect([...archs].sort()).toEqual(archs);
    for (const c of candidates) {
      expect(canonicalizeArch(parseArch(c.arch))).toBe(c.arch);
      expect(c).toMatchObject(estimateMemory(parseArch(c.arch), config, { weightBits: 32 }));
    }
  });

  it('rejects over-budget candidates before scoring and keeps the rest', () => {
    const all = generateCandidates(request({}), 1).candidates;
    const budget = bytesOf('0003 0000 0000 0000'); // room for exactly one conv3x3 edge
    const { candidates, counters } = generateCandidates(request({ budgetBytes: budget }), 1);
    expect(counters.overBudget).toBeGreaterThan(0);
    expect(candidates.length + counters.overBudget).toBe(all.length);
    expect(candidates.every((c) => c.storedBytes <= budget)).toBe(true);
    // Room for one conv3x3 edge: admitted exactly when at most one edge is conv3x3.
    const conv3Edges = (arch: string) => [...arch].filter((ch) => ch === '3').length;
    const admitted = new Set(candidates.map((c) => c.arch));
    for (const c of all) expect(admitted.has(c.arch)).toBe(conv3Edges(c.arch) <= 1);
  });

  it('counts memory at the requested weight width, as stored: codes and their per-channel scales', () => {
    const skipOnly = (weightBits: 8 | 32) =>
      estimateMemory(parseArch('0001 0000 0000 0000'), config, { weightBits });
    // The 8-bit codes alone would fit a budget their scales overflow: the stored size decides.
    expect(() =>
      generateCandidates(request({ budgetBytes: skipOnly(8).weightBytes, weightBits: [8] }), 1),
    ).toThrow(/needs \d+ bytes .* at 8-bit weights, as stored/);
    const budget = skipOnly(8).storedBytes; // only 8-bit weights fit the skip-only cell
    expect(skipOnly(32).storedBytes).toBeGreaterThan(budget);
    expect(() => generateCandidates(request({ budgetBytes: budget }), 1)).toThrow(InfeasibleBudgetError);
    const { candidates } = generateCandidates(request({ budgetBytes: budget, weightBits: [8] }), 1);
    // Only the parameter-free cells (skip edges only) fit.
    expect(candidates.length).toBeGreaterThan(0);
    for (const c of candidates) expect(c.arch).toMatch(/^[01 ]+$/);
  });

  it('stores each cell at the widest of the requested widths that fits, so narrower widths admit larger cells', () => {
    const stored = (text: string, weightBits: number) =>
      estimateMemory(parseArch(text), config, { weightBits }).storedBytes;
    // Room for one conv3x3 edge at 8 bits; the narrower widths hold more.
    const budget = stored('0003 0000 0000 0000', 8);
    const at8 = generateCandidates(request({ budgetBytes: budget, weightBits: [8] }), 1).candidates;
    const searched = generateCandidates(request({ budgetBytes: budget, weightBits: [8, 6, 4] }), 1);
    const byArch = new Map(searched.candidates.map((c) => [c.arch, c]));
    // Every cell that fits at 8 bits is listed once, at 8 bits.
    for (const c of at8) expect(byArch.get(c.arch)?.weightBits).toBe(8);
    const widths = new Set(searched.candidates.map((c) => c.weightBits));
    expect(widths).toEqual(new Set([8, 6, 4]));
    for (const c of searched.candidates) {
      expect(c.storedBytes).toBe(stored(c.arch, c.weightBits));
      expect(c.storedBytes).toBeLessThanOrEqual(budget);
      // No wider width of the request would have fitted.
      for (const wider of [8, 6].filter((b) => b > c.weightBits)) {
        expect(stored(c.arch, wider)).toBeGreaterThan(budget);
      }
    }
    expect(searched.candidates.length).toBeGreaterThan(at8.length);
    expect(Math.max(...searched.candidates.map((c) => c.params))).toBeGreaterThan(
      Math.max(...at8.map((c) => c.params)),
    );
  });

  it('names the smallest candidate when the budget admits none', () => {
    const smallest = bytesOf('0001 0000 0000 0000');
    try {
      generateCandidates(request({ budgetBytes: 100 }), 1);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InfeasibleBudgetError);
      expect((error as Error).message).toContain(`needs ${smallest} bytes`);
      expect((error as Error).message).toContain('0001 0000 0000 0000');
    }
  });

  it('caps an enumerated space at `limit` with a seeded subset', () => {
    const a = generateCandidates(request({ limit: 10 }), 1).candidates.map((c) => c.arch);
    expect(a).toHaveLength(10);
    expect(generateCandidates(request({ limit: 10 }), 1).candidates.map((c) => c.arch)).toEqual(a);
    expect(generateCandidates(request({ limit: 10 }), 2).candidates.map((c) => c.arch)).not.toEqual(a);
  });

  it('samples a large space (backward, 4 ops), seeded', () => {
    const big = request({
      ops: [1, 2, 3, 4],
      cellType: 'backward',
      config: { ...config, cellType: 'backward' },
      limit: 30,
    });
    const first = generateCandidates(big, 5);
    expect(first.method).toBe('sampled');
    expect(first.candidates).toHaveLength(30);
    expect(new Set(first.candidates.map((c) => c.arch)).size).toBe(30);
    expect(first.counters.generated).toBe(30 + first.counters.invalid + first.counters.duplicate);
    expect(generateCandidates(big, 5)).toEqual(first);
  });

  it('rejects a bad limit and bad ops', () => {
    expect(() => generateCandidates(request({ limit: 0 }), 1)).toThrow(InputError);
    expect(() => generateCandidates(request({ ops: [] }), 1)).toThrow(InputError);
  });
});

describe('generateCandidates, snasnet mode', () => {
  it('draws `limit` valid 5-op matrices, keeping repeats as SNASNet does, ignoring the budget', () => {
    const { candidates, counters } = generateCandidates(
      request({ mode: 'snasnet', ops: [3], budgetBytes: 1, limit: 200 }),
      3,
    );
    expect(candidates).toHaveLength(200);
    expect(counters.generated - counters.invalid).toBe(200);
    expect(counters.overBudget).toBe(0);
    expect(new Set(candidates.map((c) => c.arch)).size).toBe(200 - counters.duplicate);
    // Drawn from all four ops, whatever `ops` says.
    const ops = new Set(candidates.flatMap((c) => [...c.arch.replace(/[ 0]/g, '')]));
    expect([...ops].sort()).toEqual(['1', '2', '3', '4']);
  });
});

describe('profiles', () => {
  it('resolves the known profiles and names them on a typo', () => {
    expect(PROFILE_NAMES).toEqual(['quick', 'paper']);
    expect(resolveProfile('paper').sahd).toEqual({ batchSize: 256, repeats: 2 });
    expect(resolveProfile('paper').snasnetCandidates).toBe(5000);
    expect(profilePreset(resolveProfile('quick'), 'fashion-mnist')).toBe('fmnist-tiny');
    for (const name of PROFILE_NAMES) {
      for (const preset of Object.values(resolveProfile(name).presets))
        expect(() => resolvePreset(preset)).not.toThrow();
    }
    expect(() => resolveProfile('fast')).toThrow(
      /profile: 'fast' is not a search profile \(allowed: quick, paper\)/,
    );
    expect(() => profilePreset(resolveProfile('quick'), 'cifar100')).toThrow(InputError);
  });
});
