import { fileURLToPath } from 'node:url';
import { InputError } from '../common/errors.js';
import { LocalArtifactStore } from './local-store.js';
import type { ArtifactStore } from './store.types.js';

export const STORE_URI_ALLOWED = 'a folder path, file://…, or s3://bucket/prefix';

/** Opens the store a URI names: a plain path or file://… is a local folder, s3://bucket/prefix is S3. */
export async function openStore(uri: string): Promise<ArtifactStore> {
  if (uri.trim() === '') throw new InputError('artifacts', 'is empty', STORE_URI_ALLOWED);
  if (uri.startsWith('s3://')) {
    // Loaded on demand so local runs never load the AWS SDK.
    return (await import('./s3-store.js')).S3ArtifactStore.fromUri(uri);
  }
  if (uri.startsWith('file://')) {
    let path: string;
    try {
      path = fileURLToPath(uri);
    } catch (error) {
      throw new InputError(
        'artifacts',
        `'${uri}' is not a usable file URI (${(error as Error).message})`,
        STORE_URI_ALLOWED,
      );
    }
    return new LocalArtifactStore(path);
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(uri)) {
    throw new InputError('artifacts', `'${uri}' has an unsupported scheme`, STORE_URI_ALLOWED);
  }
  return new LocalArtifactStore(uri);
}

export * from './cache.js';
export * from './digest.js';
export { checkKey, LocalArtifactStore } from './local-store.js';
export * from './run.js';
export * from './store.types.js';
