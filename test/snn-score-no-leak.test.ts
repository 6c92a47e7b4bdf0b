import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../common/rng.js';
import {
  type SpikeLayer,
  sahdDropoutSeed,
  sahdFromSums,
  sahdScore,
  sahdSumsOf,
  scoreSahd,
} from '../search/predictors/sahd.js';
import { parseArch, pruneArch, sampleArch } from '../search/space/arch.js';
import { initBackend } from '../snn/backend.js';
import type { Arch } from '../snn/cell-matrix.js';
import type { NetConfig } from '../snn/config.js';
import { buildNetwork } from '../snn/network.js';

const CONFIG: NetConfig = {
  inputShape: [12, 12, 1],
  numClasses: 4,
  stemChannels: 4,
  stemStride: 1,
  secondPool: 2,
  classifierHidden: 16,
  populationSize: 1,
  timesteps: 2,
  cellType: 'backward',
};
const BATCH = 6;

function batch(seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: BATCH * 12 * 12 }, () => rng.next() * 4 - 1);
}

beforeAll(async () => {
  await initBackend();
});

describe('scoreSahd', () => {
  it('accumulated on the backend, agrees with the float64 reference on the raw spikes', async () => {
    const arch = parseArch('0302 0030 3003 0000');
    const images = batch(1);
    const fromBackend = await scoreSahd(arch, CONFIG, [images], BATCH, 9);

    const net = buildNetwork(arch, CONFIG, 9);
    const layers: SpikeLayer[] = [];
    tf.tidy(() => {
      net.forward(tf.tensor4d(images, [BATCH, 12, 12, 1]), {
        training: true,
        updateStats: false,
        dropoutSeed: sahdDropoutSeed(9, 0),
        observe: (_name, spikes) => {
          layers.push({ spikes: spikes.dataSync(), batch: BATCH, neurons: spikes.size / BATCH });
        },
      });
    });
    net.dispose();
    const fromSpikes = sahdScore(layers);
    expect(Number.isFinite(fromSpikes)).toBe(true);
    expect(fromBackend).toBeCloseTo(fromSpikes, 6);
    // 5 spiking edges per cell (2->0 feedback included, also at the last step) x 2 cells + 3 backbone LIFs
    expect(layers).toHaveLength(CONFIG.timesteps * (5 * 2 + 3));
  });

  it('averages the per-batch scores (batch k with its own Dropout seed) and separates networks', async () => {
    const arch = parseArch('0302 0030 3003 0000');
    const both = await scoreSahd(arch, CONFIG, [batch(1), batch(2)], BATCH, 9);
    const net = buildNetwork(arch, CONFIG, 9);
    const perBatch = [batch(1), batch(2)].map((images, k) =>
      sahdFromSums(sahdSumsOf(net, images, BATCH, sahdDropoutSeed(9, k))),
    );
    net.dispose();
    expect(both).toBeCloseTo(((perBatch[0] as number) + (perBatch[1] as number)) / 2, 9);
    const a = await scoreSahd(arch, CONFIG, [batch(1)], BATCH, 9);
    const other = await scoreSahd(parseArch('0100 0010 0001 0000'), CONFIG, [batch(1)], BATCH, 9);
    expect(other).not.toBeCloseTo(a, 3);
  });

  it('leaves no tensor behind over 200 candidates', async () => {
    const rng = new Rng(3);
    const archs: Arch[] = [];
    while (archs.length < 200) {
      const pruned = pruneArch(sampleArch(rng, [1, 2, 3, 4], 'backward'));
      if (pruned) archs.push(pruned);
    }
    const images = [batch(4)];
    await scoreSahd(archs[0] as Arch, CONFIG, images, BATCH, 0);
    const before = tf.memory().numTensors;
    const counts: number[] = [];
    for (const [k, arch] of archs.entries()) {
      await scoreSahd(arch, CONFIG, images, BATCH, k);
      if (k % 50 === 49) counts.push(tf.memory().numTensors);
    }
    expect(counts).toEqual(counts.map(() => before));
  });
});
