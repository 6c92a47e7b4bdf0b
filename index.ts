/** The spikenas library: the engine's pure functions and the runtime, for use from Node (ESM). */

export { openStore } from './artifacts/index.js';
export { RunArtifacts } from './artifacts/run.js';
export type { ArtifactStore } from './artifacts/store.types.js';
export { InfeasibleBudgetError, InputError } from './common/errors.js';
export { deriveSeed, Rng } from './common/rng.js';
export { formatSize, parseSize } from './common/size.js';
export type * from './common/work-context.js';
export { type Fleet, loadFleets, parseFleets } from './config/fleets.js';
export { validateSearchRequest } from './config/request.js';
export type { SearchRequest } from './contract/request.js';
export type { SearchSummary } from './contract/summary.js';
export { loadDataset, sampleBatches, splitTrainVal } from './datasets/index.js';
export type { DataSplit, Dataset, ImageSet } from './datasets/types.js';
export { runSearchLocally } from './pipeline/local.js';
export {
  logAbsDet,
  type SahdSums,
  type SpikeLayer,
  sahdFromSums,
  sahdKernel,
  sahdScore,
  scoreSahd,
} from './search/predictors/sahd.js';
export {
  canonicalizeArch,
  enumerateArchs,
  formatArch,
  parseArch,
  pruneArch,
  sampleArch,
  validateArch,
} from './search/space/arch.js';
export { countParams, estimateMemory, type MemoryEstimate } from './search/space/memory.js';
export type * from './search/strategy/enhance.js';
export type * from './search/strategy/impact-plan.js';
export { paretoFront } from './search/strategy/pareto.js';
export { PROFILES, resolveProfile } from './search/strategy/profiles.js';
export type * from './search/strategy/search-result.js';
export { type Arch, OP_NAMES, type OpCode } from './snn/cell-matrix.js';
export type { CellType, NetConfig } from './snn/config.js';
export {
  buildNetwork,
  evaluateNetwork,
  initBackend,
  PRESETS,
  quantizeWeights,
  resolvePreset,
  trainNetwork,
} from './snn/index.js';
