/** The memory model for deployment: RAM with one membrane per node, computed for every candidate and checked against a RAM budget. */
import { describe, expect, it } from 'vitest';
import { InfeasibleBudgetError } from '../common/errors.js';
import { parseArch } from '../search/space/arch.js';
import { type CandidateRequest, generateCandidates } from '../search/space/candidates.js';
import { cellPlan, deployMemory, deployRamBytes } from '../search/space/deploy-memory.js';
import { estimateMemory } from '../search/space/memory.js';
import { resolvePreset } from '../snn/presets.js';

const config = resolvePreset('fmnist-tiny');
const request = (overrides: Partial<CandidateRequest>): CandidateRequest => ({
  mode: 'spikenas',
  ops: [1, 2, 3],
  cellType: 'forward',
  config: { ...config, cellType: 'forward' },
  budgetBytes: null,
  weightBits: 8,
  limit: 1000,
  ...overrides,
});

describe('deploy memory model', () => {
  it('shares one membrane among the conv edges that leave a node', () => {
    // Node 0 has two conv edges (0->1, 0->3), node 1 one: two membranes per cell, where snn/ builds three LIFs.
    const arch = parseArch('0302 0003 0000 0000');
    expect(cellPlan(arch).lifSources).toEqual([0, 1]);
    const perEdge = estimateMemory(arch, config, { weightBits: 8 });
    const memory = deployMemory(arch, config, 8);
    const membranes = memory.ram.filter((a) => /_v\d?$|^down_v|^head_v|^hidden_v/.test(a.name));
    const membraneBytes = membranes.reduce((sum, a) => sum + 4 * a.elements, 0);
    const oneEdgeLess = 14 * 14 * 8 * 4 + 7 * 7 * 16 * 4;
    expect(membraneBytes).toBe(perEdge.stateBytes - oneEdgeLess);
    expect(memory.ramBytes).toBe(deployRamBytes(arch, config));
    // Bytes at 8 bits: the stored weights plus the normalisation table and the split-out BatchNorm constants.
    expect(memory.flashBytes).toBeGreaterThan(perEdge.storedBytes);
  });

  it('computes RAM for every candidate and rejects those over a RAM budget before scoring', () => {
    const all = generateCandidates(request({}), 1).candidates;
    for (const c of all) expect(c.ramBytes).toBe(deployRamBytes(parseArch(c.arch), config));
    const rams = all.map((c) => c.ramBytes).sort((a, b) => a - b);
    const budget = (rams.at(-1) as number) - 1; // all but the candidates with the most RAM
    const { candidates, counters } = generateCandidates(request({ ramBudgetBytes: budget }), 1);
    expect(candidates.every((c) => c.ramBytes <= budget)).toBe(true);
    expect(candidates.length + counters.overBudget).toBe(all.length);
    expect(counters.overBudget).toBeGreaterThan(0);
    expect(candidates.length).toBeGreaterThan(0);
    expect(() => generateCandidates(request({ ramBudgetBytes: (rams[0] as number) - 1 }), 1)).toThrow(
      InfeasibleBudgetError,
    );
  });
});
