/**
 * Where a run's artifacts live: a local folder or an S3 prefix, chosen by URI.
 * Keys are '/'-separated relative paths ('runs/<id>/winner.json'). Every put is atomic:
 * a reader sees the old object or the new one, never half of one.
 */
export interface ArtifactStore {
  /** The store's own URI, e.g. 'file:///work/.spikenas/artifacts' or 's3://bucket/prefix'. */
  readonly uri: string;
  put(key: string, body: Uint8Array | string | AsyncIterable<Uint8Array>): Promise<void>;
  /** Throws ArtifactNotFoundError when absent. */
  get(key: string): Promise<Uint8Array>;
  exists(key: string): Promise<boolean>;
  /** Keys under a prefix, sorted. */
  list(prefix: string): Promise<string[]>;
  /** A URI that names one object: 'file:///…/key' or 's3://bucket/prefix/key'. */
  uriOf(key: string): string;
}

export class ArtifactNotFoundError extends Error {
  constructor(readonly uri: string) {
    super(`artifact not found: ${uri}`);
    this.name = 'ArtifactNotFoundError';
  }
}

/**
 * The store refuses access in a way no retry can fix: a missing bucket, denied access, missing or bad
 * credentials, the wrong region, or a local path that is not a writable folder. The message says what to
 * check; a search ends at once on it (workflows/index.ts lists it as non-retryable).
 */
export class ArtifactStoreAccessError extends Error {
  constructor(
    readonly code: string,
    readonly uri: string,
    message: string,
  ) {
    super(message);
    this.name = 'ArtifactStoreAccessError';
  }
}
