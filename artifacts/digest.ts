import { createHash, type Hash } from 'node:crypto';
import { InputError } from '../common/errors.js';
import { checkKey } from './local-store.js';
import type { ArtifactStore } from './store.types.js';

/** Where the per-object digest sidecars live inside an area. */
const DIGESTS = '.digests/';
const SIDECAR_SUFFIX = '.sha256';

/** One object's integrity record; `name` is relative to its area (e.g. 'stages/operation-impact.json'). */
export interface ObjectDigest {
  name: string;
  size: number;
  sha256: string;
}

/** An object's bytes do not match its recorded digest, or no digest was recorded for it. */
export class ArtifactIntegrityError extends Error {
  constructor(
    readonly uri: string,
    readonly problem: string,
  ) {
    super(`artifact failed verification: ${uri}: ${problem}`);
    this.name = 'ArtifactIntegrityError';
  }
}

const PLAIN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Stage, checkpoint and cache names: one path segment of safe characters. */
export function checkPlainName(field: string, value: string): void {
  if (!PLAIN_NAME.test(value)) {
    throw new InputError(
      field,
      `'${value}' is not a valid name`,
      'letters, digits, ".", "_" and "-", starting with a letter or digit',
    );
  }
}

// Run IDs are workflow IDs, and a schedule's end in the scheduled time: spikenas-x-nightly-2026-03-04T02:00:00Z.
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;

/** A run ID: one path segment, as a plain name but for the colons of a scheduled time. */
export function checkRunId(runId: string): void {
  if (!RUN_ID.test(runId)) {
    throw new InputError(
      'runId',
      `'${runId}' is not a valid run ID`,
      'letters, digits, ".", "_", ":" and "-", starting with a letter or digit',
    );
  }
}

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** JSON with object keys sorted at every level, so equal values give equal text (and equal hashes). */
export function stableStringify(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)),
    );
  });
}

/**
 * A set of objects under one key prefix of a store, each with a digest sidecar written right after the
 * object. Several writers may put different objects at once: nothing shared is read-modified-written.
 * An object whose sidecar is missing (writer died between the two puts) reads as unverified.
 */
export class DigestedArea {
  constructor(
    readonly store: ArtifactStore,
    /** Ends with '/', e.g. 'runs/2024-05-01-abc/'. */
    readonly prefix: string,
  ) {}

  async put(name: string, body: Uint8Array | string | AsyncIterable<Uint8Array>): Promise<ObjectDigest> {
    this.checkName(name);
    let record: ObjectDigest;
    if (typeof body === 'string' || body instanceof Uint8Array) {
      const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
      await this.store.put(this.prefix + name, bytes);
      record = { name, size: bytes.length, sha256: sha256Hex(bytes) };
    } else {
      const hash = createHash('sha256');
      const counted = { size: 0 };
      await this.store.put(this.prefix + name, hashing(body, hash, counted));
      record = { name, size: counted.size, sha256: hash.digest('hex') };
    }
    await this.store.put(this.sidecarKey(name), JSON.stringify(record));
    return record;
  }

  async putJson(name: string, value: unknown): Promise<ObjectDigest> {
    return this.put(name, `${JSON.stringify(value, null, 2)}\n`);
  }

  /** Reads an object and checks it against its sidecar; throws ArtifactIntegrityError on any mismatch. */
  async get(name: string): Promise<Uint8Array> {
    this.checkName(name);
    const [bytes, record] = await Promise.allSettled([
      this.store.get(this.prefix + name),
      this.digestOf(name),
    ]);
    // A missing object is missing (ArtifactNotFoundError), whichever of the two reads failed first.
    if (bytes.status === 'rejected') throw bytes.reason;
    if (record.status === 'rejected') throw record.reason;
    checkBytes(bytes.value, record.value, this.uriOf(name));
    return bytes.value;
  }

  async getJson<T>(name: string): Promise<T> {
    const text = new TextDecoder().decode(await this.get(name));
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      throw new ArtifactIntegrityError(this.uriOf(name), `not valid JSON (${(error as Error).message})`);
    }
  }

  async exists(name: string): Promise<boolean> {
    this.checkName(name);
    return this.store.exists(this.prefix + name);
  }

  /** The recorded digest of one object; ArtifactIntegrityError when none was recorded or it is unreadable. */
  async digestOf(name: string): Promise<ObjectDigest> {
    const uri = this.uriOf(name);
    const key = this.sidecarKey(name);
    if (!(await this.store.exists(key)))
      throw new ArtifactIntegrityError(uri, 'no digest was recorded for it');
    let record: Partial<ObjectDigest>;
    try {
      record = JSON.parse(new TextDecoder().decode(await this.store.get(key))) as Partial<ObjectDigest>;
    } catch (error) {
      throw new ArtifactIntegrityError(uri, `its digest record is unreadable (${(error as Error).message})`);
    }
    if (record.name !== name || typeof record.size !== 'number' || typeof record.sha256 !== 'string') {
      throw new ArtifactIntegrityError(uri, 'its digest record is malformed');
    }
    return record as ObjectDigest;
  }

  /** Names of the objects under `under` (relative to the area) that have a digest recorded, sorted. */
  async namesWithDigest(under = ''): Promise<string[]> {
    const keys = await this.store.list(this.prefix + DIGESTS + under);
    return keys
      .filter((key) => key.endsWith(SIDECAR_SUFFIX))
      .map((key) => key.slice(this.prefix.length + DIGESTS.length, -SIDECAR_SUFFIX.length))
      .sort();
  }

  /** Names of the objects stored under `under`, sidecars excluded, sorted. */
  async names(under = ''): Promise<string[]> {
    const keys = await this.store.list(this.prefix + under);
    return keys
      .map((key) => key.slice(this.prefix.length))
      .filter((name) => !name.startsWith(DIGESTS))
      .sort();
  }

  uriOf(name: string): string {
    return this.store.uriOf(this.prefix + name);
  }

  private sidecarKey(name: string): string {
    return `${this.prefix}${DIGESTS}${name}${SIDECAR_SUFFIX}`;
  }

  private checkName(name: string): void {
    checkKey(name);
    if (name.startsWith(DIGESTS)) {
      throw new InputError(
        'name',
        `'${name}' is reserved for digest records`,
        `any name not under ${DIGESTS}`,
      );
    }
  }
}

/** Throws ArtifactIntegrityError unless the bytes have the recorded size and SHA-256. */
export function checkBytes(
  bytes: Uint8Array,
  record: Pick<ObjectDigest, 'size' | 'sha256'>,
  uri: string,
): void {
  if (bytes.length !== record.size) {
    throw new ArtifactIntegrityError(uri, `size is ${bytes.length} bytes, recorded ${record.size}`);
  }
  const actual = sha256Hex(bytes);
  if (actual !== record.sha256) {
    throw new ArtifactIntegrityError(uri, `SHA-256 is ${actual}, recorded ${record.sha256}`);
  }
}

async function* hashing(
  source: AsyncIterable<Uint8Array>,
  hash: Hash,
  counted: { size: number },
): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    hash.update(chunk);
    counted.size += chunk.length;
    yield chunk;
  }
}
