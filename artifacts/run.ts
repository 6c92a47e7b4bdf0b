import type { io } from '@tensorflow/tfjs-core';
import { InputError } from '../common/errors.js';
import {
  ArtifactIntegrityError,
  checkBytes,
  checkPlainName,
  checkRunId,
  DigestedArea,
  type ObjectDigest,
} from './digest.js';
import { ArtifactNotFoundError, type ArtifactStore } from './store.types.js';

/** The fixed object names of a run, relative to runs/<runId>/. */
export const RUN_FILES = {
  config: 'config.json',
  candidates: 'candidates.jsonl',
  winner: 'winner.json',
  modelJson: 'weights/model.json',
  weightsBin: 'weights/weights.bin',
  report: 'report.md',
  pareto: 'pareto.svg',
  manifest: 'manifest.json',
} as const;

export function stageFile(stage: string): string {
  checkPlainName('stage', stage);
  return `stages/${stage}.json`;
}

export interface RunManifest {
  runId: string;
  publishedAt: string;
  /** Every object of the run but the manifest itself, sorted by name. */
  objects: ObjectDigest[];
}

export interface RunOptions {
  /** Where skipped (corrupt or missing) checkpoints are reported. Default console.warn. */
  warn?: (message: string) => void;
}

/** Checkpoint sequence numbers are zero-padded so that listing order is numeric order. */
const SEQ_DIGITS = 8;

/**
 * One run's artifacts under runs/<runId>/ of any store. Every object gets a SHA-256 sidecar as it is
 * written (so parallel writers of different objects never contend), reads verify it, and publish()
 * collects the sidecars into manifest.json, written last.
 */
export class RunArtifacts {
  readonly area: DigestedArea;
  private readonly warn: (message: string) => void;

  constructor(
    readonly store: ArtifactStore,
    readonly runId: string,
    options: RunOptions = {},
  ) {
    checkRunId(runId);
    this.area = new DigestedArea(store, `runs/${runId}/`);
    this.warn = options.warn ?? ((message) => console.warn(message));
  }

  async put(name: string, body: Uint8Array | string | AsyncIterable<Uint8Array>): Promise<ObjectDigest> {
    this.checkNotManifest(name);
    return this.area.put(name, body);
  }

  async putJson(name: string, value: unknown): Promise<ObjectDigest> {
    this.checkNotManifest(name);
    return this.area.putJson(name, value);
  }

  /** Writes rows as JSON lines, streamed: a large candidate log is never held as one string. */
  async putJsonLines(name: string, rows: Iterable<unknown> | AsyncIterable<unknown>): Promise<ObjectDigest> {
    this.checkNotManifest(name);
    return this.area.put(name, jsonLines(rows));
  }

  get(name: string): Promise<Uint8Array> {
    return this.area.get(name);
  }

  getJson<T>(name: string): Promise<T> {
    return this.area.getJson<T>(name);
  }

  async getJsonLines<T>(name: string): Promise<T[]> {
    const text = new TextDecoder().decode(await this.area.get(name));
    return text
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as T);
  }

  exists(name: string): Promise<boolean> {
    return this.area.exists(name);
  }

  uriOf(name: string): string {
    return this.area.uriOf(name);
  }

  /** The run's root URI (a folder or prefix, ending in '/'), for links and summaries. */
  get rootUri(): string {
    return `${this.store.uriOf(`runs/${this.runId}`)}/`;
  }

  /** Stores a model in tfjs format: weights/model.json (topology + weights manifest) and weights/weights.bin. */
  async writeWeights(artifacts: io.ModelArtifacts): Promise<void> {
    if (artifacts.modelTopology instanceof ArrayBuffer) {
      throw new InputError(
        'modelTopology',
        'binary (protobuf) topologies are not stored',
        'a JSON topology object',
      );
    }
    const data = concatWeightData(artifacts.weightData);
    await this.area.put(RUN_FILES.weightsBin, data);
    const modelJson: io.ModelJSON = {
      modelTopology: artifacts.modelTopology ?? {},
      weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
      ...(artifacts.format === undefined ? {} : { format: artifacts.format }),
      ...(artifacts.generatedBy === undefined ? {} : { generatedBy: artifacts.generatedBy }),
      ...(artifacts.userDefinedMetadata === undefined
        ? {}
        : { userDefinedMetadata: artifacts.userDefinedMetadata }),
    };
    await this.area.putJson(RUN_FILES.modelJson, modelJson);
  }

  async readWeights(): Promise<io.ModelArtifacts> {
    const modelJson = await this.area.getJson<io.ModelJSON>(RUN_FILES.modelJson);
    const data = await this.area.get(RUN_FILES.weightsBin);
    const weightData = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
    return {
      modelTopology: modelJson.modelTopology,
      weightSpecs: modelJson.weightsManifest.flatMap((group) => group.weights),
      weightData,
      ...(modelJson.format === undefined ? {} : { format: modelJson.format }),
      ...(modelJson.generatedBy === undefined ? {} : { generatedBy: modelJson.generatedBy }),
      ...(modelJson.userDefinedMetadata === undefined
        ? {}
        : { userDefinedMetadata: modelJson.userDefinedMetadata }),
    };
  }

  /** A tfjs IOHandler over this run's weights, for `model.save(handler)` / `tf.loadLayersModel(handler)`. */
  weightsHandler(): io.IOHandler {
    return {
      save: async (artifacts) => {
        await this.writeWeights(artifacts);
        return {
          modelArtifactsInfo: {
            dateSaved: new Date(),
            modelTopologyType: 'JSON',
            weightDataBytes: concatWeightData(artifacts.weightData).byteLength,
          },
        };
      },
      load: () => this.readWeights(),
    };
  }

  /**
   * Writes a checkpoint as a new object, checkpoints/<name>/<seq>.json, one past the highest existing
   * sequence number; never overwrites or deletes an earlier one. Returns the sequence number.
   */
  async writeCheckpoint(name: string, data: unknown): Promise<number> {
    checkPlainName('checkpoint', name);
    let seq = (await this.checkpointSeqs(name))[0] ?? 0;
    do seq++;
    while (await this.area.exists(checkpointFile(name, seq)));
    await this.area.putJson(checkpointFile(name, seq), data);
    return seq;
  }

  /**
   * The newest checkpoint whose digest verifies. A newest one that is corrupt, truncated, missing or
   * without a digest is skipped with a warning and the one before it is tried; undefined when none is good.
   */
  async readCheckpoint<T>(name: string): Promise<{ seq: number; data: T } | undefined> {
    checkPlainName('checkpoint', name);
    for (const seq of await this.checkpointSeqs(name)) {
      const file = checkpointFile(name, seq);
      try {
        return { seq, data: await this.area.getJson<T>(file) };
      } catch (error) {
        if (!(error instanceof ArtifactIntegrityError || error instanceof ArtifactNotFoundError)) throw error;
        this.warn(`checkpoint ${name} #${seq} skipped: ${error.message}`);
      }
    }
    return undefined;
  }

  /**
   * Writes manifest.json listing every object with its size and SHA-256, after checking each object
   * against its sidecar: a run whose objects do not verify is not published.
   */
  async publish(): Promise<RunManifest> {
    const names = (await this.area.namesWithDigest()).filter((name) => name !== RUN_FILES.manifest);
    const objects: ObjectDigest[] = [];
    for (const name of names) {
      const record = await this.area.digestOf(name);
      await this.area.get(name);
      objects.push(record);
    }
    const manifest: RunManifest = { runId: this.runId, publishedAt: new Date().toISOString(), objects };
    await this.area.putJson(RUN_FILES.manifest, manifest);
    return manifest;
  }

  /**
   * Checks every object the manifest lists against the manifest (not the sidecars, which a later writer
   * could have changed). Throws one ArtifactIntegrityError naming every problem.
   */
  async verify(): Promise<RunManifest> {
    const manifest = await this.area.getJson<RunManifest>(RUN_FILES.manifest);
    const problems: string[] = [];
    for (const record of manifest.objects) {
      try {
        checkBytes(
          await this.area.store.get(this.area.prefix + record.name),
          record,
          this.uriOf(record.name),
        );
      } catch (error) {
        if (!(error instanceof ArtifactIntegrityError || error instanceof ArtifactNotFoundError)) throw error;
        problems.push(error.message);
      }
    }
    if (problems.length > 0) {
      throw new ArtifactIntegrityError(
        this.uriOf(RUN_FILES.manifest),
        `${problems.length} object(s) failed: ${problems.join('; ')}`,
      );
    }
    return manifest;
  }

  /** Sequence numbers of a checkpoint's objects or digest records (either may be missing), newest first. */
  private async checkpointSeqs(name: string): Promise<number[]> {
    const under = `checkpoints/${name}/`;
    const names = [...(await this.area.names(under)), ...(await this.area.namesWithDigest(under))];
    const seqs = new Set<number>();
    for (const file of names) {
      const match = /^checkpoints\/[^/]+\/(\d+)\.json$/.exec(file);
      if (match) seqs.add(Number(match[1]));
    }
    return [...seqs].sort((a, b) => b - a);
  }

  private checkNotManifest(name: string): void {
    if (name === RUN_FILES.manifest) {
      throw new InputError('name', `'${name}' is written by publish() only`, 'any other object name');
    }
  }
}

function checkpointFile(name: string, seq: number): string {
  return `checkpoints/${name}/${String(seq).padStart(SEQ_DIGITS, '0')}.json`;
}

function concatWeightData(weightData: io.WeightData | undefined): Uint8Array {
  if (weightData === undefined) return new Uint8Array(0);
  const buffers = Array.isArray(weightData) ? weightData : [weightData];
  const out = new Uint8Array(buffers.reduce((total, buffer) => total + buffer.byteLength, 0));
  let offset = 0;
  for (const buffer of buffers) {
    out.set(new Uint8Array(buffer), offset);
    offset += buffer.byteLength;
  }
  return out;
}

async function* jsonLines(rows: Iterable<unknown> | AsyncIterable<unknown>): AsyncGenerator<Uint8Array> {
  const encoder = new TextEncoder();
  const batch: string[] = [];
  for await (const row of rows) {
    batch.push(`${JSON.stringify(row)}\n`);
    // Write in chunks of rows: one syscall per row would be slow, one string for all rows too big.
    if (batch.length >= 1000) yield encoder.encode(batch.splice(0).join(''));
  }
  if (batch.length > 0) yield encoder.encode(batch.join(''));
}
