/**
 * Candidate generation, pure and seeded. spikenas mode: the enhanced space, canonicalised, deduplicated,
 * and filtered by the memory budget from the matrix alone, before any tensor exists. A candidate is a cell
 * and the width its weights are stored at: the widest of the request's widths at which the cell fits.
 * A narrower width for the same cell is dominated, so it is not listed: it has the same SAHD score and, per
 * the precision study (bench/results/qat-precision-*.json), costs no fewer points after quantization-aware
 * training. The narrower widths matter for the larger cells that fit only at them. snasnet mode: the
 * baseline as SNASNet runs it (random 5-op matrices redrawn until valid, duplicates kept and scored again,
 * no memory awareness).
 */

import { InfeasibleBudgetError, InputError } from '../../common/errors.js';
import { deriveSeed, Rng } from '../../common/rng.js';
import { formatSize } from '../../common/size.js';
import type { Arch, OpCode } from '../../snn/cell-matrix.js';
import type { NetConfig } from '../../snn/config.js';
import {
  canonicalizeArch,
  enumerateArchs,
  normalizeOps,
  parseArch,
  pruneArch,
  sampleArch,
  spaceSize,
} from './arch.js';
import { deployRamBytes } from './deploy-memory.js';
import { estimateMemory, type MemoryEstimate, type WeightBits } from './memory.js';

/** Spaces up to this many raw matrices are enumerated completely instead of sampled. */
export const ENUMERATION_LIMIT = 20_000;
/** Sampling gives up after limit x this many draws (a small or tight space may never fill the quota). */
const DRAWS_PER_SLOT = 50;
const SNASNET_OPS: OpCode[] = [1, 2, 3, 4];

export interface CandidateRequest {
  mode: 'spikenas' | 'snasnet';
  ops: OpCode[];
  cellType: NetConfig['cellType'];
  config: NetConfig;
  /** Weight-memory budget in bytes; null = no budget (snasnet mode ignores it anyway). */
  budgetBytes: number | null;
  /** RAM budget (membranes and activation buffers of one image, search/space/deploy-memory.ts); null or absent = none. */
  ramBudgetBytes?: number | null;
  /** Widths the weights may be stored at, widest first (search/space/memory.ts normalizeWeightBits). */
  weightBits: readonly WeightBits[];
  /** spikenas: at most this many candidates; snasnet: exactly this many draws. */
  limit: number;
}

export interface Candidate extends MemoryEstimate {
  /** Canonical matrix string. */
  arch: string;
  /** The width the memory is measured at: the widest that fits the budget, the narrowest when none does. */
  weightBits: WeightBits;
  /** RAM of the deployed network for one image (search/space/deploy-memory.ts), what the C export's .bss measures. */
  ramBytes: number;
}

export interface CandidateCounters {
  generated: number;
  invalid: number;
  duplicate: number;
  /** Over the weight budget or, when one is set, the RAM budget. */
  overBudget: number;
}

export interface CandidateSet {
  candidates: Candidate[];
  counters: CandidateCounters;
  /** 'enumerated' when the whole space was walked, 'sampled' otherwise. */
  method: 'enumerated' | 'sampled';
}

export function generateCandidates(request: CandidateRequest, seed: number): CandidateSet {
  if (!Number.isInteger(request.limit) || request.limit < 1) {
    throw new InputError('limit', `${request.limit} is not a candidate count`, 'an integer >= 1');
  }
  return request.mode === 'snasnet' ? snasnetCandidates(request, seed) : spikenasCandidates(request, seed);
}

function spikenasCandidates(request: CandidateRequest, seed: number): CandidateSet {
  const ops = normalizeOps(request.ops);
  const counters: CandidateCounters = { generated: 0, invalid: 0, duplicate: 0, overBudget: 0 };
  const seen = new Set<string>();
  const admitted: Candidate[] = [];
  let smallest: Candidate | undefined;
  const consider = (raw: Arch) => {
    counters.generated++;
    if (pruneArch(raw) === null) {
      counters.invalid++;
      return;
    }
    const arch = canonicalizeArch(raw);
    if (seen.has(arch)) {
      counters.duplicate++;
      return;
    }
    seen.add(arch);
    const candidate = measure(arch, request);
    if (smallest === undefined || candidate.storedBytes < smallest.storedBytes) smallest = candidate;
    // The budget holds the weights as stored at the search's width (codes and their scales).
    if (request.budgetBytes !== null && candidate.storedBytes > request.budgetBytes) {
      counters.overBudget++;
      return;
    }
    if (request.ramBudgetBytes != null && candidate.ramBytes > request.ramBudgetBytes) {
      counters.overBudget++;
      return;
    }
    admitted.push(candidate);
  };

  const enumerate = spaceSize(ops, request.cellType) <= ENUMERATION_LIMIT;
  const rng = new Rng(deriveSeed(seed, 'candidates/spikenas'));
  if (enumerate) {
    for (const raw of enumerateArchs(ops, request.cellType)) consider(raw);
  } else {
    const maxDraws = request.limit * DRAWS_PER_SLOT;
    while (admitted.length < request.limit && counters.generated < maxDraws) {
      consider(sampleArch(rng, ops, request.cellType));
    }
  }
  if (admitted.length === 0) throw infeasible(request, smallest);

  // Enumeration may admit more than the limit: a seeded subset, so the cap does not favour any region.
  const chosen = admitted.length > request.limit ? rng.shuffle(admitted).slice(0, request.limit) : admitted;
  chosen.sort((a, b) => (a.arch < b.arch ? -1 : a.arch > b.arch ? 1 : 0));
  return { candidates: chosen, counters, method: enumerate ? 'enumerated' : 'sampled' };
}

/**
 * SNASNet's loop: draw a 5-op matrix, redraw while invalid (counted), take it even when it repeats an
 * earlier draw (counted as duplicate but kept, as SNASNet scores it again), `limit` times.
 */
function snasnetCandidates(request: CandidateRequest, seed: number): CandidateSet {
  const counters: CandidateCounters = { generated: 0, invalid: 0, duplicate: 0, overBudget: 0 };
  const rng = new Rng(deriveSeed(seed, 'candidates/snasnet'));
  const seen = new Set<string>();
  const candidates: Candidate[] = [];
  while (candidates.length < request.limit) {
    const raw = sampleArch(rng, SNASNET_OPS, request.cellType);
    counters.generated++;
    if (pruneArch(raw) === null) {
      counters.invalid++;
      continue;
    }
    const arch = canonicalizeArch(raw);
    if (seen.has(arch)) counters.duplicate++;
    seen.add(arch);
    candidates.push(measure(arch, request));
  }
  return { candidates, counters, method: 'sampled' };
}

function measure(arch: string, request: CandidateRequest): Candidate {
  return measureCandidate(arch, request.config, request.cellType, request.weightBits, request.budgetBytes);
}

/**
 * A canonical matrix's memory at the widest of `widths` whose stored weights fit `budgetBytes` (the
 * narrowest when none fits, the widest without a budget), and the deployed network's RAM.
 */
export function measureCandidate(
  arch: string,
  config: NetConfig,
  cellType: NetConfig['cellType'],
  widths: readonly WeightBits[],
  budgetBytes: number | null,
): Candidate {
  const parsed = parseArch(arch, cellType);
  // The RAM does not depend on the width.
  const ramBytes = deployRamBytes(parsed, config);
  let measured: Candidate | undefined;
  for (const weightBits of widths) {
    const memory = estimateMemory(parsed, config, { weightBits });
    measured = { arch, weightBits, ...memory, ramBytes };
    if (budgetBytes === null || memory.storedBytes <= budgetBytes) return measured;
  }
  if (measured === undefined) throw new InputError('weightBits', 'names no width', '32, 8, 6, 4');
  return measured;
}

function infeasible(request: CandidateRequest, smallest: Candidate | undefined): InfeasibleBudgetError {
  const budget = request.budgetBytes ?? 0;
  const detail =
    smallest === undefined
      ? 'no valid candidate was generated'
      : `the smallest candidate (${smallest.arch}) needs ${smallest.storedBytes} bytes ` +
        `(${formatSize(smallest.storedBytes)}) at ${smallest.weightBits}-bit weights, as stored`;
  const ram =
    request.ramBudgetBytes == null
      ? ''
      : ` and RAM budget ${request.ramBudgetBytes} bytes (${formatSize(request.ramBudgetBytes)})`;
  return new InfeasibleBudgetError(
    `budget ${budget} bytes (${formatSize(budget)})${ram} admits no candidate of the searched space: ${detail}`,
  );
}
