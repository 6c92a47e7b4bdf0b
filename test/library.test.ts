/**
 * The package's public API from plain Node ESM after `npm run build` (`import … from 'spikenas'`), and the
 * SAHD formula on a case small enough to work out by hand.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { logAbsDet, sahdKernel, sahdScore } from '../search/predictors/sahd.js';
import { ROOT } from './support/temporal.js';

describe('SAHD', () => {
  it('matches the method doc on two samples of two neurons', () => {
    // x1 = [1, 0], x2 = [0, 1]: rowsums 1 and 1, s = 0.5, normK = (0.25 + 0.25) * 2 = 1 everywhere;
    // Hamming distance 0 on the diagonal and 2 off it, so K = [[2, 2 - 0.5/1.001*2], [same, 2]].
    const off = 2 - (0.5 / 1.001) * 2;
    const weighted = [0, (0.5 / 1.001) * 2, (0.5 / 1.001) * 2, 0];
    const kernel = sahdKernel({ weighted, neurons: 2, calls: 1, batch: 2 });
    expect([...kernel]).toEqual([2, off, off, 2]);
    expect(sahdScore([{ spikes: [1, 0, 0, 1], batch: 2, neurons: 2 }])).toBeCloseTo(
      Math.log(4 - off * off),
      12,
    );
  });

  it('averages K over calls and takes log|det| by pivoting LU', () => {
    const calls = [
      { spikes: [1, 0, 0, 1], batch: 2, neurons: 2 },
      { spikes: [1, 1, 1, 1], batch: 2, neurons: 2 },
    ];
    // Second call: identical all-ones rows, Hamming 0, so K = 2 everywhere; the mean of the two kernels.
    const off = (2 - (0.5 / 1.001) * 2 + 2) / 2;
    expect(sahdScore(calls)).toBeCloseTo(Math.log(Math.abs(4 - off * off)), 12);
    expect(logAbsDet(Float64Array.from([0, 2, 3, 0]), 2)).toBeCloseTo(Math.log(6), 12);
  });
});

describe('library API', () => {
  it('imports from plain Node ESM by package name', () => {
    const script = `
      import { parseArch, canonicalizeArch, countParams, estimateMemory, sahdScore, resolvePreset } from 'spikenas';
      const config = resolvePreset('fmnist-tiny');
      const arch = parseArch('0302 0030 3003 0000');
      const memory = estimateMemory(arch, config, { weightBits: 8 });
      console.log(JSON.stringify({
        canonical: canonicalizeArch(arch),
        params: countParams(arch, config),
        memory,
        score: sahdScore([{ spikes: [1, 0, 0, 1], batch: 2, neurons: 2 }]),
      }));`;
    const out = JSON.parse(
      execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' }),
    );
    expect(out.params).toBe(out.memory.params);
    expect(out.memory.weightBytes).toBe(out.params);
    expect(out.canonical).toMatch(/^[0-4]{4}( [0-4]{4}){3}$/);
    expect(out.score).toBeCloseTo(sahdScore([{ spikes: [1, 0, 0, 1], batch: 2, neurons: 2 }]), 12);
  });
});
