import type { NetConfig } from '../../snn/config.js';

/** A network small enough that stage tests on the real runtime take seconds (16x16 synthetic images). */
export const TINY_CONFIG: NetConfig = {
  inputShape: [16, 16, 1],
  numClasses: 10,
  stemChannels: 2,
  stemStride: 2,
  secondPool: 2,
  classifierHidden: 8,
  populationSize: 1,
  timesteps: 2,
  cellType: 'forward',
};
