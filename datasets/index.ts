export { CIFAR10, CIFAR100, decodeCifar } from './cifar.js';
export { parseIdx } from './idx.js';
export {
  DATASET_ALLOWED,
  DATASET_NAMES,
  type DatasetName,
  type LoadOptions,
  loadDataset,
  loadRawDataset,
} from './load.js';
export {
  channelStats,
  fingerprintRaw,
  normalizationTables,
  normalizeImages,
  prepareDataset,
  type RawDataset,
} from './prepare.js';
export type { RawImages } from './raw.js';
export { sampleBatches, splitTrainVal, trainOnTrainAndVal } from './split.js';
export { generateSynthetic, SYNTHETIC_DEFAULTS, type SyntheticOptions } from './synthetic.js';
export type * from './types.js';
