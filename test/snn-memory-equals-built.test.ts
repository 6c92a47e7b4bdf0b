import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../common/rng.js';
import { pruneArch, sampleArch } from '../search/space/arch.js';
import { countParams, estimateMemory } from '../search/space/memory.js';
import { initBackend } from '../snn/backend.js';
import type { Arch } from '../snn/cell-matrix.js';
import type { CellType, NetConfig } from '../snn/config.js';
import { buildNetwork } from '../snn/network.js';
import { resolvePreset } from '../snn/presets.js';
import { quantizeWeights } from '../snn/quantize.js';
import { serializeWeights } from '../snn/weights.js';

/** Odd sizes on purpose: stride 1, 3 input channels, a 3x3 head pool that floors. */
const ODD: NetConfig = {
  inputShape: [19, 21, 3],
  numClasses: 7,
  stemChannels: 6,
  stemStride: 1,
  secondPool: 3,
  classifierHidden: 20,
  populationSize: 3,
  timesteps: 2,
  cellType: 'backward',
};

function candidates(seed: number, count: number, cellType: CellType): Arch[] {
  const rng = new Rng(seed);
  const out: Arch[] = [];
  while (out.length < count) {
    const pruned = pruneArch(sampleArch(rng, [1, 2, 3, 4], cellType));
    if (pruned !== null) out.push(pruned);
  }
  return out;
}

describe('memory model equals the network actually built', () => {
  beforeAll(async () => {
    await initBackend();
  });

  const configs: [string, NetConfig][] = [
    ['fmnist-tiny', resolvePreset('fmnist-tiny')],
    ['fmnist-small', resolvePreset('fmnist-small')],
    ['odd', ODD],
  ];
  for (const cellType of ['forward', 'backward'] as const) {
    for (const [name, base] of configs) {
      it(`${cellType} cells, ${name}: params and LIF neurons match for 60 candidates`, () => {
        const config = { ...base, cellType };
        for (const [k, arch] of candidates(
          name.length * 31 + (cellType === 'forward' ? 1 : 2),
          60,
          cellType,
        ).entries()) {
          const net = buildNetwork(arch, config, k);
          try {
            const estimate = estimateMemory(arch, config, { weightBits: 32, stateBits: 32 });
            expect(net.countParams()).toBe(countParams(arch, config));
            expect(net.countParams()).toBe(estimate.params);
            expect(net.countNeurons()).toBe(estimate.neurons);
            expect(estimate.stateBytes).toBe(net.countNeurons() * 4);
          } finally {
            net.dispose();
          }
        }
      });
    }
  }

  for (const [name, config] of configs) {
    it(`${name}: stored weight bytes at 8 and 4 bits equal what quantization stores, for 12 candidates`, async () => {
      for (const [k, arch] of candidates(name.length * 7 + 3, 12, 'backward').entries()) {
        const net = buildNetwork(arch, { ...config, cellType: 'backward' }, k);
        try {
          const weights = await serializeWeights(net.getWeights());
          for (const bits of [8, 4] as const) {
            const stored = await quantizeWeights(weights, bits);
            const estimate = estimateMemory(arch, config, { weightBits: bits });
            expect(estimate.storedBytes).toBe(stored.codeBytes + stored.scaleBytes);
            expect(estimate.storedBytes).toBeGreaterThan(estimate.weightBytes);
          }
          expect(estimateMemory(arch, config, { weightBits: 32 }).storedBytes).toBe(net.countParams() * 4);
        } finally {
          net.dispose();
        }
      }
    });
  }
});
