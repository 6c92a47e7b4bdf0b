/**
 * The network configuration: what, besides the cell matrix, fixes an SNASNet-style SNN.
 * Field names are part of the public API (config files, `inspect --config`), keep them.
 */
export type CellType = 'forward' | 'backward';

export interface NetConfig {
  /** [height, width, channels] of one input image. */
  inputShape: [number, number, number];
  numClasses: number;
  /** C: channels of cell 1; cell 2 runs on 2C. */
  stemChannels: number;
  stemStride: number;
  /** p: the head's average pool is p x p (stride p). */
  secondPool: number;
  classifierHidden: number;
  /** Output neurons per class (population voting). */
  populationSize: number;
  /** T: timesteps of direct encoding. */
  timesteps: number;
  cellType: CellType;
}
