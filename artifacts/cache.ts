import {
  ArtifactIntegrityError,
  checkPlainName,
  DigestedArea,
  sha256Hex,
  stableStringify,
} from './digest.js';
import { ArtifactNotFoundError, type ArtifactStore } from './store.types.js';

/**
 * A content-addressed key: SHA-256 over the stable JSON of its parts, e.g.
 * cacheKey({ dataset: fingerprint, config, seed }) for operation-impact results.
 */
export function cacheKey(parts: unknown): string {
  return sha256Hex(stableStringify(parts));
}

/**
 * Results reusable across runs, at cache/<kind>/<key>.json with a digest sidecar. A corrupt or
 * unverifiable entry is a miss (with a warning), so the caller recomputes and overwrites it.
 */
export class ArtifactCache {
  private readonly area: DigestedArea;
  private readonly warn: (message: string) => void;

  constructor(
    store: ArtifactStore,
    readonly kind: string,
    options: { warn?: (message: string) => void } = {},
  ) {
    checkPlainName('kind', kind);
    this.area = new DigestedArea(store, `cache/${kind}/`);
    this.warn = options.warn ?? ((message) => console.warn(message));
  }

  async get<T>(key: string): Promise<T | undefined> {
    try {
      return await this.area.getJson<T>(this.fileOf(key));
    } catch (error) {
      if (error instanceof ArtifactNotFoundError) return undefined;
      if (error instanceof ArtifactIntegrityError) {
        this.warn(`cache ${this.kind}/${key} ignored: ${error.message}`);
        return undefined;
      }
      throw error;
    }
  }

  async put(key: string, value: unknown): Promise<void> {
    await this.area.putJson(this.fileOf(key), value);
  }

  uriOf(key: string): string {
    return this.area.uriOf(this.fileOf(key));
  }

  private fileOf(key: string): string {
    checkPlainName('key', key);
    return `${key}.json`;
  }
}
