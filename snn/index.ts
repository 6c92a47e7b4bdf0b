export { BACKEND_CHOICES, type BackendInfo, backendInfo, describeBackend, initBackend } from './backend.js';
export { assertBatchFits } from './batch-fit.js';
export { archText, Cell } from './cell.js';
export { type Arch, CELL_NODES, OP_NAMES, type OpCode } from './cell-matrix.js';
export type { CellType, NetConfig } from './config.js';
export { type Evaluation, evaluateNetwork, type SpikeRate } from './evaluate.js';
export {
  conv2dBackpropFilterViaConv,
  conv2dBackpropInputViaConv,
  registerConvGradKernels,
} from './kernels/conv-grad.js';
export { nativeOpsAvailable, spikeGram } from './kernels/native-ops.js';
export {
  atanSurrogateGrad,
  LIF_TAU,
  LIF_THRESHOLD,
  LifNeuron,
  type SpikeObserver,
  SURROGATE_ALPHA,
  spikeOf,
} from './lif.js';
export {
  type BackboneShape,
  backboneShape,
  buildNetwork,
  type ForwardOptions,
  type SpikingNetwork,
  validateConfig,
} from './network.js';
export { PRESETS, resolvePreset } from './presets.js';
export {
  fakeQuantize,
  isRunningStatistic,
  QUANT_BITS,
  type QuantBits,
  type QuantizedValues,
  type QuantizedWeights,
  quantizeSymmetric,
  quantizeWeights,
} from './quantize.js';
export {
  type QuantizeAware,
  type TrainContext,
  type TrainOptions,
  type TrainResult,
  type TrainResume,
  trainForValidation,
  trainNetwork,
} from './train.js';
export { deserializeWeights, type SerializedWeights, serializeWeights } from './weights.js';
