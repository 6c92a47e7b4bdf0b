import { describe, expect, it } from 'vitest';
import { InputError } from '../common/errors.js';
import { parseArch } from '../search/arch.js';
import { countParams, estimateMemory, parseWeightBits, spatialSizes } from '../search/memory.js';
import type { NetConfig } from '../snn/config.js';

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

describe('estimateMemory', () => {
  it('counts only the backbone for a parameter-free cell (skip or pool edges)', () => {
    const skip = estimateMemory(parseArch('0001 0000 0000 0000'), small, { weightBits: 32 });
    expect(skip).toEqual({
      params: BACKBONE,
      weightBytes: BACKBONE * 4,
      neurons: BACKBONE_NEURONS,
      stateBytes: BACKBONE_NEURONS * 4,
    });
    expect(countParams(parseArch('0144 0004 0000 0000'), small)).toBe(BACKBONE);
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
    expect(estimateMemory(arch, small, { weightBits: 16 }).weightBytes).toBe(BACKBONE * 2);
    expect(estimateMemory(arch, small, { weightBits: 8 }).weightBytes).toBe(BACKBONE);
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
  it('accepts 32, 16, 8, 4', () => {
    expect(parseWeightBits('32')).toBe(32);
    expect(parseWeightBits(' 4 ')).toBe(4);
  });
  it.each(['12', '', 'eight', '8.0.0', '-8'])('rejects %j naming field and widths', (text) => {
    try {
      parseWeightBits(text);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).field).toBe('weightBits');
      expect((error as InputError).allowed).toBe('32, 16, 8, 4');
    }
  });
});
