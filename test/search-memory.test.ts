import { describe, expect, it } from 'vitest';
import { InputError } from '../common/errors.js';
import { validateSearchRequest } from '../config/request.js';
import { parseArch } from '../search/space/arch.js';
import {
  countParams,
  estimateMemory,
  parseWeightBits,
  parseWeightBitsSet,
  spatialSizes,
} from '../search/space/memory.js';
import type { NetConfig } from '../snn/config.js';
import { resolvePreset } from '../snn/presets.js';

// 8x8x1 input, C = 2, stride 1: cell 1 at 8x8x2, cell 2 at 4x4x4, head pool 2 -> 2x2x4 = 16 features.
const small: NetConfig = {
  inputShape: [8, 8, 1],
  numClasses: 2,
  stemChannels: 2,
  stemStride: 1,
  secondPool: 2,
  classifierHidden: 3,
  populationSize: 2,
  timesteps: 2,
  cellType: 'forward',
};
// stem 9*1*2 + BN 2*2 = 22; down BN 4 + conv 9*2*4 = 72 + BN 8 = 84;
// head BN 8 + linear 16*3 = 48 + linear 3*(2*2) + bias 4 = 16 -> 72. Backbone without cell ops: 178.
const BACKBONE = 22 + 84 + 72;
// LIFs: down 2*8*8 = 128, head 4*4*4 = 64, hidden 3.
const BACKBONE_NEURONS = 128 + 64 + 3;

describe('spatialSizes', () => {
  it('follows conv3x3 padding 1 stride s, then floor pools', () => {
    expect(spatialSizes(small)).toEqual({ cell1: [8, 8], cell2: [4, 4], head: [2, 2] });
    // 7x5 input, stride 2: floor(6/2)+1 = 4, floor(4/2)+1 = 3; then 2x1; pool 1 keeps 2x1.
    expect(spatialSizes({ ...small, inputShape: [7, 5, 1], stemStride: 2, secondPool: 1 })).toEqual({
      cell1: [4, 3],
      cell2: [2, 1],
      head: [2, 1],
    });
  });
});

describe('SNASNet presets', () => {
  // model_snn.py: C = first_out_channel 128 x channel_ratio (2 for cifar10, 1 for cifar100), stride 1,
  // cell 2 on 2C at 16x16, the head pools to 8x8, classifier_inter_ch 1024, num_final_neuron 100 / 500.
  // A skip-only cell adds nothing, so this is the backbone: stem 27C + BN 2C; down BN 2C + 9*C*2C +
  // BN 4C; head BN 4C; fc1 (2C*8*8) x 1024; fc2 1024 x outputs + outputs.
  const backbone = (c: number, outputs: number) =>
    27 * c + 2 * c + 2 * c + 18 * c * c + 4 * c + 4 * c + 2 * c * 64 * 1024 + 1024 * outputs + outputs;
  const skipCell = parseArch('0001 0000 0000 0000');

  it("snasnet-cifar10 is SNASNet's CIFAR-10 network: 256 channels, cell 2 on 512, 512 x 8 x 8 features", () => {
    const config = resolvePreset('snasnet-cifar10');
    expect(config.stemChannels).toBe(256);
    expect(spatialSizes(config)).toEqual({ cell1: [32, 32], cell2: [16, 16], head: [8, 8] });
    expect(countParams(skipCell, config)).toBe(backbone(256, 100));
    // SNASNet's published cell 0303 0030 2002 0200 adds conv3x3 0->1, 1->2, 0->3 and conv1x1 2->3 and
    // the feedback 2->0, 3->1, each on C and on 2C: 9 c^2 + 2c and c^2 + 2c.
    const cellOps = (c: number) => 3 * (9 * c * c + 2 * c) + 3 * (c * c + 2 * c);
    expect(countParams(parseArch('0303 0030 2002 0200'), config)).toBe(
      backbone(256, 100) + cellOps(256) + cellOps(512),
    );
  });

  it('snasnet-cifar100 keeps channel_ratio 1: 128 channels', () => {
    const config = resolvePreset('snasnet-cifar100');
    expect(config.stemChannels).toBe(128);
    expect(countParams(skipCell, config)).toBe(backbone(128, 500));
  });
});

describe('estimateMemory', () => {
  it('counts only the backbone for a parameter-free cell (skip or pool edges)', () => {
    const skip = estimateMemory(parseArch('0001 0000 0000 0000'), small, { weightBits: 32 });
    expect(skip).toEqual({
      params: BACKBONE,
      weightBytes: BACKBONE * 4,
      storedBytes: BACKBONE * 4,
      neurons: BACKBONE_NEURONS,
      stateBytes: BACKBONE_NEURONS * 4,
    });
    expect(countParams(parseArch('0144 0004 0000 0000'), small)).toBe(BACKBONE);
  });

  it('stores quantized weights as codes per tensor plus a float32 scale per output channel', () => {
    const arch = parseArch('0001 0000 0000 0000');
    // Scales: stem conv 2, its BN 1 + 1, down BN 1 + 1, down conv 4, its BN 1 + 1, head BN 1 + 1,
    // linear 3, linear 4, bias 1: 22 x 4 B = 88.
    expect(estimateMemory(arch, small, { weightBits: 8 }).storedBytes).toBe(BACKBONE + 88);
    // 4-bit codes round up per tensor: 9 + 1 + 1 + 1 + 1 + 36 + 2 + 2 + 2 + 2 + 24 + 6 + 2 = 89.
    expect(estimateMemory(arch, small, { weightBits: 4 }).storedBytes).toBe(89 + 88);
  });

  it('adds conv edges on C and 2C channels with one LIF each', () => {
    // conv3x3: cell 1 9*2*2 + BN 4 = 40; cell 2 9*4*4 + BN 8 = 152. LIFs 2*8*8 = 128 and 4*4*4 = 64.
    const conv3 = estimateMemory(parseArch('0003 0000 0000 0000'), small, { weightBits: 32 });
    expect(conv3.params).toBe(BACKBONE + 40 + 152);
    expect(conv3.neurons).toBe(BACKBONE_NEURONS + 128 + 64);
    // conv1x1: 2*2 + 4 = 8 and 4*4 + 8 = 24.
    expect(countParams(parseArch('0002 0000 0000 0000'), small)).toBe(BACKBONE + 8 + 24);
    // Two conv edges (0->1 conv1x1, 1->3 conv3x3) and a skip 0->3.
    expect(countParams(parseArch('0201 0003 0000 0000'), small)).toBe(BACKBONE + 8 + 24 + 40 + 152);
    // 0->1 conv1x1, 1->2 conv3x3, 2->3 skip, 0->3 skip, and a feedback conv1x1 3->1.
    const withFeedback = estimateMemory(parseArch('0201 0030 0001 0200'), small, { weightBits: 32 });
    expect(withFeedback.params).toBe(BACKBONE + 2 * (8 + 24) + 40 + 152);
    expect(withFeedback.neurons).toBe(BACKBONE_NEURONS + 3 * (128 + 64));
  });

  it('scales weight bytes with the width (rounded up) and state bytes with stateBits', () => {
    const arch = parseArch('0001 0000 0000 0000');
    expect(estimateMemory(arch, small, { weightBits: 8 }).weightBytes).toBe(BACKBONE);
    expect(estimateMemory(arch, small, { weightBits: 6 }).weightBytes).toBe(Math.ceil((BACKBONE * 6) / 8));
    expect(estimateMemory(arch, small, { weightBits: 4 }).weightBytes).toBe(BACKBONE / 2);
    // Odd counts round up. One output, hidden 4: 22 + 84 + BN 8 + 16*4 + (4*1 + 1) = 183 -> 91.5 -> 92.
    const odd = { ...small, numClasses: 1, populationSize: 1, classifierHidden: 4 };
    const oddParams = countParams(arch, odd);
    expect(oddParams).toBe(183);
    expect(estimateMemory(arch, odd, { weightBits: 4 }).weightBytes).toBe((oddParams + 1) / 2);
    expect(estimateMemory(arch, small, { weightBits: 32, stateBits: 16 }).stateBytes).toBe(
      BACKBONE_NEURONS * 2,
    );
  });

  it('rejects other weight widths', () => {
    expect(() => estimateMemory(parseArch('0001 0000 0000 0000'), small, { weightBits: 12 })).toThrow(
      InputError,
    );
  });
});

describe('parseWeightBits', () => {
  it('accepts 32, 8, 6, 4', () => {
    expect(parseWeightBits('32')).toBe(32);
    expect(parseWeightBits(' 4 ')).toBe(4);
    expect(parseWeightBits('6')).toBe(6);
  });
  it.each(['12', '16', '', 'eight', '8.0.0', '-8'])('rejects %j naming field and widths', (text) => {
    try {
      parseWeightBits(text);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).field).toBe('weightBits');
      expect((error as InputError).allowed).toBe('32, 8, 6, 4');
    }
  });
  it('parses a set of widths widest first, each once, and refuses a bad member', () => {
    expect(parseWeightBitsSet('4,8,6')).toEqual([8, 6, 4]);
    expect(parseWeightBitsSet('8, 8')).toEqual([8]);
    expect(() => parseWeightBitsSet('8,5')).toThrow(/^weightBits: '5'/);
  });
  it('is a set in a request: the default 8, 6, 4; one width fixes it; a bad one names the field', () => {
    const base = {
      dataset: 'synthetic',
      budget: '64KiB',
      mode: 'spikenas',
      profile: 'quick',
      seed: 1,
      shards: 1,
      artifacts: '/tmp/x',
    };
    expect(validateSearchRequest(base).weightBits).toEqual([8, 6, 4]);
    expect(validateSearchRequest({ ...base, weightBits: 4 }).weightBits).toEqual([4]);
    expect(validateSearchRequest({ ...base, weightBits: [4, 32, 6] }).weightBits).toEqual([32, 6, 4]);
    for (const weightBits of [16, [8, 5], []]) {
      try {
        validateSearchRequest({ ...base, weightBits });
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(InputError);
        expect((error as InputError).field).toMatch(/^weightBits/);
        expect((error as InputError).allowed).toContain('32, 8, 6, 4');
      }
    }
  });
});
