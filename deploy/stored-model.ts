/**
 * A run's stored model as the exports and `predict` read it: the cell matrix and network config from
 * weights/model.json, every named tensor from weights.bin, the precision the weights are stored at, and
 * the data the network was trained on (for its input normalisation). Tensors are read by their stored
 * names only, never through a built network, so the exports do not depend on how snn/ executes one.
 */
import type { io } from '@tensorflow/tfjs-core';
import { openStore } from '../artifacts/index.js';
import { RUN_FILES, RunArtifacts } from '../artifacts/run.js';
import { InputError } from '../common/errors.js';
import { channelStats, fingerprintRaw, loadRawDataset, type RawDataset } from '../datasets/index.js';
import type { Normalization } from '../datasets/types.js';
import { parseArch } from '../search/space/arch.js';
import type { Arch } from '../snn/cell-matrix.js';
import type { NetConfig } from '../snn/config.js';

export const RUN_ALLOWED =
  'a run folder (…/runs/<runId>), file://…/runs/<runId>, s3://bucket/prefix/runs/<runId>, or a workflow ID with --artifacts';

/** Where a run lives: its artifact store and run ID. */
export interface RunLocation {
  store: string;
  runId: string;
}

/**
 * `<run>` as the CLI takes it: a path or URI ending in runs/<runId> names the run itself; a bare name is a
 * workflow ID (a search's run ID is its workflow ID) in the store `artifacts`.
 */
export function resolveRunLocation(run: string, artifacts: string): RunLocation {
  const text = run.trim();
  if (text === '') throw new InputError('run', 'is empty', RUN_ALLOWED);
  const isLocation = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) || /[/\\]/.test(text) || text.startsWith('.');
  if (!isLocation) return { store: artifacts, runId: text };
  const match = /^(.*?)[/\\]?runs[/\\]([^/\\]+)[/\\]?$/.exec(text);
  if (!match) throw new InputError('run', `'${run}' does not end in runs/<runId>`, RUN_ALLOWED);
  const store = match[1] as string;
  return { store: store === '' ? '.' : store, runId: match[2] as string };
}

/** A stored tensor: row-major float32 values (the dequantized codes when the model is stored quantized). */
export interface StoredTensor {
  shape: number[];
  values: Float32Array;
}

export type StoredBits = 32 | 8 | 6 | 4;

/** The data a model was trained on, as its run recorded it. */
export interface TrainingData {
  dataset: string;
  seed: number;
  trainLimit?: number;
  testLimit?: number;
  fingerprint: string;
}

export interface StoredModel {
  /** The run's root URI. */
  source: string;
  arch: Arch;
  /** The matrix as stored (canonical form). */
  archText: string;
  config: NetConfig;
  /** Every tensor by its stored name: parameters and BatchNorm running statistics. */
  tensors: Map<string, StoredTensor>;
  /** Precision of the stored parameters: 32 (float) or the quantized width. */
  weightBits: StoredBits;
  /** Null for runs that did not record their dataset (then the caller names it). */
  training: TrainingData | null;
}

/** What this reads of winner.json: search runs (pipeline publish) and `spikenas train` both write it. */
interface WinnerFields {
  /** Set when the stored weights are quantized; null or absent when they are float32. */
  quantization?: { weightBits: number } | null;
  datasetFingerprint?: string;
  /** `spikenas train` runs: the dataset and seed it trained on. */
  dataset?: string;
  seed?: number;
}

/** What this reads of a search run's config.json (pipeline/run-context.ts). */
interface PlanFields {
  request: { dataset: string; seed: number };
  profile: { data: { trainLimit?: number; testLimit?: number } };
  dataset: { fingerprint: string };
}

/** Reads a run's stored model; the weights must be there (a finished search or `spikenas train`). */
export async function loadStoredModel(location: RunLocation): Promise<StoredModel> {
  const run = await openRun(location);
  if (!(await run.exists(RUN_FILES.modelJson))) {
    throw new InputError(
      'run',
      `${run.uriOf(RUN_FILES.modelJson)} does not exist: no stored model`,
      RUN_ALLOWED,
    );
  }
  const artifacts = await run.readWeights();
  const network = (artifacts.modelTopology as { spikenas?: { arch: string; config: NetConfig } }).spikenas;
  if (network === undefined) {
    throw new InputError('run', `${run.rootUri} holds a model spikenas did not write`, RUN_ALLOWED);
  }
  const tensors = decodeFloat32(artifacts, run.rootUri);
  const winner = (await run.exists(RUN_FILES.winner))
    ? await run.getJson<WinnerFields>(RUN_FILES.winner)
    : null;
  const plan = (await run.exists(RUN_FILES.config)) ? await run.getJson<PlanFields>(RUN_FILES.config) : null;
  const bits = winner?.quantization?.weightBits ?? 32;
  if (bits !== 32 && bits !== 8 && bits !== 6 && bits !== 4) {
    throw new InputError('run', `${run.rootUri} stores its weights at ${bits} bits`, '32, 8, 6, 4');
  }
  return {
    source: run.rootUri,
    arch: parseArch(network.arch, network.config.cellType),
    archText: network.arch,
    config: network.config,
    tensors,
    weightBits: bits,
    training: trainingDataOf(plan, winner),
  };
}

function trainingDataOf(plan: PlanFields | null, winner: WinnerFields | null): TrainingData | null {
  if (plan !== null) {
    const { trainLimit, testLimit } = plan.profile.data;
    return {
      dataset: plan.request.dataset,
      seed: plan.request.seed,
      ...(trainLimit ? { trainLimit } : {}),
      ...(testLimit ? { testLimit } : {}),
      fingerprint: plan.dataset.fingerprint,
    };
  }
  if (winner?.dataset === undefined || winner.datasetFingerprint === undefined) return null;
  return { dataset: winner.dataset, seed: winner.seed ?? 0, fingerprint: winner.datasetFingerprint };
}

/** The stored tensor `name`; an error naming the run when the model lacks it. */
export function storedTensor(model: StoredModel, name: string): StoredTensor {
  const tensor = model.tensors.get(name);
  if (tensor === undefined) throw new InputError('run', `${model.source} has no tensor ${name}`, RUN_ALLOWED);
  return tensor;
}

/**
 * The per-channel normalisation the model was trained with: the statistics of its run's training images
 * (a search's profile may train on the first N only). `dataset` names the data when the run did not
 * record it. The data read must be the data the run fingerprinted.
 */
export async function trainingNormalization(model: StoredModel, dataset?: string): Promise<Normalization> {
  const training = model.training;
  if (training === null) {
    if (dataset === undefined) {
      throw new InputError(
        'dataset',
        `${model.source} does not record its training data`,
        'the dataset it trained on',
      );
    }
    const raw = await loadRawDataset(dataset);
    return channelStats(raw.train.pixels, raw.inputShape[2]);
  }
  const raw: RawDataset = await loadRawDataset(training.dataset, {
    seed: training.seed,
    limit: {
      ...(training.trainLimit ? { train: training.trainLimit } : {}),
      ...(training.testLimit ? { test: training.testLimit } : {}),
    },
  });
  if (fingerprintRaw(raw) !== training.fingerprint) {
    throw new InputError(
      'dataset',
      `${training.dataset} read here is not the data ${model.source} was trained on (fingerprint differs)`,
      'the same dataset files',
    );
  }
  return channelStats(raw.train.pixels, raw.inputShape[2]);
}

/**
 * The tensors of tfjs weight data, read without a tfjs backend. spikenas writes float32 tensors only
 * (tf.io.encodeWeights, concatenated in spec order, no tfjs weight quantization).
 */
function decodeFloat32(artifacts: io.ModelArtifacts, source: string): Map<string, StoredTensor> {
  const data = artifacts.weightData as ArrayBuffer;
  const tensors = new Map<string, StoredTensor>();
  let offset = 0;
  for (const spec of artifacts.weightSpecs ?? []) {
    if (spec.dtype !== 'float32' || spec.quantization !== undefined) {
      throw new InputError(
        'run',
        `${source}: tensor ${spec.name} is ${spec.dtype}, not plain float32`,
        RUN_ALLOWED,
      );
    }
    const size = spec.shape.reduce((a, b) => a * b, 1);
    if (offset + size * 4 > data.byteLength) {
      throw new InputError('run', `${source}: weights.bin is shorter than its manifest`, RUN_ALLOWED);
    }
    tensors.set(spec.name, {
      shape: [...spec.shape],
      values: new Float32Array(data.slice(offset, offset + size * 4)),
    });
    offset += size * 4;
  }
  return tensors;
}

async function openRun(location: RunLocation): Promise<RunArtifacts> {
  try {
    return new RunArtifacts(await openStore(location.store), location.runId);
  } catch (error) {
    if (error instanceof InputError) throw new InputError('run', error.message, RUN_ALLOWED);
    throw error;
  }
}
