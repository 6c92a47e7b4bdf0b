/** The memory model for deployment: RAM with one membrane per node, computed for every candidate and checked against a RAM budget. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { InfeasibleBudgetError, InputError } from '../common/errors.js';
import { fleetRequest, parseFleets } from '../config/fleets.js';
import { validateSearchRequest } from '../config/request.js';
import { loadDataset } from '../datasets/index.js';
import { runSearchLocally } from '../pipeline/local.js';
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
  weightBits: [8],
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

describe('a RAM budget on a search request', () => {
  const base = {
    dataset: 'synthetic',
    budget: '1MiB',
    mode: 'spikenas',
    profile: 'quick',
    seed: 5,
    weightBits: 8,
    shards: 1,
    artifacts: '/tmp/unused',
  };

  it('is refused, naming the field, when it is not a size', () => {
    expect(() => validateSearchRequest({ ...base, ramBudget: 'lots' })).toThrow(InputError);
    expect(() => validateSearchRequest({ ...base, ramBudget: 'lots' })).toThrow(/^ramBudget: /);
    expect(validateSearchRequest({ ...base, ramBudget: '160KiB' }).ramBudget).toBe('160KiB');
  });

  it("comes from a fleet's ramBudget, and a fleet without one sets none", () => {
    const fleet = { dataset: 'fashion-mnist', cron: '0 2 * * *' };
    const fleets = parseFleets(
      {
        fleets: [
          { ...fleet, name: 'small-drone', budget: '64KiB', ramBudget: '160KiB' },
          { ...fleet, name: 'rover', budget: '96KiB' },
        ],
      },
      'fleets.yaml',
    );
    expect(fleetRequest(fleets[0] as (typeof fleets)[0], 'store', 1).ramBudget).toBe('160KiB');
    expect('ramBudget' in fleetRequest(fleets[1] as (typeof fleets)[0], 'store', 1)).toBe(false);
    expect(() =>
      parseFleets({ fleets: [{ ...fleet, name: 'x', budget: '64KiB', ramBudget: 'much' }] }, 'fleets.yaml'),
    ).toThrow(/fleets\[0\]\.ramBudget/);
  });

  it('keeps every candidate of a spikenas search within it and reports the winner against it', async () => {
    // The budget admits the cells with at most one membrane more than the smallest (the 0->3 skip alone):
    // everything with a conv edge from two nodes is over it.
    const synthetic = await loadDataset('synthetic', { seed: base.seed });
    const netConfig = { ...config, inputShape: synthetic.inputShape, numClasses: synthetic.numClasses };
    const smallest = deployRamBytes(parseArch('0001 0000 0000 0000'), netConfig);
    const oneConv = deployRamBytes(parseArch('0201 0000 0000 0000'), netConfig);
    const ramBudget = oneConv;
    const artifacts = mkdtempSync(join(tmpdir(), 'spikenas-ram-budget-'));
    const summary = await runSearchLocally(
      validateSearchRequest({ ...base, artifacts, ramBudget: `${ramBudget}B` }),
      { runId: 'ram-budget' },
    );
    expect(smallest).toBeLessThan(oneConv);
    expect(summary.counters.overBudget).toBeGreaterThan(0);
    const lines = readFileSync(join(artifacts, 'runs', 'ram-budget', 'candidates.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { arch: string; ramBytes: number });
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line.ramBytes).toBeLessThanOrEqual(ramBudget);
    const report = readFileSync(fileURLToPath(summary.artifacts.report), 'utf8');
    expect(report).toContain(`| RAM budget | `);
    expect(report).toContain(`(${ramBudget} bytes) |`);
    expect(report).toMatch(/\| RAM on the robot for one image .* \| [\d.]+ KiB \|/);
  });
});
